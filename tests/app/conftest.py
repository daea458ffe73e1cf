"""App tests: real widgets offscreen (QT_QPA_PLATFORM=offscreen from tests/conftest.py), a real
database per test, and any unexpected Qt warning fails the test."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "qt_allow(*patterns): Qt warnings this test may print")


@pytest.fixture(autouse=True)
def _qt_warnings_fail(fail_on_qt_warnings: list[str]) -> list[str]:
    return fail_on_qt_warnings

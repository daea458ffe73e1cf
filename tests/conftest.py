"""Shared fixtures. Every test gets a fresh data folder and database; nothing touches the user's
real data, keyring or screen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before Qt or keyring are imported anywhere.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
for var in (
    "LOSSY_DATA_DIR",
    "LOSSY_PLATFORM_BASE",
    "BROWSERBASE_API_KEY",
    "BROWSERBASE_PROJECT_ID",
    "BROWSERBASE_BASE_URL",
):
    os.environ.pop(var, None)

from lossy_desktop.core.clock import FakeClock  # noqa: E402
from lossy_desktop.services import Services  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(data_dir: Path) -> Iterator[Services]:
    with Services.open(data_dir) as svc:
        yield svc


@pytest.fixture
def fake_services(data_dir: Path, clock: FakeClock) -> Iterator[Services]:
    """Services on a fresh database with a clock that moves only when the test says."""
    with Services.open(data_dir, clock=clock) as svc:
        yield svc


# -- the offline sandbox (lossy_desktop/sandbox): one server per test session, reset per test ----
@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[object]:
    from lossy_desktop.sandbox.server import SandboxServer

    with SandboxServer(port=0) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: object) -> Iterator[object]:
    """The running sandbox (`SandboxServer`), with no videos, comments, logins or faults."""
    sandbox_server.reset()  # type: ignore[attr-defined]
    yield sandbox_server
    sandbox_server.reset()  # type: ignore[attr-defined]

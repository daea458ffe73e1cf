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

from strict_skips import (  # noqa: E402, F401  (hooks: a skip fails a strict run, see there)
    pytest_collectreport,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

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


# -- Qt: unexpected warnings fail the test (used autouse by tests/app/conftest.py) -------------
# Harmless lines on machines without a GPU or a desktop session, and QtWebEngine's GPU noise.
QT_ALLOWED_MESSAGES = [
    r"Failed to create RHI",
    r"(?i)\bGL context\b",
    r"(?i)\bopengl\b",
    r"(?i)\bgpu\b",
    r"(?i)\bvulkan\b",
    r"(?i)QRhi",
    r"This plugin does not support propagateSizeHints",
    r"This plugin does not support raise\(\)",
    r"This plugin does not support setParent",
    r"This plugin does not support grabbing the (keyboard|mouse)",
    r"(?i)xdg_runtime_dir",
    r"(?i)QStandardPaths: .*runtime",
    r"(?i)Could not connect to any X display",
    r"(?i)qt\.qpa\.(theme|services|xcb\.glx)",
]


@pytest.fixture
def fail_on_qt_warnings(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Fail the test when Qt prints a warning or critical message not allow-listed above.

    Extra patterns for one test: `@pytest.mark.qt_allow(r"regex", ...)`.
    Yields the list of allowed patterns (a test may append to it)."""
    import re

    qtlog = request.getfixturevalue("qtlog")
    from PySide6.QtCore import QtMsgType

    allowed = list(QT_ALLOWED_MESSAGES)
    for marker in request.node.iter_markers("qt_allow"):
        allowed += list(marker.args)
    yield allowed
    bad = [
        f"{record.type_name}: {record.message}"
        for record in qtlog.records
        if record.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
        and not any(re.search(pattern, record.message) for pattern in allowed)
    ]
    if bad:
        pytest.fail("unexpected Qt warnings:\n" + "\n".join(bad), pytrace=False)


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

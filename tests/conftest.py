"""Shared fixtures. Every test gets a fresh data folder and database; nothing touches the user's
real data, keyring or screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
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

from display import start_xvfb  # noqa: E402
from fixtures import (  # noqa: E402, F401  (shared fixtures, registered here)
    bb_env,
    engine,
    memory_keyring,
    on_sandbox,
)
from strict_skips import (  # noqa: E402, F401  (hooks: a skip fails a strict run, see there)
    pytest_collectreport,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

from lossy_desktop.core.clock import FakeClock  # noqa: E402
from lossy_desktop.services import Services  # noqa: E402

# What the app reads from the environment and a command run in-process may set
# (`--platform-base` sets LOSSY_PLATFORM_BASE; the demo points Browserbase at its sandbox).
APP_ENVIRONMENT = (
    "LOSSY_DATA_DIR",
    "LOSSY_PLATFORM_BASE",
    "BROWSERBASE_API_KEY",
    "BROWSERBASE_PROJECT_ID",
    "BROWSERBASE_BASE_URL",
)


@pytest.fixture(autouse=True)
def _app_environment_per_test() -> Iterator[None]:
    """Each test starts with the app's environment as the session began: a CLI command a test
    runs in-process cannot leak its settings into the next test."""
    saved = {key: os.environ.get(key) for key in APP_ENVIRONMENT}
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


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


# -- the app's browsers: a real X display, and what their processes listen on ---------------


@pytest.fixture(scope="module")
def xvfb_display() -> Iterator[str]:
    """A real X display (Xvfb) for browser windows, with xdotool to act on them as a person
    does. The test sets DISPLAY itself (monkeypatch) so only it sees the display."""
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (scripts/bootstrap.sh --test installs them)")
    proc, display = start_xvfb()
    yield display
    proc.kill()
    proc.wait(10)


class BrowserTreeWatch:
    """Samples, on a thread, every process whose --user-data-dir is under `root` (the app's
    browsers: main process, renderers, GPU, network service) and records any TCP socket one of
    them listens on, for as long as the watch runs."""

    def __init__(self, root: Path) -> None:
        self.prefix = f"--user-data-dir={root.resolve()}"
        self.pids: set[int] = set()
        self.listening: list[tuple[int, str, int]] = []
        self.cmdlines: dict[int, list[str]] = {}
        self.parents: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="browser-tree-watch", daemon=True)

    def sample(self) -> None:
        for proc in psutil.process_iter(["cmdline"]):
            try:
                cmdline = proc.info["cmdline"] or []
                if not any(arg.startswith(self.prefix) for arg in cmdline):
                    continue
                self.pids.add(proc.pid)
                self.cmdlines[proc.pid] = list(cmdline)  # the latest (after an exec)
                self.parents[proc.pid] = proc.ppid()
                for conn in proc.net_connections(kind="tcp"):
                    if conn.status == psutil.CONN_LISTEN and conn.laddr:
                        self.listening.append((proc.pid, conn.laddr.ip, conn.laddr.port))
            except psutil.Error:
                continue

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.05)

    def __enter__(self) -> BrowserTreeWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def main_cmdlines(self) -> list[list[str]]:
        """Command lines of the browser processes themselves (not renderers or helpers): no
        --type=, and not started by one of the watched processes. (A child the browser forks
        carries the browser's command line until it execs; sampled in that moment, then exec'd
        into another program, it would otherwise pass for a second browser.)"""
        return [
            c
            for pid, c in self.cmdlines.items()
            if not any(a.startswith("--type=") for a in c)
            and self.parents.get(pid) not in self.pids
        ]


@pytest.fixture
def browser_tree_watch() -> type[BrowserTreeWatch]:
    return BrowserTreeWatch


# Window titles: a platform's home, and its sign-in page (whose name field has autofocus).
WINDOW_TITLES = {
    "youtube": ("YouTube", "Sign in - Google Accounts"),
    "vimeo": ("Vimeo", "Log in to Vimeo"),
    "air": ("Air", "Sign in · Air"),
}


class Person:
    """Acts on the browser windows of an X display with the keyboard (xdotool: XTEST), as a
    person does. Nothing is injected into the browser."""

    def __init__(self, display: str) -> None:
        self.display = display

    def xdotool(self, *args: str) -> str:
        env = {**os.environ, "DISPLAY": self.display}
        done = subprocess.run(
            ["xdotool", *args], capture_output=True, text=True, timeout=30, env=env
        )
        return done.stdout.strip()

    def wait_for(self, predicate: Any, what: str, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)  # polling X windows / another process: there is no event to wait on
        shot = Path(tempfile.mkdtemp(prefix="lossy-xvfb-")) / "screen.png"
        if shutil.which("import"):
            env = {**os.environ, "DISPLAY": self.display}
            subprocess.run(["import", "-window", "root", str(shot)], env=env, check=False)
        pytest.fail(f"timed out waiting for {what} (the screen: {shot})")

    @staticmethod
    def wait_until(predicate: Any, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.1)  # polling X windows: there is no event to wait on
        return False

    def window_named(self, name: str) -> str:
        found = self.wait_for(
            lambda: self.xdotool("search", "--onlyvisible", "--name", name),
            f"a window named {name!r}",
        )
        return str(found.split()[0])

    def log_in(self, sandbox: Any, platform: str, account: str) -> None:
        """In the browser window the app opened on the platform: go to the sign-in page through
        the address bar, type the account name, press Enter; wait for the form to be posted."""
        home_title, sign_in_title = WINDOW_TITLES[platform]
        window = self.window_named(home_title)

        def on_sign_in_page() -> bool:
            return sign_in_title in self.xdotool("getwindowname", window)

        def open_sign_in_page() -> None:
            for _attempt in range(3):  # a window just mapped may miss the first keystrokes
                self.xdotool("windowfocus", "--sync", window)
                self.xdotool("key", "--clearmodifiers", "ctrl+l")
                self.xdotool("type", "--delay", "15", sandbox.login_url(platform))
                self.xdotool("key", "Return")
                if self.wait_until(on_sign_in_page):
                    return

        def posted() -> bool:
            return any(s["account"] == account for s in sandbox.sign_ins())

        for _attempt in range(3):  # keystrokes sent while the page settles can be lost
            if not on_sign_in_page():  # also after a post whose name lost letters
                open_sign_in_page()
            sign_in = self.window_named(sign_in_title)  # the title changes once it loaded
            self.xdotool("windowfocus", "--sync", sign_in)
            self.xdotool("key", "--clearmodifiers", "ctrl+a")  # the name field has the focus
            self.xdotool("type", "--delay", "15", account)
            self.xdotool("key", "Return")
            if self.wait_until(posted):
                break
        self.wait_for(posted, "the sign-in form post")

    def close_window(self) -> None:
        """Close the focused browser window (Ctrl+Shift+W), as the user does when done."""
        self.xdotool("key", "--clearmodifiers", "ctrl+shift+w")


@pytest.fixture
def person(xvfb_display: str, monkeypatch: pytest.MonkeyPatch) -> Person:
    """The X display is this test's (DISPLAY set: the app opens windows there), and a person
    at its keyboard."""
    monkeypatch.setenv("DISPLAY", xvfb_display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return Person(xvfb_display)


# -- order: the longest modules first ----------------------------------------------------------
# scripts/test.sh runs the suite on two workers (pytest-xdist, --dist loadfile: a module's tests
# stay together, in their order, on one worker) that take the modules in collection order.
# Starting the longest ones first lets both workers finish together instead of one of them
# starting the fault soak last. Only the order of whole modules changes; measured with
# `--durations`, longest first.
LONGEST_MODULES = (
    "tests/reliability/test_fault_soak.py",
    "tests/reliability/test_crash.py",
    "tests/reliability/test_secrets.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_MODULES.index(path) if path in LONGEST_MODULES else len(LONGEST_MODULES)

    items.sort(key=rank)  # stable: the order inside each module and of the rest stays

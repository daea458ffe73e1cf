"""`lossy-desktop --self-test`: checks that this installation (source or frozen bundle) works.

It never touches the user's data folder, keyring entries or screen. Each check prints one line,
`ok`, `FAIL` or `warn` (a warning is reported but never fails the run), and the exit code is 0
only when every required check passed. The packaged Linux bundle is smoke-tested with it in CI
(scripts/package-smoke.sh) from a clean folder with a minimal environment.

Checks, in order:
  python      the interpreter and whether this is a frozen bundle
  database    a temporary SQLite database is created and migrated to Alembic's head
  resources   the app icon (SVG and PNG) and the tray icons load through Qt's image plugins
  qt          a QApplication starts on the offscreen platform
  webengine   a QWebEngineView loads a data: page and runs JavaScript in it
  keyring     which OS keyring backend is in use (reported, never fails)
  browser     an installed Chromium/Chrome/Edge is found and reports its version
  playwright  Playwright's Node.js driver is present and starts
  cdp         the browser is started headless and driven by Playwright through a pipe (CDP over
              --remote-debugging-pipe, no TCP port, navigator.webdriver false), as the app does
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lossy_desktop import __version__

APP_RESOURCES = Path(__file__).resolve().with_name("app") / "resources"
ICON_DIR = APP_RESOURCES / "icons"
WEBENGINE_TIMEOUT_S = 60.0
BROWSER_TIMEOUT_S = 30.0


@dataclass
class Result:
    name: str
    status: str  # "ok" | "FAIL" | "warn"
    detail: str


class Failed(Exception):
    """A required check failed; the message says what is wrong and, if possible, what to do."""


class Warned(Exception):
    """A check that only reports found something worth saying, but not a failure."""


@dataclass
class Context:
    tmp: Path
    browser: str | None = None


def _line(result: Result) -> str:
    return f"{result.status:<5} {result.name:<11} {result.detail}"


# -- checks ----------------------------------------------------------------------------------
def check_python(ctx: Context) -> str:
    frozen = getattr(sys, "frozen", False)
    where = f"frozen bundle at {Path(sys.executable).parent}" if frozen else sys.executable
    return (
        f"lossy-desktop {__version__}, Python {platform.python_version()} "
        f"on {platform.system()} {platform.machine()}, {where}"
    )


def check_database(ctx: Context) -> str:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from lossy_desktop.core.db import MIGRATIONS_DIR, Database

    path = ctx.tmp / "data" / "lossy.sqlite3"
    path.parent.mkdir(parents=True)
    db = Database.open(path)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        head = ScriptDirectory.from_config(cfg).get_current_head()
        with db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            tables = conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).scalar()
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        if current is None or current != head:
            raise Failed(f"migrated to {current!r}, expected Alembic head {head!r}")
        with db.write() as session:
            session.connection().exec_driver_sql("CREATE TABLE selftest_probe (x INTEGER)")
            session.connection().exec_driver_sql("INSERT INTO selftest_probe VALUES (42)")
        with db.read() as session:
            value = session.connection().exec_driver_sql("SELECT x FROM selftest_probe").scalar()
        if value != 42:
            raise Failed(f"wrote 42 to the database and read back {value!r}")
    finally:
        db.dispose()
    return f"temporary database migrated to {head} ({tables} tables, journal {mode})"


def check_qt(ctx: Context) -> str:
    from PySide6 import QtCore
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([sys.argv[0], "-platform", "offscreen"])
    platform = QApplication.platformName()  # a static method; `_app` keeps the application
    return f"Qt {QtCore.qVersion()}, PySide6 {_pyside_version()}, platform {platform}"


def check_resources(ctx: Context) -> str:
    from PySide6.QtGui import QImage, QImageReader

    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    if "svg" not in formats:
        raise Failed("Qt's SVG image plugin is missing (imageformats/qsvg)")
    wanted = [ICON_DIR / "app.svg", ICON_DIR / "app-256.png"]
    wanted += [
        ICON_DIR / f"tray-{state}-{panel}.png"
        for state in ("idle", "posting", "attention")
        for panel in ("light", "dark")
    ]
    missing = [p.name for p in wanted if not p.is_file()]
    if missing:
        raise Failed(f"icons missing from {ICON_DIR}: {', '.join(missing)}")
    for path in wanted:
        image = QImage(str(path))
        if image.isNull() or image.width() < 16:
            raise Failed(f"{path.name} does not load as an image")
    return f"{len(wanted)} icons load (app.svg, app-256.png, 6 tray icons)"


def check_webengine(ctx: Context) -> str:
    from PySide6.QtCore import QEventLoop, QTimer, QUrl
    from PySide6.QtWebEngineCore import QWebEngineProfile
    from PySide6.QtWebEngineWidgets import QWebEngineView

    profile = QWebEngineProfile()  # off the record: writes nothing to disk
    view = QWebEngineView(profile)
    loop = QEventLoop()
    outcome: dict[str, Any] = {}

    def finished(ok: bool) -> None:
        outcome["loaded"] = ok
        if ok:
            view.page().runJavaScript("document.title + ':' + (6 * 7)", 0, got_title)
        else:
            loop.quit()

    def got_title(value: object) -> None:
        outcome["js"] = value
        loop.quit()

    view.loadFinished.connect(finished)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(WEBENGINE_TIMEOUT_S * 1000))
    started = time.monotonic()
    view.resize(320, 200)
    view.setUrl(QUrl("data:text/html,<title>lossy-self-test</title><p>self-test</p>"))
    loop.exec()
    elapsed = time.monotonic() - started
    timer.stop()
    view.loadFinished.disconnect(finished)
    view.setPage(None)  # type: ignore[arg-type]
    view.deleteLater()
    if "loaded" not in outcome:
        raise Failed(
            f"QWebEngineView did not finish loading a data: page in {WEBENGINE_TIMEOUT_S:g} s"
        )
    if not outcome["loaded"]:
        raise Failed("QWebEngineView failed to load a data: page")
    if outcome.get("js") != "lossy-self-test:42":
        raise Failed(f"JavaScript in QWebEngineView returned {outcome.get('js')!r}")
    from PySide6 import QtWebEngineCore

    chromium = getattr(QtWebEngineCore, "qWebEngineChromiumVersion", lambda: "?")()
    return (
        f"QWebEngineView loaded a data: page and ran JavaScript in {elapsed:.1f} s "
        f"(Chromium {chromium})"
    )


def check_keyring(ctx: Context) -> str:
    import keyring
    from keyring.backend import get_all_keyring

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    viable = sorted(
        {type(b).__module__.rsplit(".", 1)[-1] for b in get_all_keyring()} - {"chainer"}
    )
    found = f"backend {name}; available: {', '.join(viable) or 'none'}"
    if name.startswith(("keyring.backends.fail", "keyring.backends.null")):
        raise Warned(
            f"{found} — no OS keyring: the Browserbase key can't be stored (start GNOME Keyring "
            "or KWallet, or set BROWSERBASE_API_KEY)"
        )
    return found


def _find_browser() -> str:
    """The browser the app would use (automation.chromium.find_browser), or Failed saying why."""
    from lossy_desktop.automation.chromium import BrowserNotFound, find_browser

    try:
        return str(find_browser())
    except BrowserNotFound as error:
        raise Failed(f"{error} Or use Browserbase instead (Settings → Browserbase key).")


def check_browser(ctx: Context) -> str:
    path = _find_browser()
    ctx.browser = path
    if sys.platform == "win32":
        # chrome.exe/msedge.exe --version opens a window instead of printing; the cdp check runs it
        return path
    try:
        out = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=BROWSER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Failed(f"{path} does not run: {error}")
    version = (out.stdout or out.stderr).strip().splitlines()
    if out.returncode != 0 or not version:
        raise Failed(f"{path} --version exited {out.returncode}")
    return f"{path} ({version[-1]})"


def check_playwright(ctx: Context) -> str:
    from playwright._impl._driver import compute_driver_executable
    from playwright.sync_api import sync_playwright

    node, cli = compute_driver_executable()
    for part in (node, cli):
        if not Path(part).is_file():
            raise Failed(f"Playwright driver file missing: {part}")
    started = time.monotonic()
    with sync_playwright() as pw:
        chromium = pw.chromium.name
    elapsed = time.monotonic() - started
    return f"driver {Path(node).parent} started and stopped in {elapsed:.1f} s ({chromium})"


def check_cdp(ctx: Context) -> str:
    if ctx.browser is None:
        raise Failed("skipped: no browser found")
    from playwright.sync_api import sync_playwright

    from lossy_desktop.automation.chromium import (
        AUTOMATION_DEFAULTS_DROPPED,
        BASE_ARGS,
        NOT_AUTOMATED,
        crash_args,
    )

    profile = ctx.tmp / "profile"
    profile.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=ctx.browser,
            headless=True,
            args=[*BASE_ARGS, *crash_args(profile), NOT_AUTOMATED],
            ignore_default_args=list(AUTOMATION_DEFAULTS_DROPPED),
            timeout=BROWSER_TIMEOUT_S * 1000,
        )
        try:
            page = context.new_page()
            page.set_content("<title>cdp</title><button id=b>Comment</button>")
            name = page.get_by_role("button", name="Comment").inner_text(timeout=10_000)
            webdriver = page.evaluate("navigator.webdriver")
            page.close()
        finally:
            context.close()
    elapsed = time.monotonic() - started
    if name != "Comment":
        raise Failed(f"a page driven through the pipe returned {name!r}")
    if webdriver is not False:
        raise Failed(
            "the browser says it is automated (navigator.webdriver): sign-ins would refuse it"
        )
    return f"Playwright drove the headless browser through a pipe in {elapsed:.1f} s"


CHECKS: list[tuple[str, Callable[[Context], str], bool]] = [
    # (name, check, required)
    ("python", check_python, True),
    ("database", check_database, True),
    ("qt", check_qt, True),
    ("resources", check_resources, True),
    ("webengine", check_webengine, True),
    ("keyring", check_keyring, False),
    ("browser", check_browser, True),
    ("playwright", check_playwright, True),
    ("cdp", check_cdp, True),
]


def _pyside_version() -> str:
    import PySide6

    return str(getattr(PySide6, "__version__", "?"))


def _prepare_environment() -> None:
    """Offscreen Qt; QtWebEngine's sandbox cannot run as root; keyring untouched."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
    # Qt's "no GPU" warnings are noise here; real failures are reported by the checks.
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false;qt.webenginecontext=false")


def run(only: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Run the checks (all, or those named in `only`); print a line each; 0 if all required pass."""
    _prepare_environment()
    results: list[Result] = []
    required_failed = False
    out(f"lossy-desktop {__version__} self-test")
    with tempfile.TemporaryDirectory(prefix="lossy-selftest-") as tmp:
        ctx = Context(tmp=Path(tmp))
        for name, check, required in CHECKS:
            if only and name not in only:
                continue
            try:
                result = Result(name, "ok", check(ctx))
            except Warned as warning:
                result = Result(name, "warn", str(warning))
            except Failed as failure:
                result = Result(name, "FAIL" if required else "warn", str(failure))
            except Exception as error:  # the self-test reports every failure, never crashes
                text = f"{type(error).__name__}: {error}".strip().splitlines()
                result = Result(name, "FAIL" if required else "warn", " ".join(text)[:500])
            if result.status == "FAIL":
                required_failed = True
            results.append(result)
            out(_line(result))
            sys.stdout.flush()
    passed = sum(r.status == "ok" for r in results)
    failed = sum(r.status == "FAIL" for r in results)
    warned = sum(r.status == "warn" for r in results)
    verdict = "FAILED" if required_failed else "passed"
    out(f"self-test {verdict}: {passed} ok, {failed} failed, {warned} warnings")
    return 1 if required_failed else 0


CHECK_NAMES = [name for name, _check, _required in CHECKS]

"""The connect dialog: log in to a platform inside the app.

A login browser starts through lossy_desktop.workers.connect.LoginFlow (on the automation engine;
every call runs on a QThreadPool, results come back to slots here). Browserbase's live view is
embedded in a QWebEngineView. The local provider opens an ordinary browser window on the
connection's profile instead (no debugging port, no automation: sign-in pages accept it) and the
dialog says what to do there; it notices the window being closed, checks the login headless and
shows "Connected as …". There is no view of a local browser in the app.

The dialog notices the login by itself (a check every few seconds, reading the page's own
signs) and also offers "I've logged in — verify". Browserbase's view of a page posts
"browserbase-disconnected" to its parent (a small wrapper page catches it, from the live view's
own origin only) when that page's view ends — a tab opened, or the session ended. Either that
or a tab change seen by the check reloads the view for the current page (the live view asked
for again); only when that fails has the session ended, which is said in plain words.

The live-view URL carries a token: it is never logged, shown, or put on the clipboard (the
view has no context menu). QtWebEngine is imported only when this dialog first shows a view.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.app.concurrency import BackgroundTasks
from lossy_desktop.core.platforms import get_platform

if TYPE_CHECKING:
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.app")

CHECK_INTERVAL_MS = 3000
DISCONNECT_MARKER = "lossy:browserbase-disconnected"

WRAPPER = """<!doctype html>
<html><head><meta charset="utf-8">
<style>html,body{{margin:0;padding:0;height:100%;overflow:hidden;background:#1f2937}}
iframe{{border:0;width:100%;height:100%;display:block}}</style></head>
<body><iframe id="live" src="{src}" allow="clipboard-read; clipboard-write"></iframe>
<script>
window.addEventListener("message", function (event) {{
  if (event.origin !== "{origin}") {{ return; }}  /* only the live view's own messages */
  if (event.data === "browserbase-disconnected") {{ console.log("{marker}"); }}
}});
</script></body></html>
"""


def viewable(live_view_url: str) -> str:
    """Chromium's own DevTools front end shows the page itself (a screencast with an address
    bar, clicks and typing go through) only in its remote-front-end mode: ask for it."""
    if "/devtools/inspector.html" in live_view_url and "remoteFrontend=" not in live_view_url:
        joiner = "&" if "?" in live_view_url else "?"
        return f"{live_view_url}{joiner}remoteFrontend=true"
    return live_view_url


def view_origin(live_view_url: str) -> str:
    """The origin (scheme://host[:port]) messages from the live view come from."""
    parts = urlsplit(live_view_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}".lower()
    return "null"  # data:, about: and the like have an opaque origin


def wrapper_html(live_view_url: str) -> str:
    """The page that frames the live view and reports its 'browserbase-disconnected' message
    (from the live view's origin only)."""
    return WRAPPER.format(
        src=html.escape(live_view_url, quote=True),
        marker=DISCONNECT_MARKER,
        origin=json.dumps(view_origin(live_view_url))[1:-1],
    )


_live_view: Any = None


def live_view_class() -> Any:
    """The embedded view's class; importing QtWebEngine happens here, on first use."""
    global _live_view
    if _live_view is not None:
        return _live_view
    from PySide6.QtCore import Qt, QUrl
    from PySide6.QtWebEngineCore import QWebEnginePage
    from PySide6.QtWebEngineWidgets import QWebEngineView

    class _Page(QWebEnginePage):
        def __init__(self, on_marker: Callable[[], None], parent: QWidget) -> None:
            super().__init__(parent)  # the default profile: off the record, nothing on disk
            self._on_marker = on_marker

        def javaScriptConsoleMessage(
            self, level: Any, message: str, line: int, source: str
        ) -> None:
            # Only our marker matters; nothing else is logged (it may carry the view's token).
            if message == DISCONNECT_MARKER:
                self._on_marker()

    class LiveView(QWebEngineView):
        sessionEnded = Signal()
        loadProblem = Signal(str)

        def __init__(self, parent: QWidget) -> None:
            super().__init__(parent)
            self.setObjectName("LiveView")
            self._page = _Page(self._marker, self)
            self.setPage(self._page)
            self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)  # no "copy link"
            self.loadFinished.connect(self._loaded)
            self._page.renderProcessTerminated.connect(self._crashed)

        def show_live_view(self, url: str) -> None:
            self.setHtml(wrapper_html(viewable(url)), QUrl("http://127.0.0.1/"))

        def clear(self) -> None:
            self.setHtml("<html><body style='background:#1f2937'></body></html>")

        @Slot()
        def _marker(self) -> None:
            self.sessionEnded.emit()

        @Slot(bool)
        def _loaded(self, ok: bool) -> None:
            if not ok:
                self.loadProblem.emit("The live view did not load. Press “Refresh view”.")

        @Slot(object, int)
        def _crashed(self, _status: Any, _code: int) -> None:
            self.loadProblem.emit("The live view stopped. Press “Refresh view”.")

    _live_view = LiveView
    return LiveView


def _plain(error: Exception, platform: str) -> str:
    """One plain sentence for the user; the technical text goes to the log only."""
    from lossy_desktop.automation.errors import classify, connect_problem

    log.warning("connect %s: %s", platform, classify(error))
    return connect_problem(error, platform)


class ConnectDialog(QDialog):
    """Log in to `platform` with `provider` ("local" / "browserbase") on `engine`, the app's
    one AutomationEngine (QueueController.ensure_engine).

    `flow_factory(services, engine, platform, provider, headless)` makes the LoginFlow
    (default: lossy_desktop.workers.connect.LoginFlow); `embed` forces the embedded view on or
    off for Browserbase (default: on); the local provider never embeds (its login is an
    ordinary browser window)."""

    stateChanged = Signal(str)  # starting, waiting, checking, connected, ended, error, cancelled
    connected = Signal(object)  # LoginState

    def __init__(
        self,
        services: Services,
        platform: str,
        *,
        provider: str | None = None,
        engine: Any = None,
        parent: QWidget | None = None,
        flow_factory: Callable[..., Any] | None = None,
        embed: bool | None = None,
        check_interval_ms: int = CHECK_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        if engine is None and flow_factory is None:
            raise ValueError("ConnectDialog needs the app's AutomationEngine (or a flow_factory)")
        self.services = services
        self.platform = platform
        self.label = get_platform(platform).label
        self.provider = provider or str(services.settings.get("provider"))
        self._engine = engine
        self._flow_factory = flow_factory
        # Only Browserbase has a view to embed; a local login is an ordinary browser window.
        self.embed = self.provider != "local" and (embed is None or embed)
        self.flow: Any = None
        self.state = "idle"
        self.view: Any = None
        self._checking = False
        self._closing = False
        self.view_disconnects = 0  # "browserbase-disconnected" messages accepted
        self.tasks = BackgroundTasks(self)
        self.setWindowTitle(f"Connect {self.label}")
        self.setObjectName("ConnectDialog")
        # Browserbase's login is shown inside; a local login happens in a browser window of its
        # own, which a large dialog would only cover.
        self.resize(*((1100, 780) if self.embed else (620, 340)))

        self.headline = QLabel(f"Log in to {self.label}")
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.headline.setFont(font)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("status")
        self.stack = QStackedWidget()
        self.placeholder = QLabel()
        self.placeholder.setWordWrap(True)
        self.placeholder.setMargin(40)
        self.placeholder.setStyleSheet("font-size: 15px; color: palette(dark);")
        self.stack.addWidget(self.placeholder)

        self.verify_button = QPushButton("I've logged in — verify")
        self.verify_button.setDefault(True)
        self.verify_button.clicked.connect(self.verify_now)
        self.refresh_button = QPushButton("Refresh view")
        self.refresh_button.setToolTip("Opened a new tab? Show the browser's newest tab")
        self.refresh_button.clicked.connect(self.refresh_view)
        self.retry_button = QPushButton("Start again")
        self.retry_button.clicked.connect(self.restart)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.verify_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.addWidget(self.headline)
        layout.addWidget(self.status)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)

        self.timer = QTimer(self)
        self.timer.setInterval(check_interval_ms)
        self.timer.timeout.connect(self._poll)
        self._set_state("idle", "")

    # -- state ---------------------------------------------------------------------------------

    def _set_state(self, state: str, message: str) -> None:
        self.state = state
        self.status.setText(message)
        active = state in ("waiting", "checking")
        self.verify_button.setEnabled(active)
        self.refresh_button.setVisible(self.embed)
        self.refresh_button.setEnabled(active)
        self.retry_button.setVisible(state in ("ended", "error"))
        self.cancel_button.setText("Done" if state == "connected" else "Cancel")
        colour = {"error": "#b91c1c", "ended": "#b45309", "connected": "#065f46"}.get(state)
        self.status.setStyleSheet(f"color: {colour};" if colour else "")
        self.stateChanged.emit(state)

    def _make_flow(self) -> Any:
        headless = self.embed  # a real window only where the dialog does not embed
        if self._flow_factory is not None:
            return self._flow_factory(
                self.services, self._engine, self.platform, self.provider, headless
            )
        from lossy_desktop.workers.connect import LoginFlow

        assert self._engine is not None  # checked in __init__
        return LoginFlow(
            self.services, self._engine, self.platform, provider=self.provider, headless=headless
        )

    # -- start ---------------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        via = "Browserbase" if self.provider == "browserbase" else "this computer's Chromium"
        self.placeholder.setText(f"Starting a browser ({via})…")
        self.stack.setCurrentWidget(self.placeholder)
        self._set_state("starting", f"Starting a browser for {self.label}…")
        self.flow = self._make_flow()
        flow = self.flow
        self.tasks.run("start", flow.start, self._started, self._failed)

    def _started(self, live_view_url: str | None) -> None:
        if self._closing:
            return
        if self.embed and live_view_url:
            self._show_live_view(live_view_url)
            self._set_state(
                "waiting",
                f"Log in to {self.label} in the browser below. Lossy notices when you are "
                "logged in.",
            )
        else:
            self.placeholder.setText(
                f"A browser window opened on {self.label}.\n\n"
                f"1. Log in to {self.label} there, as you always do.\n"
                "2. Close that browser window when you are logged in.\n\n"
                "Lossy then checks the login by itself and shows who is connected. "
                "(Or press “I've logged in — verify”: it closes the window for you.)"
            )
            self._set_state(
                "waiting",
                f"Log in to {self.label} in the browser window, then close it.",
            )
        self.timer.start()

    def _show_live_view(self, url: str) -> None:
        if self.view is None:
            self.view = live_view_class()(self)
            self.view.sessionEnded.connect(self._view_disconnected)
            self.view.loadProblem.connect(self._view_problem)
            self.stack.addWidget(self.view)
        self.view.show_live_view(url)
        self.stack.setCurrentWidget(self.view)

    # -- polling -------------------------------------------------------------------------------

    @Slot()
    def _poll(self) -> None:
        if self._checking or self.flow is None or self.state not in ("waiting", "checking"):
            return
        self._checking = True
        self.tasks.run("check", self.flow.check, self._checked, self._check_failed)

    def _checked(self, state: Any) -> None:
        self._checking = False
        if state.logged_in and self.state in ("waiting", "checking"):
            self._complete(state)
        elif self.embed and getattr(self.flow, "tabs_changed", False):
            self.refresh_view()  # a tab opened or closed: show the page the user is on

    def _check_failed(self, error: Exception) -> None:
        self._checking = False
        kind = getattr(error, "kind", None)
        if kind == "browser_unavailable":
            self._session_ended(_plain(error, self.platform) if not self.embed else "")
            return
        if not self.embed and kind == "network_error":
            # The window was closed and the headless check could not reach the platform.
            self._failed(error)
            return
        # A login form shows neither an account nor a sign-in link: not logged in yet.
        log.debug("login check for %s: %s", self.platform, type(error).__name__)

    @Slot()
    def verify_now(self) -> None:
        """The user says they are logged in: reload the platform's home and check there."""
        if self.flow is None:
            return
        self.timer.stop()
        self._set_state("checking", "Checking the login…")

        def done(state: Any) -> None:
            if state.logged_in:
                self._complete(state)
            else:
                saved = (
                    ""
                    if self.embed
                    else " (The browser saves a new login within half a minute, or at once "
                    "when you close its window.)"
                )
                self._set_state(
                    "waiting",
                    f"Not logged in to {self.label} yet. Finish logging in, then verify "
                    f"again.{saved}",
                )
                self.timer.start()

        def failed(error: Exception) -> None:
            if getattr(error, "kind", None) == "browser_unavailable":
                self._session_ended()
                return
            self._set_state("waiting", _plain(error, self.platform))
            self.timer.start()

        self.tasks.run("verify", self.flow.verify, done, failed)

    def _complete(self, state: Any) -> None:
        """Logged in: release the login browser (its login is saved), then say so."""
        self.timer.stop()
        self._set_state("checking", "Logged in — saving the login…")
        flow, self.flow = self.flow, None
        self.tasks.run("finish", flow.finish, lambda _view: self._connected(state), self._failed)

    def _connected(self, state: Any) -> None:
        who = f" as {state.account}" if state.account else ""
        self._set_state("connected", f"Connected to {self.label}{who}. You can close this window.")
        self.placeholder.setText(f"✓ Connected to {self.label}{who}.")
        self.stack.setCurrentWidget(self.placeholder)
        if self.view is not None:
            self.view.clear()
        self.connected.emit(state)

    @Slot()
    def refresh_view(self) -> None:
        if self.flow is None:
            return

        def done(url: str | None) -> None:
            if url and self.embed:
                self._show_live_view(url)

        self.tasks.run("refresh", self.flow.live_view_url, done, self._failed)

    @Slot()
    def _view_disconnected(self) -> None:
        """The live view of the page ended (a tab opened, or the session ended): ask for the
        view of the current page; only if there is none has the session ended."""
        self.view_disconnects += 1
        if self.flow is None or self.state not in ("waiting", "checking"):
            return

        def done(url: str | None) -> None:
            if url and self.embed:
                self._show_live_view(url)
            elif not url:
                self._session_ended()

        self.tasks.run(
            "reconnect view", self.flow.live_view_url, done, lambda _e: self._session_ended()
        )

    @Slot()
    def _session_ended(self, why: str = "") -> None:
        if self.state in ("connected", "cancelled", "ended"):
            return
        self.timer.stop()
        if self.view is not None:
            self.view.clear()
        self.placeholder.setText(
            (why or "The browser session ended before the login was saved.")
            + "\n\nPress “Start again” to open a new one."
        )
        self.stack.setCurrentWidget(self.placeholder)
        self._set_state("ended", "The browser session ended.")
        flow, self.flow = self.flow, None
        if flow is not None:
            self.tasks.run("cancel", flow.cancel, lambda _r: None, lambda _e: None)

    @Slot(str)
    def _view_problem(self, message: str) -> None:
        if self.state in ("waiting", "checking"):
            self.status.setText(message)

    def _failed(self, error: Exception) -> None:
        self.timer.stop()
        text = _plain(error, self.platform)  # said once, in the status line
        self.placeholder.setText(f"Could not log in to {self.label}. Press “Start again” to retry.")
        self.stack.setCurrentWidget(self.placeholder)
        self._set_state("error", text)

    @Slot()
    def restart(self) -> None:
        flow, self.flow = self.flow, None
        if flow is not None:
            self.tasks.run("cancel", flow.cancel, lambda _r: None, lambda _e: None)
        self.start()

    # -- closing -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def reject(self) -> None:
        self.shutdown()
        super().reject()

    def shutdown(self) -> None:
        """Stop polling; cancel an unfinished login (off the GUI thread). Idempotent."""
        if self._closing:
            return
        self._closing = True
        self.timer.stop()
        flow, self.flow = self.flow, None
        if flow is not None and self.state != "connected":
            self.tasks.run("cancel", flow.cancel, lambda _r: None, lambda _e: None)
            self._set_state("cancelled", "Login cancelled.")
        if self.view is not None:
            self.view.clear()

"""The connect dialog: a real login browser (local Chromium) on the sandbox, its live view in a
real QWebEngineView (offscreen), the login noticed by itself or on "I've logged in — verify"."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from lossy_desktop.app.views.connect_dialog import (
    DISCONNECT_MARKER,
    ConnectDialog,
    view_origin,
    viewable,
    wrapper_html,
)
from lossy_desktop.automation.chromium import ProfileBrowser
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.services import Services

# QtWebEngine's GPU noise on a machine without a GPU.
pytestmark = pytest.mark.qt_allow(r"(?i)vulkan", r"(?i)GPUInfo", r"(?i)dbus")


@pytest.fixture
def unreachable_url() -> str:
    """An address nothing listens on (a port bound, then closed): the browser's navigation
    fails at once with net::ERR_CONNECTION_REFUSED, as with no network."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def on_sandbox(on_sandbox: Services) -> Services:
    """The shared on_sandbox, with the local provider."""
    on_sandbox.settings.set("provider", "local")
    return on_sandbox


def _no_browser_on(profile: Path) -> bool:
    return ProfileBrowser.find(profile) is None


@pytest.mark.browser
@pytest.mark.xvfb
def test_login_is_noticed_by_itself(
    qtbot: Any, on_sandbox: Services, sandbox: Any, engine: AutomationEngine, person: Any
) -> None:
    dialog = ConnectDialog(
        on_sandbox, "youtube", provider="local", engine=engine, check_interval_ms=300
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.state == "waiting", timeout=60_000)
    # No view of the browser in the app: the dialog says what to do in the window.
    assert not dialog.embed and dialog.view is None
    assert dialog.stack.currentWidget() is dialog.placeholder
    assert "Close that browser window" in dialog.placeholder.text()
    assert not dialog.refresh_button.isVisible()
    connection = on_sandbox.connections.get("youtube")
    assert connection is not None and connection.status == "awaiting_auth"
    profile = Path(str(connection.local_profile_path))
    assert ProfileBrowser.find(profile) is not None  # the window is open

    with qtbot.waitSignal(dialog.connected, timeout=120_000) as blocker:
        person.log_in(sandbox, "youtube", "Reviewer One")
        person.close_window()
    assert blocker.args[0].account == "Reviewer One"
    assert dialog.state == "connected"
    assert "Connected to YouTube as Reviewer One" in dialog.status.text()
    connection = on_sandbox.connections.get("youtube")
    assert connection is not None and connection.status == "active"
    qtbot.waitUntil(lambda: _no_browser_on(profile), timeout=20_000)
    dialog.close()


@pytest.mark.browser
@pytest.mark.xvfb
def test_verify_button_says_not_yet_then_connects(
    qtbot: Any, on_sandbox: Services, sandbox: Any, engine: AutomationEngine, person: Any
) -> None:
    dialog = ConnectDialog(
        on_sandbox, "vimeo", provider="local", engine=engine, check_interval_ms=600_000
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.state == "waiting", timeout=60_000)
    with qtbot.waitSignal(
        dialog.tasks.finished, timeout=60_000, check_params_cb=lambda n: n == "verify"
    ):
        dialog.verify_button.click()
    assert dialog.state == "waiting"
    assert "Not logged in to Vimeo yet" in dialog.status.text()

    profile = Path(str(on_sandbox.connections.get("vimeo").local_profile_path))  # type: ignore[union-attr]
    person.log_in(sandbox, "vimeo", "Bo Reviewer")
    person.close_window()
    qtbot.waitUntil(lambda: _no_browser_on(profile), timeout=30_000)
    with qtbot.waitSignal(dialog.connected, timeout=120_000):
        dialog.verify_button.click()
    assert on_sandbox.connections.get("vimeo").status == "active"  # type: ignore[union-attr]
    assert "Connected to Vimeo as Bo Reviewer" in dialog.status.text()
    dialog.close()


@pytest.mark.browser
@pytest.mark.xvfb
def test_cancel_releases_the_login_browser(
    qtbot: Any, on_sandbox: Services, engine: AutomationEngine, person: Any
) -> None:
    dialog = ConnectDialog(on_sandbox, "air", provider="local", engine=engine)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.state == "waiting", timeout=60_000)
    profile = Path(on_sandbox.connections.get("air").local_profile_path)  # type: ignore[union-attr]
    assert ProfileBrowser.find(profile) is not None
    with qtbot.waitSignal(
        dialog.tasks.finished, timeout=30_000, check_params_cb=lambda n: n == "cancel"
    ):
        dialog.close()
    assert dialog.state == "cancelled"
    qtbot.waitUntil(lambda: _no_browser_on(profile), timeout=20_000)


def test_local_login_without_a_display_says_so(
    qtbot: Any, on_sandbox: Services, engine: AutomationEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    dialog = ConnectDialog(on_sandbox, "youtube", provider="local", engine=engine)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.state == "error", timeout=60_000)
    assert "display" in dialog.status.text()
    assert dialog.view is None
    assert dialog.width() < 700  # small: the login happens in a browser window it must not cover
    dialog.close()


def test_errors_are_said_in_plain_words(
    qtbot: Any, services: Services, engine: AutomationEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Browserbase without any API key: the provider refuses before any browser starts.
    dialog = ConnectDialog(services, "youtube", provider="browserbase", engine=engine, embed=True)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.state == "error", timeout=30_000)
    assert "key" in dialog.status.text().lower()
    assert "Traceback" not in dialog.placeholder.text()
    assert dialog.width() >= 1000  # room for Browserbase's login page inside
    assert dialog.retry_button.isVisible()
    dialog.close()


@pytest.mark.browser
def test_an_unreachable_platform_is_said_once_in_one_plain_sentence(
    qtbot: Any,
    services: Services,
    engine: AutomationEngine,
    caplog: pytest.LogCaptureFixture,
    unreachable_url: str,
) -> None:
    """No network: the platform's address does not answer. The dialog says so once, in plain
    words; Playwright's text (net::ERR_…, its call log) goes to the log only. (The login flow
    runs headless here, as the demo's scripted login does: a person's login window would show
    the browser's own error page.)"""
    from lossy_desktop.workers.connect import LoginFlow

    services.settings.set("platform_base", unreachable_url)
    services.settings.set("provider", "local")

    def headless_flow(svc: Any, eng: Any, platform: str, provider: str, _headless: bool) -> Any:
        return LoginFlow(svc, eng, platform, provider=provider, headless=True)

    dialog = ConnectDialog(
        services, "youtube", provider="local", engine=engine, flow_factory=headless_flow
    )
    qtbot.addWidget(dialog)
    dialog.show()
    with caplog.at_level("WARNING", logger="lossy.app"):
        dialog.start()
        qtbot.waitUntil(lambda: dialog.state == "error", timeout=60_000)
    shown = [label.text() for label in dialog.findChildren(QLabel) if label.isVisible()]
    sentence = (
        "Could not reach YouTube — check this computer's internet connection, then try again."
    )
    assert dialog.status.text() == sentence
    assert sum(text.count("Could not reach") for text in shown) == 1
    for text in shown:
        assert "net::" not in text and "Call log" not in text and "Page.goto" not in text
    assert "net::ERR_" in caplog.text  # the technical side is in the log
    assert dialog.retry_button.isVisible()
    dialog.close()


class _FlowShowingAPage:
    """A login flow whose live view is a page that posts Browserbase's end-of-session message
    to its parent, as Browserbase's live view does (the sandbox's fake API has no live view
    page of its own to post it)."""

    def __init__(self, *args: Any) -> None:
        self.cancelled = False

    def start(self) -> str:
        post = "parent.postMessage('browserbase-disconnected', '*')"
        return f"data:text/html,<script>setTimeout(function () {{ {post} }}, 50)</script>"

    def check(self) -> Any:
        from lossy_desktop.automation.agents import LoginState

        return LoginState(False, None)

    def live_view_url(self) -> str | None:
        from lossy_desktop.automation.errors import AutomationError

        # Asked again after the message: the session has ended (as LoginFlow says it).
        raise AutomationError("browser_unavailable", "the login browser was closed")

    def cancel(self) -> None:
        self.cancelled = True


def test_the_session_ending_is_noticed(qtbot: Any, services: Services) -> None:
    flows: list[_FlowShowingAPage] = []

    def factory(*args: Any) -> _FlowShowingAPage:
        flows.append(_FlowShowingAPage())
        return flows[-1]

    dialog = ConnectDialog(
        services, "youtube", provider="browserbase", flow_factory=factory, embed=True
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.state == "ended", timeout=30_000)
    assert "session ended" in dialog.status.text()
    assert dialog.retry_button.isVisible()
    qtbot.waitUntil(lambda: flows[0].cancelled, timeout=5000)
    # "Start again" opens a new session.
    dialog.retry_button.click()
    qtbot.waitUntil(lambda: len(flows) == 2, timeout=5000)
    dialog.close()


def test_local_devtools_view_asks_for_the_page_screencast() -> None:
    url = "http://127.0.0.1:9222/devtools/inspector.html?ws=127.0.0.1:9222/devtools/page/AB"
    assert viewable(url) == url + "&remoteFrontend=true"
    assert viewable(url + "&remoteFrontend=true") == url + "&remoteFrontend=true"
    live = "https://www.browserbase.com/devtools-fullscreen/inspector.html?wss=x&navbar=false"
    assert viewable(live) == live


def test_wrapper_page_escapes_the_url_and_reports_only_the_marker() -> None:
    page = wrapper_html('https://live.example/x?token=a"b<c')
    assert "token=a&quot;b&lt;c" in page
    assert DISCONNECT_MARKER in page
    assert 'event.origin !== "https://live.example"' in page
    assert view_origin("http://127.0.0.1:8000/v1/live/x/view?token=t") == "http://127.0.0.1:8000"
    assert view_origin("data:text/html,hi") == "null"


def test_settings_window_does_not_load_qtwebengine_until_connect(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from PySide6.QtWidgets import QApplication
        from lossy_desktop.services import Services
        from lossy_desktop.app.views.settings.window import SettingsWindow
        app = QApplication([])
        with Services.open(sys.argv[1]) as services:
            window = SettingsWindow(services)
            window.show()
            app.processEvents()
            print("webengine" if any("WebEngine" in m for m in sys.modules) else "clean")
            from lossy_desktop.app.views.connect_dialog import live_view_class
            live_view_class()
            print("webengine" if "PySide6.QtWebEngineWidgets" in sys.modules else "missing")
            window.close()
        """
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.stdout.split() == ["clean", "webengine"], out.stderr


@pytest.mark.browser
def test_browserbase_view_follows_a_new_tab_and_notices_the_end(
    qtbot: Any,
    services: Services,
    sandbox: Any,
    engine: AutomationEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fake Browserbase's live view ends when a tab opens: the dialog asks for the view of
    the current page and goes on waiting; when the session itself ends, it says so."""
    from lossy_desktop.sandbox.browserbase import FakeBrowserbase

    monkeypatch.setenv("BROWSERBASE_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("BROWSERBASE_API_KEY", sandbox.browserbase_api_key)
    services.settings.set("platform_base", sandbox.base_url)
    fake: FakeBrowserbase = sandbox.browserbase
    dialog = ConnectDialog(
        services, "vimeo", provider="browserbase", engine=engine, embed=True, check_interval_ms=300
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.state == "waiting", timeout=60_000)
    session = dialog.flow._session
    fake_session = fake.sessions[session.session_id]
    first_view = session.live_view_url()

    async def open_tab(pw: Any) -> None:  # the user opens a tab (a sign-in popup)
        browser = await pw.chromium.connect_over_cdp(fake_session.process.browser_ws_url)
        await browser.contexts[0].new_page()
        await browser.close()

    engine.run(open_tab, 60)
    qtbot.waitUntil(lambda: session.live_view_url() != first_view, timeout=30_000)
    assert dialog.state == "waiting"  # not ended: the view was asked for again
    new_tab = [t["id"] for t in fake_session.process.pages()]
    assert any(f"page={tab}" in str(session.live_view_url()) for tab in new_tab)
    assert fake_session.status == "RUNNING"

    # the session ends (here: released from outside): the view's message, no view to be had
    from browserbase import Browserbase

    bb = Browserbase(api_key=sandbox.browserbase_api_key, base_url=sandbox.base_url)
    bb.sessions.update(fake_session.id, status="REQUEST_RELEASE")
    qtbot.waitUntil(lambda: dialog.state == "ended", timeout=30_000)
    assert "session ended" in dialog.status.text()
    dialog.close()


def test_messages_from_another_origin_are_ignored(
    qtbot: Any, services: Services, tmp_path: Path
) -> None:
    """Only the live view's origin may say the session ended: a frame from another origin
    inside it posting the same message is not heard."""
    import functools
    import http.server
    import threading

    (tmp_path / "b.html").write_text(
        "<script>top.postMessage('browserbase-disconnected', '*');"
        "parent.postMessage('b-done', '*');</script>"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    (tmp_path / "a.html").write_text(
        "<script>addEventListener('message', e => { if (e.data === 'b-done') "
        "parent.postMessage('browserbase-disconnected', '*'); });</script>"
        f"<iframe src='http://localhost:{port}/b.html'></iframe>"
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    flows: list[_FlowShowingAPage] = []

    class _Flow(_FlowShowingAPage):
        def start(self) -> str:
            return f"http://127.0.0.1:{port}/a.html"

    def factory(*args: Any) -> _FlowShowingAPage:
        flows.append(_Flow())
        return flows[-1]

    try:
        dialog = ConnectDialog(
            services, "youtube", provider="browserbase", flow_factory=factory, embed=True
        )
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.start()
        qtbot.waitUntil(lambda: dialog.state == "ended", timeout=30_000)
        assert dialog.view_disconnects == 1  # the live view's own; not the other origin's
        dialog.close()
    finally:
        server.shutdown()
        server.server_close()

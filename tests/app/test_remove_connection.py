"""Disconnecting a platform lives once (lossy_desktop.workers.connect.remove_connection): the
settings window's Disconnect and `lossy-desktop connections remove` both end the login browser
(a Browserbase keepAlive login session, its minutes kept), delete the stored login and forget
the connection. Against the sandbox's fake Browserbase, with real headless Chromium sessions."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from lossy_desktop.app.views.settings.window import SettingsWindow
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.cli import main
from lossy_desktop.services import Services
from lossy_desktop.workers.connect import remove_connection


@pytest.fixture
def fake_browserbase(bb_env: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The shared fake-Browserbase set-up (bb_env), with no display (so a login is headless)."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return bb_env.browserbase


def _cli(data_dir: Path, sandbox: Any, capsys: Any, *argv: str) -> tuple[int, str]:
    code = main(["--data-dir", str(data_dir), "--platform-base", sandbox.base_url, *argv])
    out, err = capsys.readouterr()
    return code, out + err


def _login_session_left_open(data_dir: Path, sandbox: Any, capsys: Any) -> tuple[str, Any]:
    """`connections add` on Browserbase leaves a keepAlive login session running (the user
    logs in in its live view): the context id and the fake's session."""
    code, out = _cli(
        data_dir, sandbox, capsys, "connections", "add", "vimeo", "--provider", "browserbase"
    )
    assert code == 0, out
    with Services.open(data_dir) as services:
        connection = services.connections.require("vimeo")
    login = sandbox.browserbase.sessions[connection.browserbase_session_id]
    assert login.status == "RUNNING" and login.keep_alive
    assert connection.browserbase_context_id in sandbox.browserbase.contexts
    return str(connection.browserbase_context_id), login


def _usage_purposes(data_dir: Path) -> list[str]:
    with Services.open(data_dir) as services:
        return sorted(u.purpose for u in services.usage.recent())


@pytest.mark.browser
def test_the_cli_releases_the_login_session_and_keeps_its_minutes(
    data_dir: Path, sandbox: Any, fake_browserbase: Any, capsys: Any
) -> None:
    context_id, login = _login_session_left_open(data_dir, sandbox, capsys)
    assert _usage_purposes(data_dir) == []
    code, out = _cli(data_dir, sandbox, capsys, "connections", "remove", "vimeo")
    assert code == 0 and "Vimeo: connection removed." in out
    assert "warning" not in out
    assert login.status == "COMPLETED"  # released, not left billing until its timeout
    assert context_id not in fake_browserbase.contexts
    assert _usage_purposes(data_dir) == ["login"]
    with Services.open(data_dir) as services:
        assert services.connections.get("vimeo") is None


@pytest.mark.browser
def test_the_settings_window_releases_the_login_session_and_keeps_its_minutes(
    qtbot: Any,
    services: Services,
    data_dir: Path,
    sandbox: Any,
    fake_browserbase: Any,
    engine: AutomationEngine,
    capsys: Any,
) -> None:
    context_id, login = _login_session_left_open(data_dir, sandbox, capsys)
    window = SettingsWindow(services, engine=engine)  # the default disconnect: the worker's
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=5000)
    tab = window.connections
    with qtbot.waitSignal(
        window.tasks.finished, timeout=120_000, check_params_cb=lambda n: n == "disconnect:vimeo"
    ):
        tab.disconnect_platform("vimeo")
    assert tab.connections_message.text() == "Vimeo disconnected."
    assert login.status == "COMPLETED"
    assert context_id not in fake_browserbase.contexts
    assert _usage_purposes(data_dir) == ["login"]
    assert services.connections.get("vimeo") is None
    qtbot.waitUntil(lambda: tab.cards["vimeo"].status_text() == "Not connected", timeout=5000)


def test_the_connection_goes_even_when_its_login_cannot_be_deleted(
    services: Services, engine: AutomationEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Browserbase unreachable: the login session can't be released nor the context deleted.
    The user asked to forget the login: the connection goes, and what failed is returned."""
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("BROWSERBASE_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("BROWSERBASE_API_KEY", "bb_live_unreachable_000")
    services.connections.ensure("air", "browserbase")
    services.connections.update(
        "air", browserbase_context_id="ctx-1", browserbase_session_id="sess-1"
    )
    problem = remove_connection(services, engine, "air", timeout_s=120)
    assert problem is not None and problem.kind == "network_error"
    assert services.connections.get("air") is None
    assert remove_connection(services, engine, "air") is None  # nothing left to remove

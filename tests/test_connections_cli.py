"""`lossy-desktop connections add / verify / list / remove` end to end on the sandbox, for the
local provider (no display: `add` says how to log in; `verify` checks headless over a pipe; the
login window itself is tested under Xvfb in test_local_login_window.py) and the fake Browserbase
(a keepAlive login session), with a real headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psutil
import pytest

from lossy_desktop.automation.chromium import BrowserNotFound, find_browser
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.cli import main
from lossy_desktop.services import Services

try:
    find_browser()
except BrowserNotFound:
    pytest.skip("no Chromium installed", allow_module_level=True)

pytestmark = pytest.mark.browser


@pytest.fixture
def cli(data_dir: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data_dir), "--platform-base", sandbox.base_url, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _connection(data_dir: Path, platform: str) -> Any:
    with Services.open(data_dir) as services:
        return services.connections.get(platform)


def _browsers_on(profile: Path) -> list[psutil.Process]:
    flag = f"--user-data-dir={profile.resolve()}"
    return [p for p in psutil.process_iter(["cmdline"]) if flag in (p.info["cmdline"] or [])]


def _log_in_through(engine: AutomationEngine, cdp_url: str, cookie: dict[str, Any]) -> None:
    """What the user does in the live view: log in (here: the sandbox's login cookie)."""

    async def login(pw: Any) -> None:
        browser = await pw.chromium.connect_over_cdp(cdp_url)
        await browser.contexts[0].add_cookies([cookie])
        await browser.close()  # disconnects; the browser keeps running

    engine.run(login, 60)


def _log_in_on_profile(engine: AutomationEngine, data_dir: Path, cookie: dict[str, Any]) -> None:
    """The login landing in the profile (as a login window on a desktop leaves it): here the
    sandbox's login cookie, set in a headless session over the pipe."""
    from lossy_desktop.automation.providers.local import LocalProvider

    with Services.open(data_dir) as services:
        connection = services.connections.require("youtube")
        provider = LocalProvider(services.data, services.settings)

        async def login(pw: Any) -> None:
            session = await provider.open(pw, connection, purpose="login")
            try:
                await session.context.add_cookies([cookie])
            finally:
                await provider.close(session)

        engine.run(login, 60)


def test_local_add_verify_list_remove(cli, data_dir, sandbox, engine):
    # No display here: `add` returns at once, says how to log in, starts no browser.
    code, out, _err = cli("connections", "add", "youtube", "--provider", "local")
    assert code == 0, out
    profile = data_dir / "profiles" / "youtube"
    assert "no display" in out and "connections verify youtube" in out
    assert "devtools" not in out.lower()
    assert _browsers_on(profile) == []
    conn = _connection(data_dir, "youtube")
    assert (conn.status, conn.provider) == ("awaiting_auth", "local")

    # verifying before logging in (headless, over the pipe): not active
    code, out, _err = cli("connections", "verify", "youtube")
    assert code == 1 and "not logged in" in out
    assert _connection(data_dir, "youtube").status == "logged_out"
    assert _browsers_on(profile) == []

    _log_in_on_profile(engine, data_dir, sandbox.login_cookie("youtube", "Ann"))
    code, out, err = cli("connections", "verify", "youtube")
    assert code == 0, out + err
    assert "active" in out and "Ann" in out
    assert _browsers_on(profile) == []  # the checking browser was closed
    conn = _connection(data_dir, "youtube")
    assert conn.status == "active" and conn.account_name and "Ann" in conn.account_name

    # `add` again on an active connection waits for a new login; verify finds the old one
    code, out, _err = cli("connections", "add", "youtube")
    assert code == 0 and _connection(data_dir, "youtube").status == "awaiting_auth"
    code, out, _err = cli("connections", "verify", "youtube")
    assert code == 0, out

    code, out, _err = cli("connections", "list", "--json")
    rows = json.loads(out)
    assert [(r["platform"], r["provider"], r["status"]) for r in rows] == [
        ("youtube", "local", "active")
    ]
    code, out, _err = cli("connections", "list")
    assert "youtube" in out and "active" in out

    code, out, _err = cli("connections", "remove", "youtube")
    assert code == 0 and "removed" in out
    assert _connection(data_dir, "youtube") is None
    assert not profile.exists()


def test_browserbase_add_verify_remove(cli, data_dir, sandbox, engine, monkeypatch):
    monkeypatch.setenv("BROWSERBASE_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("BROWSERBASE_API_KEY", sandbox.browserbase_api_key)
    fake = sandbox.browserbase

    code, out, err = cli("connections", "add", "vimeo", "--provider", "browserbase")
    assert code == 0, out + err
    conn = _connection(data_dir, "vimeo")
    assert conn.status == "awaiting_auth"
    assert conn.browserbase_context_id in fake.contexts
    login = fake.sessions[conn.browserbase_session_id]
    assert login.status == "RUNNING" and login.keep_alive  # outlived the command
    assert "navbar=false" not in out and login.live_token not in out  # not unless asked
    assert "--show-live-view-url" in out
    assert login.signing_key not in out  # never the connect URL

    # asked: the live view, with a warning that it controls the logged-in browser
    code, out, err = cli(
        "connections", "add", "vimeo", "--provider", "browserbase", "--show-live-view-url"
    )
    assert code == 0, out + err
    assert login.status == "COMPLETED"  # the earlier login browser was replaced, not doubled
    conn = _connection(data_dir, "vimeo")
    login = fake.sessions[conn.browserbase_session_id]
    assert "navbar=false" in out and login.live_token in out
    assert "WARNING" in out and "controls the logged-in browser" in out
    assert login.signing_key not in out

    _log_in_through(engine, fake._connect_url(login), sandbox.login_cookie("vimeo", "Bo"))

    code, out, err = cli("connections", "verify", "vimeo")
    assert code == 0, out + err
    assert "active" in out
    assert login.status == "COMPLETED"  # the login session was released
    conn = _connection(data_dir, "vimeo")
    assert conn.status == "active" and conn.browserbase_session_id is None
    assert all(s.status == "COMPLETED" for s in fake.sessions.values())
    with Services.open(data_dir) as services:
        purposes = sorted(u.purpose for u in services.usage.recent())
    assert purposes == ["keepalive", "login", "login"]

    code, out, _err = cli("connections", "remove", "vimeo")
    assert code == 0
    assert conn.browserbase_context_id not in fake.contexts


def test_browserbase_without_a_key_says_so(cli, sandbox, monkeypatch):
    monkeypatch.setenv("BROWSERBASE_BASE_URL", sandbox.base_url)
    code, _out, err = cli("connections", "add", "air", "--provider", "browserbase")
    assert code == 1
    assert "BROWSERBASE_API_KEY" in err


def test_verify_unknown_connection_is_a_clear_error(cli):
    code, _out, err = cli("connections", "verify", "air")
    assert code != 0
    assert "Air" in err


def test_browserbase_free_plan_add_stays_connected_until_logged_in(
    cli, data_dir, sandbox, engine, monkeypatch
):
    """Free: no keepAlive, so a disconnect would end the login session. `add` keeps it
    connected, notices the login made in the live view, and the connection is active."""
    import threading

    from lossy_desktop.automation.providers.browserbase import forget_learned_plans

    monkeypatch.setenv("BROWSERBASE_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("BROWSERBASE_API_KEY", sandbox.browserbase_api_key)
    fake = sandbox.browserbase
    forget_learned_plans()
    fake.set_plan("free")
    result: list[tuple[int, str, str]] = []
    try:
        thread = threading.Thread(
            target=lambda: result.append(
                cli("connections", "add", "air", "--provider", "browserbase")
            )
        )
        thread.start()
        running = None
        for _ in range(600):  # wait for the condition: the login browser is up on Air's home
            running = next(
                (
                    s
                    for s in fake.sessions.values()
                    if s.status == "RUNNING"
                    and s.process is not None
                    and any(p["url"] == sandbox.home_url("air") for p in s.process.pages())
                ),
                None,
            )
            if running is not None or not thread.is_alive():
                break
            thread.join(0.1)
        assert running is not None, result
        assert running.keep_alive is False and running.timeout == 900

        async def log_in(pw: Any) -> None:  # what the user does in the live view
            browser = await pw.chromium.connect_over_cdp(running.process.browser_ws_url)
            await browser.contexts[0].add_cookies([sandbox.login_cookie("air", "Cy")])
            await browser.contexts[0].pages[0].reload()
            await browser.close()

        engine.run(log_in, 60)
        thread.join(120)
        assert not thread.is_alive()
    finally:
        fake.set_plan("developer")
        forget_learned_plans()
    code, out, err = result[0]
    assert code == 0, out + err
    assert "no keepAlive" in out and "15-minute" in out
    assert "active" in out
    assert running.status == "COMPLETED"
    conn = _connection(data_dir, "air")
    assert conn.status == "active" and conn.browserbase_session_id is None
    with Services.open(data_dir) as services:
        assert [u.purpose for u in services.usage.recent()] == ["login"]

"""Issue 10: the sandbox (and its fake Browserbase) can't be used by a web page through DNS
rebinding or a foreign-origin WebSocket, has no fixed API key, and its browsers can't be sent to
this computer's files or the browser's own pages."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest
from browserbase import Browserbase
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from lossy_desktop.automation.chromium import find_browser
from lossy_desktop.sandbox.browserbase import is_local_url, refuse_local_navigation
from lossy_desktop.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[1]


def test_a_foreign_host_header_is_refused_everywhere(sandbox: SandboxServer) -> None:
    # DNS rebinding: a page on evil.example re-pointed at 127.0.0.1 sends Host: evil.example.
    evil = {"Host": "evil.example"}
    with httpx.Client(base_url=sandbox.base_url, trust_env=False) as client:
        assert client.get("/youtube", headers=evil).status_code == 421
        assert client.get("/_sandbox/comments", headers=evil).status_code == 421
        created = client.post(
            "/v1/sessions",
            json={},
            headers={**evil, "X-BB-API-Key": sandbox.browserbase_api_key},
        )
        assert created.status_code == 421
        assert sandbox.browserbase_sessions() == []
        assert client.get("/youtube").status_code == 200
        assert (
            client.get("/youtube", headers={"Host": f"localhost:{sandbox.port}"}).status_code == 200
        )


def test_no_fixed_api_key() -> None:
    first, second = SandboxServer(port=0), SandboxServer(port=0)
    assert first.browserbase_api_key != second.browserbase_api_key
    assert len(first.browserbase_api_key) >= 24
    with first:
        answer = httpx.get(
            f"{first.base_url}/v1/sessions",
            headers={"X-BB-API-Key": "sandbox-key"},
            trust_env=False,
        )
        assert answer.status_code == 401
        answer = httpx.get(
            f"{first.base_url}/v1/sessions",
            headers={"X-BB-API-Key": first.browserbase_api_key},
            trust_env=False,
        )
        assert answer.status_code == 200


def test_the_sandbox_command_prints_its_random_key() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SANDBOX_BROWSERBASE_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lossy_desktop", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        base = key = None
        for line in proc.stdout:
            if "BROWSERBASE_BASE_URL=" in line:
                base = line.split("BROWSERBASE_BASE_URL=")[1].split()[0]
            if "BROWSERBASE_API_KEY=" in line:
                key = line.split("BROWSERBASE_API_KEY=")[1].split()[0]
            if "lossy-desktop --platform-base" in line:
                break
        assert base and key and key != "sandbox-key"
        ok = httpx.get(f"{base}/v1/sessions", headers={"X-BB-API-Key": key}, trust_env=False)
        assert ok.status_code == 200
        fixed = httpx.get(
            f"{base}/v1/sessions", headers={"X-BB-API-Key": "sandbox-key"}, trust_env=False
        )
        assert fixed.status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("file:///etc/hostname", True),
        ("  FILE:///etc/hostname", True),
        ("fi\tle:///etc/hostname", True),
        ("view-source:file:///etc/hostname", True),
        ("chrome://version", True),
        ("chrome-untrusted://terminal", True),
        ("devtools://devtools/bundled/inspector.html", True),
        ("filesystem:file:///x", True),
        ("http://127.0.0.1:1/youtube", False),
        ("about:blank", False),
        ("https://example.com/?next=file:///etc", False),
    ],
)
def test_local_urls_are_recognised(url: str, local: bool) -> None:
    assert is_local_url(url) is local


def test_a_refused_command_gets_a_cdp_error_with_its_id_and_session() -> None:
    import json

    reply = refuse_local_navigation(
        json.dumps(
            {"id": 7, "sessionId": "S", "method": "Page.navigate", "params": {"url": "file:///"}}
        )
    )
    assert reply is not None
    answer = json.loads(reply)
    assert answer["id"] == 7 and answer["sessionId"] == "S" and "error" in answer
    ok = json.dumps({"id": 8, "method": "Page.navigate", "params": {"url": "http://127.0.0.1/"}})
    assert refuse_local_navigation(ok) is None


@pytest.fixture
def chromium_available() -> Iterator[None]:
    try:
        find_browser()
    except Exception:  # pragma: no cover - depends on the machine
        pytest.skip("no Chromium installed")
    yield


@pytest.mark.browser
def test_the_fake_browsers_refuse_foreign_origins_and_local_urls(
    sandbox: SandboxServer, chromium_available: None
) -> None:
    bb = Browserbase(
        api_key=sandbox.browserbase_api_key, base_url=sandbox.base_url, max_retries=0, timeout=60
    )
    session = bb.sessions.create()

    async def foreign_origin() -> int:
        async with aiohttp.ClientSession() as client:
            try:
                async with client.ws_connect(
                    session.connect_url, headers={"Origin": "http://evil.example"}
                ):
                    return 101
            except aiohttp.WSServerHandshakeError as error:
                return error.status

    assert asyncio.run(foreign_origin()) == 403
    with sync_playwright() as pw:
        browser = pw.chromium.connect_over_cdp(session.connect_url)
        try:
            page = browser.contexts[0].pages[0]
            for url in (
                "file:///etc/hostname",
                "chrome://version",
                "view-source:file:///etc/hostname",
            ):
                with pytest.raises(PlaywrightError, match="local"):
                    page.goto(url)
                assert not page.url.startswith(("file:", "chrome:", "view-source:"))
            # A new tab opened on a local URL is refused too.
            cdp = browser.new_browser_cdp_session()
            with pytest.raises(PlaywrightError, match="local"):
                cdp.send("Target.createTarget", {"url": "file:///etc/hostname"})
            # And a page cannot navigate itself there (Chromium refuses renderer-initiated ones).
            page.goto(sandbox.home_url("youtube"))
            page.evaluate("location.href = 'file:///etc/hostname'")
            page.wait_for_load_state()
            assert not page.url.startswith("file:")
            hostname = Path("/etc/hostname").read_text().strip()
            assert hostname not in page.content() or hostname in sandbox.home_url("youtube")
            # An ordinary page still works.
            page.goto(sandbox.home_url("vimeo"))
            assert page.url.startswith(sandbox.base_url)
        finally:
            browser.close()


def test_the_demo_gives_its_browserbase_connections_this_runs_key(sandbox: SandboxServer) -> None:
    from lossy_desktop.app.demo import demo_environment

    env = demo_environment(sandbox)
    assert env["BROWSERBASE_BASE_URL"] == sandbox.base_url
    answer = httpx.get(
        f"{env['BROWSERBASE_BASE_URL']}/v1/sessions",
        headers={"X-BB-API-Key": env["BROWSERBASE_API_KEY"]},
        trust_env=False,
    )
    assert answer.status_code == 200

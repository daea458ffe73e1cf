"""The local provider with a real headless Chromium driven through a pipe: navigate, no live
view and no TCP port, a login kept in the profile, release in every outcome, a check of what an
open login window has saved, orphans stopped, forget."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from lossy_desktop.automation.chromium import BrowserNotFound, find_browser
from lossy_desktop.automation.errors import AutomationError
from lossy_desktop.automation.providers import provider_for, session_scope
from lossy_desktop.automation.providers.local import LocalProvider
from lossy_desktop.core.paths import DataDir
from lossy_desktop.core.usage import UsageRecord

try:
    find_browser()
except BrowserNotFound:
    pytest.skip("no Chromium installed", allow_module_level=True)

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Conn:
    platform: str = "youtube"
    provider: str = "local"
    browserbase_context_id: str | None = None
    browserbase_session_id: str | None = None
    local_profile_path: str | None = None


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/login":
            body = b"<title>logged in</title><p>welcome</p>"
            self.send_response(200)
            self.send_header("Set-Cookie", "sid=alice; Max-Age=86400; Path=/")
        else:
            who = "nobody"
            for part in (self.headers.get("Cookie") or "").split(";"):
                key, _, value = part.strip().partition("=")
                if key == "sid":
                    who = value
            body = f"<title>home of {who}</title><p id=who>{who}</p>".encode()
            self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


@pytest.fixture
def provider(data: DataDir) -> LocalProvider:
    return LocalProvider(data)


def _browsers_on(profile: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if f"--user-data-dir={profile.resolve()}" in cmdline:
            found.append(proc)
    return found


def _gone(pid: int, timeout: float = 10.0) -> bool:
    try:
        psutil.Process(pid).wait(timeout)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    return True


def test_provider_for_picks_by_connection(data: DataDir):
    assert provider_for(Conn(), None, data).name == "local"
    assert provider_for(Conn(provider="browserbase"), None, data).name == "browserbase"
    with pytest.raises(Exception, match="unknown provider"):
        provider_for(Conn(provider="ftp"), None, data)


def test_prepare_makes_a_profile_folder_per_platform(engine, provider, data):
    fields = engine.run(lambda _pw: provider.prepare(Conn(platform="vimeo")), 30)
    assert fields == {"local_profile_path": str(data.profiles / "vimeo")}
    assert (data.profiles / "vimeo").is_dir()


def test_post_session_navigates_and_is_released(engine, provider, data, site):
    conn = Conn(local_profile_path=str(data.profiles / "youtube"))

    async def body(pw: Any) -> tuple[str, UsageRecord, int]:
        session = await provider.open(pw, conn, purpose="post")
        pid = session.extra["pipe"].pid
        await session.page.goto(site + "/")
        title = await session.page.title()
        session.notes_posted = 2
        usage = await provider.close(session)
        return title, usage, pid

    title, usage, pid = engine.run(body, 60)
    assert title == "home of nobody"
    assert (usage.provider, usage.platform, usage.purpose) == ("local", "youtube", "post")
    assert usage.notes_posted == 2
    assert usage.billed_seconds == 0.0
    assert usage.seconds >= 0
    assert _gone(pid)
    assert _browsers_on(data.profiles / "youtube") == []


def test_login_is_kept_in_the_profile_across_sessions(engine, provider, data, site):
    conn = Conn(local_profile_path=str(data.profiles / "youtube"))

    async def login(pw: Any) -> None:
        session = await provider.open(pw, conn, purpose="login")
        await session.page.goto(site + "/login")
        await provider.close(session)

    async def who(pw: Any) -> str:
        async with session_scope(provider, pw, conn, purpose="verify") as session:
            await session.page.goto(site + "/")
            return await session.page.inner_text("#who")

    engine.run(login, 60)
    assert engine.run(who, 60) == "alice"


def test_a_session_has_no_live_view_and_no_tcp_port(engine, provider, data, site):
    conn = Conn(local_profile_path=str(data.profiles / "air"), platform="air")

    async def body(pw: Any) -> tuple[Any, ...]:
        session = await provider.open(pw, conn, purpose="login", headless=True)
        try:
            await session.page.goto(site + "/")
            tree = session.extra["pipe"].process.tree()
            listening = [
                c.laddr
                for p in tree
                for c in p.net_connections(kind="tcp")
                if c.status == psutil.CONN_LISTEN
            ]
            webdriver = await session.page.evaluate("navigator.webdriver")
            return (
                session.live_view_url(),
                await provider.refresh_live_view(session),
                listening,
                webdriver,
            )
        finally:
            await provider.close(session)

    first, second, listening, webdriver = engine.run(body, 60)
    assert (first, second) == (None, None)
    assert listening == []
    assert webdriver is False


def test_a_local_session_cannot_be_detached(engine, provider):
    with pytest.raises(ValueError, match="pipe"):
        engine.run(lambda pw: provider.open(pw, Conn(), purpose="login", detached=True), 30)


def test_released_when_the_body_raises(engine, provider, data, site):
    conn = Conn(local_profile_path=str(data.profiles / "vimeo"), platform="vimeo")
    recorded: list[UsageRecord] = []

    async def body(pw: Any) -> None:
        async with session_scope(provider, pw, conn, purpose="post", on_usage=recorded.append):
            raise ValueError("the agent tripped")

    with pytest.raises(AutomationError) as info:
        engine.run(body, 60)
    assert info.value.kind == "script_failed"
    assert "the agent tripped" in info.value.message
    assert [u.purpose for u in recorded] == ["post"]
    assert _browsers_on(data.profiles / "vimeo") == []


def test_browser_dying_mid_session_is_named(engine, provider, data, site):
    conn = Conn(local_profile_path=str(data.profiles / "vimeo"), platform="vimeo")

    async def body(pw: Any) -> None:
        async with session_scope(provider, pw, conn, purpose="post") as session:
            psutil.Process(session.extra["pipe"].pid).kill()
            await session.page.goto(site + "/")

    with pytest.raises(AutomationError) as info:
        engine.run(body, 60)
    assert info.value.kind == "browser_unavailable"
    assert "local browser" in info.value.message
    assert _browsers_on(data.profiles / "vimeo") == []


def test_saved_login_of_an_open_profile_is_checked_on_a_copy(engine, provider, data, site):
    """A login window keeps its profile locked; the check runs on a copy of what it saved."""
    conn = Conn(local_profile_path=str(data.profiles / "youtube"))

    async def log_in(pw: Any) -> None:
        async with session_scope(provider, pw, conn, purpose="login") as session:
            await session.page.goto(site + "/login")

    engine.run(log_in, 60)
    # a browser holds the profile now (as the login window does)
    holder = engine.run(lambda pw: provider.open(pw, conn, purpose="post"), 60)
    try:

        async def who(pw: Any) -> tuple[str, Path]:
            session = await provider.open_snapshot(pw, conn)
            assert session is not None
            try:
                await session.page.goto(site + "/")
                return await session.page.inner_text("#who"), session.extra["snapshot"]
            finally:
                await provider.close(session)

        name, snapshot = engine.run(who, 60)
        assert name == "alice"
        assert not snapshot.exists()  # the copy (it holds cookies) is deleted
        assert snapshot.parent == data.profiles
    finally:
        engine.run(lambda _pw: provider.close(holder), 60)
    assert _browsers_on(data.profiles / "youtube") == []


def test_forget_deletes_the_profile_inside_the_data_folder(engine, provider, data, tmp_path):
    inside = Conn(local_profile_path=str(data.profiles / "youtube"))
    engine.run(lambda _pw: provider.prepare(inside), 30)
    (data.profiles / "youtube" / "Cookies").write_text("x")
    engine.run(lambda _pw: provider.forget(inside), 30)
    assert not (data.profiles / "youtube").exists()

    outside_dir = tmp_path / "my-own-chrome-profile"
    outside_dir.mkdir()
    engine.run(lambda _pw: provider.forget(Conn(local_profile_path=str(outside_dir))), 30)
    assert outside_dir.is_dir()  # never delete a folder the app did not make


def test_unknown_purpose_is_refused(engine, provider):
    with pytest.raises(ValueError, match="purpose"):
        engine.run(lambda pw: provider.open(pw, Conn(), purpose="party"), 30)


def test_no_browser_is_browser_unavailable_and_not_retried(engine, data, tmp_path):
    class Settings:
        def get(self, key: str) -> Any:
            return str(tmp_path / "missing-chrome") if key == "browser_path" else None

    provider = LocalProvider(data, Settings())  # type: ignore[arg-type]
    with pytest.raises(AutomationError) as info:
        engine.run(lambda pw: provider.open(pw, Conn(), purpose="post"), 30)
    assert info.value.kind == "browser_unavailable"
    assert info.value.retryable is False
    assert "browser_path" in info.value.message


def test_engine_sessions_run_concurrently(engine, data, site):
    provider = LocalProvider(data)
    conns = [Conn(platform=p, local_profile_path=str(data.profiles / p)) for p in ("a", "b")]

    async def one(pw: Any, conn: Conn) -> str:
        async with session_scope(provider, pw, conn, purpose="post") as session:
            await session.page.goto(site + "/")
            return await session.page.title()

    async def both(pw: Any) -> list[str]:
        return list(await asyncio.gather(*(one(pw, c) for c in conns)))

    assert engine.run(both, 90) == ["home of nobody", "home of nobody"]

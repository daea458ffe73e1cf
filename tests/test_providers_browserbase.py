"""The Browserbase provider against the sandbox's fake Browserbase API (real local Chromium
behind it, so connect_over_cdp runs for real): contexts, sessions per purpose, live view,
release in every outcome, usage, 401/429, a timed-out session named, no blind retries."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from lossy_desktop.automation.chromium import BrowserNotFound, find_browser
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.automation.errors import AutomationError
from lossy_desktop.automation.providers import provider_for, session_scope
from lossy_desktop.automation.providers.browserbase import (
    BrowserbaseProvider,
    forget_learned_plans,
)
from lossy_desktop.core.logs import redact

try:
    find_browser()
except BrowserNotFound:
    pytest.skip("no Chromium installed", allow_module_level=True)

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Conn:
    platform: str = "youtube"
    provider: str = "browserbase"
    browserbase_context_id: str | None = None
    browserbase_session_id: str | None = None
    local_profile_path: str | None = None


@pytest.fixture
def provider(bb_env: Any, fake_services: Any) -> BrowserbaseProvider:
    prov = provider_for(Conn(), fake_services.settings, fake_services.data)
    assert isinstance(prov, BrowserbaseProvider)
    return prov


@pytest.fixture
def free_plan(bb_env: Any) -> Iterator[Any]:
    """The account on the Free plan (switched back after), nothing learned about it yet."""
    forget_learned_plans()
    bb_env.browserbase.set_plan("free")
    try:
        yield bb_env
    finally:
        bb_env.browserbase.set_plan("developer")
        forget_learned_plans()


def _fake_session(sandbox: Any, session_id: str) -> Any:
    return sandbox.browserbase.sessions[session_id]


def _with_context(engine: AutomationEngine, provider: BrowserbaseProvider, **kw: Any) -> Conn:
    fields = engine.run(lambda _pw: provider.prepare(Conn(**kw)), 30)
    return Conn(**{**kw, **fields})


def test_prepare_creates_one_context_per_connection(engine, provider, bb_env):
    conn = _with_context(engine, provider)
    assert conn.browserbase_context_id in bb_env.browserbase.contexts
    again = engine.run(lambda _pw: provider.prepare(conn), 30)
    assert again == {"browserbase_context_id": conn.browserbase_context_id}  # no second one
    assert len(bb_env.browserbase.contexts) == 1


def test_post_session_connects_navigates_and_is_released(engine, provider, bb_env, fake_services):
    conn = _with_context(engine, provider)

    async def body(pw: Any) -> tuple[Any, str]:
        session = await provider.open(pw, conn, purpose="post")
        await session.page.goto(bb_env.home_url("youtube"))
        title = await session.page.title()
        session.notes_posted = 3
        return await provider.close(session), title

    usage, title = engine.run(body, 90)
    assert "YouTube" in title
    fake = _fake_session(bb_env, usage.session_id)
    assert fake.status == "COMPLETED"
    assert fake.persist is False  # posting sessions read the context, never write it
    assert fake.keep_alive is False
    assert fake.timeout == fake_services.settings.get("browserbase_session_timeout_s")
    assert fake.user_metadata == {
        "app": "lossy-desktop",
        "client": provider.client_id,
        "platform": "youtube",
        "purpose": "post",
    }
    assert provider.client_id  # this install's sessions can be found again
    assert (usage.provider, usage.purpose, usage.notes_posted) == ("browserbase", "post", 3)
    assert usage.billed_seconds == max(60.0, usage.billed_seconds) >= 60.0


def test_login_persists_into_the_context_and_has_a_secret_live_view(engine, provider, bb_env):
    conn = _with_context(engine, provider)

    async def login(pw: Any) -> tuple[str | None, str]:
        session = await provider.open(pw, conn, purpose="login")
        try:
            await session.context.add_cookies([bb_env.login_cookie("youtube", "Ann Reviewer")])
            assert session.session_id is not None
            return session.live_view_url(), session.session_id
        finally:
            await provider.close(session)

    live, session_id = engine.run(login, 90)
    fake = _fake_session(bb_env, session_id)
    assert fake.persist is True
    assert fake.status == "COMPLETED"
    assert live is not None and live.endswith("&navbar=false")
    assert "«redacted»" in redact(f"live view {live}") and live not in redact(live)
    assert fake.signing_key not in redact(f"url ...?signingKey={fake.signing_key}")

    async def verify(pw: Any) -> bool:
        async with session_scope(provider, pw, conn, purpose="verify") as session:
            await session.page.goto(bb_env.home_url("youtube"))
            return await session.page.locator("#avatar-btn").count() == 1

    assert engine.run(verify, 90) is True  # the login came back from the context


def test_released_in_every_outcome_even_when_the_body_raises(engine, provider, bb_env):
    conn = _with_context(engine, provider)
    opened: list[str] = []
    usages: list[Any] = []

    async def body(pw: Any) -> None:
        async with session_scope(provider, pw, conn, purpose="post", on_usage=usages.append) as s:
            assert s.session_id is not None
            opened.append(s.session_id)
            raise RuntimeError("agent exploded")

    with pytest.raises(AutomationError, match="agent exploded"):
        engine.run(body, 90)
    assert _fake_session(bb_env, opened[0]).status == "COMPLETED"
    assert [u.session_id for u in usages] == opened


def test_cancelled_work_still_releases(engine, provider, bb_env):
    conn = _with_context(engine, provider)
    opened: list[str] = []

    async def body(pw: Any) -> None:
        async with session_scope(provider, pw, conn, purpose="post") as s:
            assert s.session_id is not None
            opened.append(s.session_id)
            await asyncio.Event().wait()  # hangs until cancelled

    with pytest.raises(TimeoutError):
        engine.run(body, 20)
    assert opened and _fake_session(bb_env, opened[0]).status == "COMPLETED"


def test_rejected_key_is_auth_rejected(engine, provider, bb_env, monkeypatch):
    conn = _with_context(engine, provider)
    monkeypatch.setenv("BROWSERBASE_API_KEY", "bb_live_wrong-key-123456")
    with pytest.raises(AutomationError) as info:
        engine.run(lambda pw: provider.open(pw, conn, purpose="post"), 60)
    assert info.value.kind == "auth_rejected"
    assert "API key rejected" in info.value.message
    assert "wrong-key" not in str(info.value)
    assert bb_env.browserbase.sessions == {}


def test_missing_key_says_where_to_set_it(engine, bb_env, fake_services, monkeypatch):
    monkeypatch.delenv("BROWSERBASE_API_KEY")
    provider = BrowserbaseProvider(fake_services.settings)
    with pytest.raises(AutomationError, match="BROWSERBASE_API_KEY") as info:
        engine.run(lambda _pw: provider.prepare(Conn()), 30)
    assert info.value.kind == "auth_rejected"


def test_rate_limit_is_a_wait_for_browser_capacity_and_is_not_retried(engine, provider, bb_env):
    conn = _with_context(engine, provider)
    bb_env.set_fault("browserbase", "rate_limited", count=1, retry_after=7)
    with pytest.raises(AutomationError) as info:
        engine.run(lambda pw: provider.open(pw, conn, purpose="post"), 60)
    assert info.value.kind == "browser_capacity"  # not "YouTube is limiting comments"
    assert info.value.retry_after == 7.0
    assert "Browserbase" in info.value.user_message("youtube")
    assert "YouTube" not in info.value.user_message("youtube")
    # The SDK's own retry would have succeeded (the fault was for one request): none happened.
    assert bb_env.browserbase.sessions == {}

    async def body(pw: Any) -> str | None:
        async with session_scope(provider, pw, conn, purpose="post") as session:
            return session.session_id

    assert engine.run(body, 90) in bb_env.browserbase.sessions  # the next try works


def test_deleted_context_means_reconnect(engine, provider, bb_env):
    conn = _with_context(engine, provider)
    engine.run(lambda _pw: provider.forget(conn), 30)
    assert conn.browserbase_context_id not in bb_env.browserbase.contexts
    with pytest.raises(AutomationError) as info:
        engine.run(lambda pw: provider.open(pw, conn, purpose="post"), 60)
    assert info.value.kind == "session_expired"
    assert "connect it again" in info.value.message


def test_detached_login_is_released_later_with_its_usage(engine, provider, bb_env):
    conn = _with_context(engine, provider)

    async def start(pw: Any) -> str:
        session = await provider.open(pw, conn, purpose="login", detached=True)
        await session.page.goto(bb_env.home_url("youtube"))
        await provider.detach(session)
        assert session.session_id is not None
        return session.session_id

    session_id = engine.run(start, 90)
    assert _fake_session(bb_env, session_id).keep_alive is True
    assert _fake_session(bb_env, session_id).status == "RUNNING"  # survives the disconnect
    with_session = Conn(**{**conn.__dict__, "browserbase_session_id": session_id})
    usage = engine.run(lambda _pw: provider.release_login(with_session), 60)
    assert _fake_session(bb_env, session_id).status == "COMPLETED"
    assert usage is not None and usage.purpose == "login" and usage.billed_seconds >= 60


def test_timed_out_session_is_named(engine, fake_services, monkeypatch):
    from lossy_desktop.sandbox.server import SandboxServer

    with SandboxServer(port=0, time_scale=0.02) as fast:  # a 60 s session lives 1.2 s
        monkeypatch.setenv("BROWSERBASE_BASE_URL", fast.base_url)
        monkeypatch.setenv("BROWSERBASE_API_KEY", fast.browserbase_api_key)
        fake_services.settings.set("browserbase_session_timeout_s", 60)
        provider = BrowserbaseProvider(fake_services.settings)
        conn = Conn(**engine.run(lambda _pw: provider.prepare(Conn()), 30))

        async def body(pw: Any) -> None:
            async with session_scope(provider, pw, conn, purpose="post") as session:
                for _ in range(600):  # wait for the condition: the transport closes
                    if session.disconnected:
                        break
                    await asyncio.sleep(0.05)
                await session.page.goto(fast.home_url("vimeo"))

        with pytest.raises(AutomationError) as info:
            engine.run(body, 90)
        assert info.value.kind == "browser_unavailable"
        assert "TIMED_OUT" in info.value.message


def _login(engine: AutomationEngine, provider: BrowserbaseProvider, conn: Conn, env: Any) -> str:
    """A login session that logs in (the sandbox's cookie) and is closed; its id."""

    async def login(pw: Any) -> str:
        session = await provider.open(pw, conn, purpose="login")
        try:
            await session.context.add_cookies([env.login_cookie("youtube", "Ann Reviewer")])
            assert session.session_id is not None
            return session.session_id
        finally:
            await provider.close(session)

    return engine.run(login, 90)


def _logged_in(
    engine: AutomationEngine, provider: BrowserbaseProvider, conn: Conn, env: Any
) -> bool:
    async def verify(pw: Any) -> bool:
        async with session_scope(provider, pw, conn, purpose="verify") as session:
            await session.page.goto(env.home_url("youtube"))
            return await session.page.locator("#avatar-btn").count() == 1

    return engine.run(verify, 90)


def test_release_waits_for_the_end_and_the_context_save(engine, provider, bb_env):
    """Release is asynchronous (the session runs on after REQUEST_RELEASE and saves its context
    after that): close() returns only once the context is free, so the next session on it —
    whoever opens it — starts and finds the login."""
    conn = _with_context(engine, provider)
    session_id = _login(engine, provider, conn, bb_env)
    fake = _fake_session(bb_env, session_id)
    assert fake.status == "COMPLETED"
    assert bb_env.browserbase.contexts[conn.browserbase_context_id].in_use_by is None
    assert provider.context_settle_s > 0
    assert _logged_in(engine, provider, conn, bb_env) is True


def test_free_plan_is_learned_from_the_refusal_and_login_works(engine, provider, free_plan):
    conn = _with_context(engine, provider)
    assert provider.plan() is None  # browserbase_plan is "" : learn it
    session_id = _login(engine, provider, conn, free_plan)
    fake = _fake_session(free_plan, session_id)
    assert fake.timeout == 900  # asked no more than the Free plan's 15 minutes
    assert provider.plan() == "free"
    assert "Free plan's 15-minute" in provider.plan_limit_text()
    assert _logged_in(engine, provider, conn, free_plan) is True

    async def detached(pw: Any) -> Any:
        session = await provider.open(pw, conn, purpose="login", detached=True)
        try:
            return session.detached, session.session_id
        finally:
            await provider.close(session)

    was_detached, detached_id = engine.run(detached, 90)
    assert was_detached is False  # no keepAlive on Free: the caller stays connected
    assert _fake_session(free_plan, detached_id).keep_alive is False


def test_free_plan_from_the_setting_asks_within_it(engine, provider, free_plan, fake_services):
    fake_services.settings.set("browserbase_plan", "free")
    conn = _with_context(engine, provider)
    assert provider.session_timeout("login") == 900
    assert provider.keep_alive_allowed() is False
    session_id = _login(engine, provider, conn, free_plan)
    assert _fake_session(free_plan, session_id).timeout == 900


def test_keep_alive_refused_by_the_plan_is_not_a_rejected_key(
    engine, provider, free_plan, fake_services
):
    fake_services.settings.set("browserbase_plan", "developer")  # says so, but the account is Free
    fake_services.settings.set("browserbase_session_timeout_s", 600)
    conn = _with_context(engine, provider)
    with pytest.raises(AutomationError) as info:
        engine.run(lambda pw: provider.open(pw, conn, purpose="post", detached=True), 60)
    assert info.value.kind != "auth_rejected"
    assert "API key" not in info.value.message
    assert "Free plan" in info.value.message and "Developer plan" in info.value.message


def test_context_create_is_not_retried(engine, provider, bb_env):
    bb_env.set_fault("browserbase", "server_error", count=1, on="api")
    with pytest.raises(AutomationError) as info:
        engine.run(lambda _pw: provider.prepare(Conn()), 30)
    assert info.value.kind == "network_error"
    assert bb_env.browserbase.contexts == {}  # the SDK's retry would have made one: none ran


def test_a_session_whose_connect_failed_is_released_and_its_usage_recorded(
    engine, provider, bb_env
):
    conn = _with_context(engine, provider)
    bb_env.set_fault("browserbase", "refuse_connect", count=1)
    usages: list[Any] = []

    async def body(pw: Any) -> None:
        async with session_scope(provider, pw, conn, purpose="post", on_usage=usages.append):
            pass

    with pytest.raises(AutomationError) as info:
        engine.run(body, 90)
    assert info.value.kind == "browser_unavailable"
    assert len(usages) == 1 and usages[0].session_id in bb_env.browserbase.sessions
    assert usages[0].billed_seconds >= 60  # billed all the same
    assert _fake_session(bb_env, usages[0].session_id).status != "RUNNING"


def test_orphaned_sessions_are_found_by_metadata_and_released(
    engine, provider, bb_env, fake_services
):
    conn = _with_context(engine, provider)
    other = BrowserbaseProvider(fake_services.settings, client_id="another-install")
    other_conn = _with_context(engine, other)

    async def leave_running(pw: Any, prov: BrowserbaseProvider, c: Conn) -> str:
        session = await prov.open(pw, c, purpose="login", detached=True)
        await prov.detach(session)  # the app "crashed": nobody releases it
        assert session.session_id is not None
        return session.session_id

    orphan = engine.run(lambda pw: leave_running(pw, provider, conn), 90)
    foreign = engine.run(lambda pw: leave_running(pw, other, other_conn), 90)
    released = engine.run(lambda _pw: provider.release_orphans(keep=set()), 60)
    assert released == [orphan]
    assert _fake_session(bb_env, orphan).status == "COMPLETED"
    assert _fake_session(bb_env, foreign).status == "RUNNING"  # another install's: untouched
    assert engine.run(lambda _pw: other.release_orphans(keep={foreign}), 60) == []
    assert engine.run(lambda _pw: other.release_orphans(), 60) == [foreign]


def test_recorded_session_failure_links_to_its_replay(engine, provider, bb_env, fake_services):
    import httpx

    fake_services.settings.set("browserbase_record_sessions", True)
    conn = _with_context(engine, provider)
    opened: list[str] = []

    async def body(pw: Any) -> None:
        async with session_scope(provider, pw, conn, purpose="post") as session:
            assert session.session_id is not None
            opened.append(session.session_id)
            raise RuntimeError("agent exploded")

    with pytest.raises(AutomationError) as info:
        engine.run(body, 90)
    assert _fake_session(bb_env, opened[0]).record is True
    assert info.value.replay_url == f"{bb_env.base_url}/sessions/{opened[0]}"
    page = httpx.get(info.value.replay_url, trust_env=False)
    assert page.status_code == 200 and opened[0] in page.text


def test_unrecorded_by_default(engine, provider, bb_env):
    conn = _with_context(engine, provider)

    async def body(pw: Any) -> Any:
        session = await provider.open(pw, conn, purpose="post")
        await provider.close(session)
        return session

    session = engine.run(body, 90)
    assert _fake_session(bb_env, session.session_id).record is False
    assert "replay_url" not in session.extra

"""The sandbox in a real headless Chromium (driven through a pipe, not marked automated, as the
app drives the local browser; its sign-in refuses a browser marked automated), and the fake
Browserbase API through the official SDK with connect_over_cdp through its connectUrl."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import browserbase
import httpx
import psutil
import pytest
from browserbase import Browserbase
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from lossy_desktop.automation.chromium import (
    AUTOMATION_DEFAULTS_DROPPED,
    NOT_AUTOMATED,
    find_browser,
)
from lossy_desktop.sandbox.server import SandboxServer

pytestmark = pytest.mark.browser

try:
    find_browser()
except Exception:  # pragma: no cover - depends on the machine
    pytest.skip("no Chromium installed", allow_module_level=True)


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def pw() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(pw: Playwright) -> Iterator[Browser]:
    b = pw.chromium.launch(
        executable_path=str(find_browser()),
        args=[NOT_AUTOMATED],
        ignore_default_args=list(AUTOMATION_DEFAULTS_DROPPED),
    )
    yield b
    b.close()


def test_sign_in_refuses_a_browser_marked_automated(pw: Playwright, sandbox: SandboxServer) -> None:
    automated = pw.chromium.launch(executable_path=str(find_browser()))  # Playwright's defaults
    try:
        page = automated.new_page()
        assert page.evaluate("navigator.webdriver") is True
        page.goto(sandbox.login_url("youtube"))
        page.locator("input[name=account]").fill("Bot")
        page.locator("button[type=submit]").click()
        page.get_by_role("alert").wait_for()
        assert "This browser or app may not be secure" in page.get_by_role("alert").inner_text()
    finally:
        automated.close()
    assert sandbox.logins() == []
    assert sandbox.sign_ins() == [{"platform": "youtube", "account": "Bot", "webdriver": "true"}]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context: BrowserContext = browser.new_context()
    p = context.new_page()
    p.set_default_timeout(10_000)
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert errors == [], errors


def log_in(page: Page, sb: SandboxServer, platform: str, account: str) -> None:
    page.goto(sb.login_url(platform))
    page.locator("input[name=account]").fill(account)
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/{platform}$"))


def seek(page: Page, seconds: float) -> None:
    page.evaluate("t => { document.querySelector('video').currentTime = t; }", seconds)
    assert page.evaluate("document.querySelector('video').currentTime") == seconds


# ---- the three platforms ------------------------------------------------------------------


def test_youtube_post_in_browser(page: Page, sandbox: SandboxServer) -> None:
    log_in(page, sandbox, "youtube", "Rev One")
    page.goto(sandbox.video_url("youtube", "vid1"))
    assert page.locator("#avatar-btn").is_visible()
    assert page.locator('a[href*="ServiceLogin"]').count() == 0
    # lazily loaded: nothing until the section is scrolled into view
    assert page.locator("ytd-comment-simplebox-renderer").count() == 0
    page.locator("ytd-comments#comments").scroll_into_view_if_needed()
    page.locator("ytd-comments ytd-comment-simplebox-renderer #placeholder-area").click()
    seek(page, 83)
    page.locator("#contenteditable-root").fill("1:23 — the cut is late")
    page.locator("#submit-button button").click()
    thread = page.locator("ytd-comment-thread-renderer").first
    href = thread.locator("#published-time-text a").get_attribute("href")
    assert href is not None
    comment_id = href.rsplit("&lc=", 1)[1]
    (stored,) = sandbox.comments("youtube", "vid1")
    assert stored["id"] == comment_id
    assert stored["time"] == 83 and stored["player_time"] == 83
    assert thread.locator("#author-text").inner_text() == "@Rev One"
    # the timecode is a link to &t=83s that seeks the player
    seek(page, 0)
    link = thread.locator("#content-text a", has_text="1:23")
    assert link.get_attribute("href", timeout=1000).endswith("&t=83s")  # type: ignore[union-attr]
    link.click()
    assert page.evaluate("document.getElementById('movie_player').getCurrentTime()") == 83
    # the permalink highlights the comment
    page.goto(stored["permalink"])
    page.locator("ytd-comments#comments").scroll_into_view_if_needed()
    page.locator("#linked-comment-badge").wait_for()


def test_youtube_logged_out_prompts_sign_in(page: Page, sandbox: SandboxServer) -> None:
    page.goto(sandbox.video_url("youtube", "v"))
    assert page.get_by_role("link", name="Sign in").first.is_visible()
    page.locator("ytd-comments#comments").scroll_into_view_if_needed()
    page.locator("#placeholder-area").click()
    assert page.locator("#sign-in-prompt").get_by_role("link", name="Sign in").is_visible()
    assert page.locator("#contenteditable-root").count() == 0


def test_vimeo_post_in_browser(page: Page, sandbox: SandboxServer) -> None:
    sandbox.add_comment("vimeo", "555", "0:07 earlier note", author="Other")
    log_in(page, sandbox, "vimeo", "Rev One")
    page.goto(sandbox.video_url("vimeo", "555"))
    assert page.locator("#topnav_user").is_visible()
    page.locator("#comments-panel[data-loaded=true]").wait_for()
    assert page.locator("article[id^='comment_']").count() == 1
    seek(page, 12)
    page.get_by_role("textbox", name=re.compile("comment", re.I)).fill("0:12 — hello vimeo")
    page.get_by_role("button", name="Comment").click()
    new = page.locator("article[id^='comment_']").nth(1)
    new.wait_for()
    dom_id = new.get_attribute("id")
    stored = sandbox.comments("vimeo", "555")[-1]
    assert dom_id == f"comment_{stored['id']}"
    assert stored["time"] == 12 and stored["author"] == "Rev One"
    assert new.locator("a.comment_permalink").get_attribute("href") == f"#comment_{stored['id']}"
    assert new.locator("button.copy_link").get_attribute("data-permalink") == stored["permalink"]
    assert new.locator("a.timecode").get_attribute("href") == "#t=12s"


def test_air_post_in_browser(page: Page, sandbox: SandboxServer) -> None:
    log_in(page, sandbox, "air", "Rev One")
    page.goto(sandbox.video_url("air", "asset1"))
    assert page.locator("[data-testid=user-avatar]").is_visible()
    seek(page, 42.5)
    page.locator("[data-testid=comment-input]").fill("the logo is soft")
    page.locator("[data-testid=comment-submit]").click()
    item = page.locator("[data-testid=comment]").first
    item.wait_for()
    stored = sandbox.comments("air")[0]
    assert item.get_attribute("data-comment-id") == stored["id"]
    assert stored["time"] == 42.5
    assert item.locator("[data-testid=comment-timestamp]").inner_text() == "0:42"
    copy = item.locator("[data-testid=comment-copy-link]")
    assert copy.get_attribute("data-href") == stored["permalink"]


# ---- faults in the browser ----------------------------------------------------------------


def test_rate_limit_shows_the_platforms_message(page: Page, sandbox: SandboxServer) -> None:
    log_in(page, sandbox, "vimeo", "Rev One")
    page.goto(sandbox.video_url("vimeo", "1"))
    sandbox.set_fault("vimeo", "rate_limited", count=1)
    page.locator("#comment-form textarea").fill("too fast")
    page.locator("#comment-submit").click()
    alert = page.locator("#flash[role=alert]")
    alert.wait_for()
    assert "slow down" in alert.inner_text().lower()
    assert page.locator("article[id^='comment_']").count() == 0
    assert sandbox.comments() == []


def test_changed_selectors_keep_or_drop_roles(page: Page, sandbox: SandboxServer) -> None:
    log_in(page, sandbox, "youtube", "Rev One")
    sandbox.set_fault("youtube", "changed_selectors", variant="ids", count=1)
    page.goto(sandbox.video_url("youtube", "v"))
    page.mouse.wheel(0, 4000)
    page.get_by_role("button", name="Add a comment…").click()
    assert page.locator("#contenteditable-root").count() == 0
    assert page.locator("#avatar-btn").count() == 0
    page.get_by_role("textbox", name=re.compile("comment", re.I)).fill("by role")
    page.get_by_role("button", name="Comment", exact=True).click()
    wait_until(lambda: sandbox.comments("youtube"), what="the comment")
    sandbox.set_fault("youtube", "changed_selectors", variant="ids_and_roles", count=1)
    page.goto(sandbox.video_url("youtube", "v"))
    page.mouse.wheel(0, 4000)
    page.get_by_text("Add a comment…").click()
    page.locator("#yc7-editor-id[contenteditable=true]").wait_for()  # the box did open
    assert page.get_by_role("textbox", name=re.compile("comment", re.I)).count() == 0
    assert page.get_by_role("button", name="Comment", exact=True).count() == 0


def test_held_comment_visible_only_to_author(page: Page, sandbox: SandboxServer) -> None:
    sandbox.set_fault("air", "held_for_review", count=1)
    log_in(page, sandbox, "air", "Author")
    page.goto(sandbox.video_url("air", "a"))
    page.locator("[data-testid=comment-input]").fill("needs approval")
    page.locator("[data-testid=comment-submit]").click()
    page.locator("[data-testid=comment-pending]").wait_for()
    assert sandbox.comments("air")[0]["held"] is True
    log_in(page, sandbox, "air", "Someone Else")
    page.goto(sandbox.video_url("air", "a"))
    page.locator("[data-testid=comments-panel][data-loaded=true]").wait_for()
    assert page.locator("[data-testid=comment]").count() == 0


# ---- the fake Browserbase -------------------------------------------------------------------


def bb_client(sb: SandboxServer, key: str | None = None) -> Browserbase:
    return Browserbase(
        api_key=key or sb.browserbase_api_key, base_url=sb.base_url, max_retries=0, timeout=60
    )


def test_browserbase_validates_auth_and_bodies(sandbox: SandboxServer) -> None:
    with pytest.raises(browserbase.AuthenticationError):
        bb_client(sandbox, "wrong-key").sessions.create()
    bb = bb_client(sandbox)
    for bad in ({"api_timeout": 59}, {"api_timeout": 21601}):
        with pytest.raises(browserbase.BadRequestError, match="between 60 and 21600"):
            bb.sessions.create(**bad)  # type: ignore[arg-type]
    with pytest.raises(browserbase.NotFoundError, match="Context"):
        bb.sessions.create(browser_settings={"context": {"id": "nope", "persist": True}})
    with pytest.raises(browserbase.BadRequestError, match="region"):
        bb.sessions.create(region="mars-1")  # type: ignore[arg-type]
    with pytest.raises(browserbase.NotFoundError):
        bb.sessions.retrieve("missing")
    with pytest.raises(browserbase.NotFoundError):
        bb.contexts.retrieve("missing")
    r = httpx.post(
        f"{sandbox.base_url}/v1/sessions",
        content=b"[1]",
        headers={"X-BB-API-Key": sandbox.browserbase_api_key, "Content-Type": "application/json"},
        trust_env=False,
    )
    assert r.status_code == 400 and r.json()["statusCode"] == 400
    assert sandbox.browserbase_sessions() == []


def test_browserbase_free_plan_refuses_keep_alive() -> None:
    with SandboxServer(plan="free") as sb:
        bb = bb_client(sb)
        with pytest.raises(browserbase.PermissionDeniedError, match="keepAlive"):
            bb.sessions.create(keep_alive=True)
        with pytest.raises(browserbase.BadRequestError, match="900"):
            bb.sessions.create(api_timeout=3600)
        assert sb.browserbase is not None
        sb.browserbase.set_plan("startup")  # an upgrade: both are allowed now
        session = bb.sessions.create(keep_alive=True, api_timeout=3600)
        assert session.keep_alive is True
        bb.sessions.update(session.id, status="REQUEST_RELEASE")
        with pytest.raises(ValueError, match="plan must be one of"):
            sb.browserbase.set_plan("gold")


def test_release_is_asynchronous_and_the_context_is_saved_after(sandbox: SandboxServer) -> None:
    bb = bb_client(sandbox)
    context = bb.contexts.create()
    settings: Any = {"context": {"id": context.id, "persist": True}}
    first = bb.sessions.create(browser_settings=settings, keep_alive=True)
    assert bb.sessions.update(first.id, status="REQUEST_RELEASE").status == "RUNNING"
    # still running: the context is held, a new session on it is refused
    with pytest.raises(browserbase.ConflictError):
        bb.sessions.create(browser_settings=settings)
    wait_until(lambda: bb.sessions.retrieve(first.id).status == "COMPLETED", what="the end")
    second = bb.sessions.create(browser_settings=settings)  # saved: it starts
    assert second.status == "RUNNING"
    bb.sessions.update(second.id, status="REQUEST_RELEASE")


def test_sessions_are_listed_by_user_metadata(sandbox: SandboxServer) -> None:
    bb = bb_client(sandbox)
    ours = bb.sessions.create(keep_alive=True, user_metadata={"app": "lossy", "run": {"id": "7"}})
    theirs = bb.sessions.create(keep_alive=True, user_metadata={"app": "other"})
    try:
        found = bb.sessions.list(q="user_metadata['app']:'lossy'")
        assert [s.id for s in found] == [ours.id]
        nested = bb.sessions.list(
            q="user_metadata['app']:'lossy' AND user_metadata['run']['id']:'7'"
        )
        assert [s.id for s in nested] == [ours.id]
        assert bb.sessions.list(q="user_metadata['app']:'none'") == []
        assert {s.id for s in bb.sessions.list(status="RUNNING")} >= {ours.id, theirs.id}
        with pytest.raises(browserbase.BadRequestError, match="user_metadata"):
            bb.sessions.list(q="app = lossy")
    finally:
        for s in (ours, theirs):
            bb.sessions.update(s.id, status="REQUEST_RELEASE")


def test_a_new_tab_ends_the_pages_live_view(
    pw: Playwright, page: Page, sandbox: SandboxServer
) -> None:
    """The live view of a page tells its parent "browserbase-disconnected" when a tab opens
    (the client then asks /debug again for the page the user is on)."""
    bb = bb_client(sandbox)
    session = bb.sessions.create()
    live = bb.sessions.debug(session.id)
    page.goto(f"{sandbox.base_url}/_sandbox")  # the parent page, on the view's site
    page.set_content(
        "<script>window.got = []; addEventListener('message', e => got.push(e.data));</script>"
        f"<iframe src='{live.debugger_fullscreen_url}&navbar=false'></iframe>"
    )
    b = pw.chromium.connect_over_cdp(session.connect_url)
    try:
        view = wait_until(
            lambda: next((f for f in page.frames if "/view?" in f.url), None), what="the view"
        )
        view.wait_for_function("tabs === 1")  # the view has seen the one tab
        assert page.evaluate("window.got") == []
        b.contexts[0].new_page()
        page.wait_for_function("window.got.includes('browserbase-disconnected')")
        assert bb.sessions.retrieve(session.id).status == "RUNNING"  # only the view ended
        assert len(bb.sessions.debug(session.id).pages) == 2  # asked again: both pages
    finally:
        b.close()


def test_concurrency_limit_and_timeout(tmp_path: Path) -> None:
    with SandboxServer(max_sessions=1, time_scale=0.02, profiles_dir=tmp_path) as sb:
        bb = bb_client(sb)
        first = bb.sessions.create(api_timeout=60, keep_alive=True)
        with pytest.raises(browserbase.RateLimitError) as info:
            bb.sessions.create()
        headers = info.value.response.headers
        assert int(headers["retry-after"]) > 0 and headers["x-ratelimit-remaining"] == "0"
        assert 0 < int(headers["x-ratelimit-reset"]) <= 60  # seconds to wait, not a timestamp
        # 60 s at time_scale 0.02 is 1.2 s: the session times out and its browser is stopped
        wait_until(lambda: bb.sessions.retrieve(first.id).status == "TIMED_OUT", 20, "TIMED_OUT")
        pid = sb.browserbase_sessions()[0]["pid"]
        wait_until(lambda: not psutil.pid_exists(pid), what="the browser to exit")
        second = bb.sessions.create(keep_alive=True)
        pid = next(s["pid"] for s in sb.browserbase_sessions() if s["id"] == second.id)
        assert psutil.pid_exists(pid)
    # stopping the server stops its browsers
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize(("platform", "video"), [("youtube", "v"), ("vimeo", "1"), ("air", "a")])
def test_the_video_opens_at_the_notes_time(
    page: Page, sandbox: SandboxServer, platform: str, video: str
) -> None:
    """The app's "Open video at time" address (core.platforms.video_url_at) starts the player
    at the note's second on each platform."""
    from lossy_desktop.core.platforms import video_url_at

    page.goto(video_url_at(platform, sandbox.video_url(platform, video), 83.4))
    wait_until(
        lambda: page.evaluate("document.querySelector('video').currentTime") == 83,
        what=f"{platform} player at 83 s",
    )

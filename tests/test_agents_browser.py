"""The platform agents against the offline sandbox, in a real headless Chromium over CDP.

One Chromium (a plain process, as the app starts it) and one sandbox serve the module; every
test gets a fresh browser context (own cookies) and a reset sandbox.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright

from lossy_desktop.automation.agents import (
    STEP_CONFIRMING,
    STEP_SEEKING,
    STEP_SUBMITTING,
    STEP_TYPING,
    NoteToPost,
    PostOutcome,
    Timeouts,
    agent_for,
    format_comment,
)
from lossy_desktop.automation.chromium import (
    AUTOMATION_DEFAULTS_DROPPED,
    NOT_AUTOMATED,
    BrowserNotFound,
    find_browser,
)
from lossy_desktop.sandbox.server import SandboxServer

pytestmark = pytest.mark.browser

PLATFORMS = ("youtube", "vimeo", "air")
ACCOUNT = "Reviewer One"
# Short enough that a missing element fails the test quickly, long enough for a busy machine.
FAST = Timeouts(navigation_s=30.0, element_s=4.0, confirm_s=8.0)

T = TypeVar("T")


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        return str(find_browser())
    except BrowserNotFound as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer(port=0) as server:
        yield server


@pytest.fixture
def sb(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()


class _Driver:
    """One Playwright instance and one browser driven through a pipe (not marked automated, as
    the app's), on a loop thread shared by the module (starting Playwright costs ~2 s; the
    app's AutomationEngine does the same)."""

    def __init__(self, executable: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.pw: Playwright | None = None
        self.browser: Browser | None = None
        self.call(self._start(executable))

    async def _start(self, executable: str) -> None:
        self.pw = await async_playwright().start()
        self.browser = await self.pw.chromium.launch(
            executable_path=executable,
            args=[NOT_AUTOMATED],
            ignore_default_args=list(AUTOMATION_DEFAULTS_DROPPED),
        )

    async def _stop(self) -> None:
        if self.browser is not None:
            await self.browser.close()
        if self.pw is not None:
            await self.pw.stop()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def close(self) -> None:
        try:
            self.call(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


@pytest.fixture(scope="module")
def driver(chromium: str) -> Iterator[_Driver]:
    d = _Driver(chromium)
    try:
        yield d
    finally:
        d.close()


@pytest.fixture
def in_browser(driver: _Driver, sb: SandboxServer) -> Callable[..., Any]:
    """Run `scenario(page)` in a fresh context; `login` sets the platform's session cookie."""

    def run(scenario: Callable[[Page], Awaitable[T]], *, login: str | None = None) -> T:
        async def main() -> T:
            assert driver.browser is not None
            context = await driver.browser.new_context()
            try:
                if login is not None:
                    await context.add_cookies([sb.login_cookie(login, ACCOUNT)])  # type: ignore[list-item]
                page = await context.new_page()
                return await scenario(page)
            finally:
                await context.close()

        return driver.call(main())

    return run


def _notes(start_id: int = 1) -> list[NoteToPost]:
    return [
        NoteToPost(start_id, "Cut is late here", 83.0),
        NoteToPost(start_id + 1, "Colour shifts — check the grade", 245.4),
        NoteToPost(start_id + 2, "Audio pops after the title", 3723.0),
    ]


def _post(
    in_browser: Callable[..., Any],
    sb: SandboxServer,
    platform: str,
    video: str,
    notes: list[NoteToPost],
    artifacts: Path,
    steps: list[tuple[int, str]] | None = None,
    *,
    login: bool = True,
    loads: list[str] | None = None,
) -> list[PostOutcome]:
    agent = agent_for(platform, FAST)
    url = sb.video_url(platform, video)
    sb.set_video(platform, video, duration=7200)

    async def scenario(page: Page) -> list[PostOutcome]:
        if loads is not None:
            page.on(
                "request",
                lambda r: loads.append(r.url) if r.resource_type == "document" else None,
            )
        return await agent.post(
            page,
            url,
            notes,
            artifacts_dir=artifacts,
            on_step=(lambda i, s: steps.append((i, s)))
            if steps is not None
            else (lambda i, s: None),
        )

    return in_browser(scenario, login=platform if login else None)


def _kinds(outcomes: list[PostOutcome]) -> list[str | None]:
    return [o.error.kind if o.error else None for o in outcomes]


# ---- login --------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_check_login_both_ways(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any]
) -> None:
    agent = agent_for(platform, FAST)
    url = sb.video_url(platform, "loginvid")

    async def check(page: Page) -> Any:
        await page.goto(url)
        return await agent.check_login(page)

    logged_in = in_browser(check, login=platform)
    assert logged_in.logged_in
    assert logged_in.account == ACCOUNT
    logged_out = in_browser(check)
    assert not logged_out.logged_in
    assert logged_out.account is None


# ---- posting ------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_post_three_notes_in_one_page_load(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    steps: list[tuple[int, str]] = []
    loads: list[str] = []
    notes = _notes()
    outcomes = _post(in_browser, sb, platform, "vid1", notes, tmp_path, steps, loads=loads)

    assert [o.posted for o in outcomes] == [True, True, True], _kinds(outcomes)
    assert not any(o.already_present for o in outcomes)
    comments = sb.comments(platform, "vid1")
    assert len(comments) == 3
    by_text = {c["text"]: c for c in comments}
    for note, outcome in zip(notes, outcomes, strict=True):
        expected = format_comment(note.timestamp_seconds, note.text)
        comment = by_text[expected]  # exactly once, with the timecode first
        assert comment["author"] == ACCOUNT
        assert outcome.comment_id == comment["id"]
        assert outcome.permalink is not None and comment["id"] in outcome.permalink
        assert outcome.permalink == comment["permalink"]
        # The player was at the note's moment when the comment was written.
        assert comment["player_time"] == pytest.approx(note.timestamp_seconds, abs=1)
    assert [s for i, s in steps if i == notes[0].note_id][-4:] == [
        STEP_SEEKING,
        STEP_TYPING,
        STEP_SUBMITTING,
        STEP_CONFIRMING,
    ]
    assert loads == [sb.video_url(platform, "vid1")]  # one page load for the batch


@pytest.mark.parametrize("platform", PLATFORMS)
def test_already_present_is_not_posted_twice(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    notes = _notes()[:2]
    first = _post(in_browser, sb, platform, "vid2", notes, tmp_path)
    assert [o.posted for o in first] == [True, True]

    again = _post(in_browser, sb, platform, "vid2", notes, tmp_path)
    assert [o.posted for o in again] == [True, True]
    assert [o.already_present for o in again] == [True, True]
    assert [o.comment_id for o in again] == [o.comment_id for o in first]
    assert [o.permalink for o in again] == [o.permalink for o in first]
    assert len(sb.comments(platform, "vid2")) == 2


@pytest.mark.parametrize("platform", PLATFORMS)
def test_same_text_from_another_account_is_not_ours(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    note = _notes()[0]
    sb.set_video(platform, "vid3", duration=7200)
    sb.add_comment(
        platform, "vid3", format_comment(note.timestamp_seconds, note.text), author="Someone Else"
    )
    outcomes = _post(in_browser, sb, platform, "vid3", [note], tmp_path)
    assert outcomes[0].posted and not outcomes[0].already_present
    authors = sorted(c["author"] for c in sb.comments(platform, "vid3"))
    assert authors == [ACCOUNT, "Someone Else"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_text_too_long_never_touches_the_page(
    platform: str, sb: SandboxServer, tmp_path: Path
) -> None:
    agent = agent_for(platform, FAST)
    long_note = NoteToPost(9, "x" * agent.comment_limit, 10.0)

    class NoPage:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the page was used ({name})")

    outcomes = asyncio.run(
        agent.post(NoPage(), sb.video_url(platform, "v"), [long_note], artifacts_dir=tmp_path)  # type: ignore[arg-type]
    )
    assert _kinds(outcomes) == ["text_too_long"]
    assert not outcomes[0].posted


# ---- faults -------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_logged_out_fails_every_note_as_not_logged_in(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_fault(platform, "logged_out")
    outcomes = _post(in_browser, sb, platform, "vid4", _notes(), tmp_path)
    assert _kinds(outcomes) == ["not_logged_in"] * 3
    assert all(o.error is not None and o.error.holds for o in outcomes)
    assert sb.comments(platform, "vid4") == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_login_at_all_is_not_logged_in(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    outcomes = _post(in_browser, sb, platform, "vid4b", _notes()[:1], tmp_path, login=False)
    assert _kinds(outcomes) == ["not_logged_in"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_session_expired_is_told_apart(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_fault(platform, "session_expired")
    outcomes = _post(in_browser, sb, platform, "vid5", _notes()[:2], tmp_path)
    assert _kinds(outcomes) == ["session_expired"] * 2


@pytest.mark.parametrize("platform", PLATFORMS)
def test_rate_limited_stops_the_batch(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    # The first comment goes through, the second is refused, the third is not attempted.
    notes = _notes()
    sb.set_video(platform, "vid6", duration=7200)
    sb.set_fault(platform, "rate_limited", retry_after=45)
    outcomes = _post(in_browser, sb, platform, "vid6", notes, tmp_path)
    assert _kinds(outcomes) == ["rate_limited"] * 3
    assert outcomes[0].error is not None and outcomes[0].error.retry_after == 45
    assert all(o.error is not None and o.error.retryable for o in outcomes)
    assert sb.comments(platform, "vid6") == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_rate_limit_in_the_middle_of_a_batch(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    notes = _notes()
    steps: list[tuple[int, str]] = []
    sb.set_video(platform, "vid6b", duration=7200)
    # Let one comment through, then rate-limit: post one note first, then set the fault.
    first = _post(in_browser, sb, platform, "vid6b", notes[:1], tmp_path)
    assert first[0].posted
    sb.set_fault(platform, "rate_limited", count=1)
    outcomes = _post(in_browser, sb, platform, "vid6b", notes, tmp_path, steps)
    assert outcomes[0].already_present
    assert _kinds(outcomes) == [None, "rate_limited", "rate_limited"]
    assert "not attempted" in (outcomes[2].error.message if outcomes[2].error else "")
    assert not any(i == notes[2].note_id for i, _ in steps)
    assert len(sb.comments(platform, "vid6b")) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_comments_disabled(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_fault(platform, "comments_disabled")
    outcomes = _post(in_browser, sb, platform, "vid7", _notes()[:2], tmp_path)
    assert _kinds(outcomes) == ["comments_disabled"] * 2
    assert not any(o.error is not None and o.error.retryable for o in outcomes)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_held_for_review(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_fault(platform, "held_for_review", count=1)
    outcomes = _post(in_browser, sb, platform, "vid8", _notes()[:2], tmp_path)
    assert _kinds(outcomes) == ["held_for_review", None]
    held = [c for c in sb.comments(platform, "vid8") if c["held"]]
    assert len(held) == 1
    assert outcomes[0].comment_id == held[0]["id"]
    assert outcomes[1].posted


@pytest.mark.parametrize("platform", PLATFORMS)
def test_changed_ids_fall_back_to_roles_and_names(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_fault(platform, "changed_selectors", variant="ids")
    notes = _notes()[:2]
    outcomes = _post(in_browser, sb, platform, "vid9", notes, tmp_path)
    assert [o.posted for o in outcomes] == [True, True], _kinds(outcomes)
    comments = sb.comments(platform, "vid9")
    assert sorted(o.comment_id or "" for o in outcomes) == sorted(c["id"] for c in comments)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_changed_selectors_without_roles_is_selector_failed_with_a_screenshot(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_fault(platform, "changed_selectors", variant="ids_and_roles")
    notes = _notes()[:2]
    outcomes = _post(in_browser, sb, platform, "vid10", notes, tmp_path)
    assert _kinds(outcomes) == ["selector_failed"] * 2
    for note, outcome in zip(notes, outcomes, strict=True):
        assert outcome.error is not None and outcome.error.artifact_path
        shot = Path(outcome.error.artifact_path)
        assert shot.suffix == ".png" and shot.stat().st_size > 1000
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.name.startswith(f"note-{note.note_id}-")
        info = shot.with_suffix(".txt").read_text()
        assert sb.video_url(platform, "vid10") in info
    assert sb.comments(platform, "vid10") == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_slow_page_still_posts(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_fault(platform, "slow_page", delay=2)
    outcomes = _post(in_browser, sb, platform, "vid11", _notes()[:1], tmp_path)
    assert outcomes[0].posted, _kinds(outcomes)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("on", ["page", "post"])
def test_dropped_connection_is_a_network_error(
    platform: str, on: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_fault(platform, "dropped_connection", on=on)
    outcomes = _post(in_browser, sb, platform, "vid12", _notes()[:2], tmp_path)
    assert _kinds(outcomes) == ["network_error"] * 2
    assert outcomes[0].error is not None and outcomes[0].error.retryable
    assert outcomes[0].error.artifact_path  # evidence kept
    assert sb.comments(platform, "vid12") == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_dropped_after_commit_is_found_and_a_retry_does_not_post_twice(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    """The platform saved the comment but the answer never came: the agent looks again on a
    fresh page, finds it and records it as posted; a retry (a crash between submit and save
    looks the same) finds it too and adds nothing."""
    note = _notes()[0]
    sb.set_fault(platform, "dropped_connection", on="post", after_commit=True, count=1)
    first = _post(in_browser, sb, platform, "vid13", [note], tmp_path)
    assert first[0].posted, _kinds(first)
    assert not first[0].already_present and first[0].remark is None
    saved = sb.comments(platform, "vid13")
    assert len(saved) == 1
    assert first[0].comment_id == saved[0]["id"]

    retry = _post(in_browser, sb, platform, "vid13", [note], tmp_path)
    assert retry[0].posted and retry[0].already_present
    assert [c["id"] for c in sb.comments(platform, "vid13")] == [saved[0]["id"]]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_post_resent_by_the_browser_leaves_exactly_one_comment(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    """A browser re-sends a POST whose socket was reset before any answer: the platform stores
    the comment twice and the answer is lost. The agent finds both copies, deletes the later
    one through the delete path, keeps the first one's permalink and says what it did."""
    note, other = _notes()[:2]
    sb.set_video(platform, "vid16", duration=7200)
    sb.add_comment(platform, "vid16", format_comment(note.timestamp_seconds, note.text))
    sb.set_fault(platform, "dropped_connection", on="post", after_commit=True, resent=True, count=1)
    outcomes = _post(in_browser, sb, platform, "vid16", [note, other], tmp_path)
    assert _kinds(outcomes) == [None, None]
    mine = [c for c in sb.comments(platform, "vid16") if c["author"] == ACCOUNT]
    text = format_comment(note.timestamp_seconds, note.text)
    copies = [c for c in mine if c["text"] == text]
    assert len(copies) == 1  # exactly one of ours; the other account's same text is untouched
    assert len(sb.comments(platform, "vid16")) == 3
    first = outcomes[0]
    assert first.comment_id == copies[0]["id"]
    assert first.permalink is not None and copies[0]["id"] in first.permalink
    assert len(first.removed_duplicates) == 1
    assert first.removed_duplicates[0] != copies[0]["id"]
    assert first.remark is not None and "removed 1 extra copy" in first.remark
    assert first.removed_duplicates[0] in first.remark
    assert outcomes[1].posted and outcomes[1].remark is None  # the batch went on


@pytest.mark.parametrize("platform", PLATFORMS)
def test_copies_found_before_typing_are_reduced_to_one(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    """An earlier attempt left two copies (its look-again never ran): the next attempt keeps
    the oldest, deletes the other and does not type a third."""
    note = _notes()[0]
    text = format_comment(note.timestamp_seconds, note.text)
    sb.set_video(platform, "vid17", duration=7200)
    oldest = sb.add_comment(platform, "vid17", text, author=ACCOUNT)
    newer = sb.add_comment(platform, "vid17", text, author=ACCOUNT)
    outcomes = _post(in_browser, sb, platform, "vid17", [note], tmp_path)
    assert outcomes[0].posted and outcomes[0].already_present
    assert outcomes[0].comment_id == oldest["id"]
    assert outcomes[0].removed_duplicates == (newer["id"],)
    assert [c["id"] for c in sb.comments(platform, "vid17")] == [oldest["id"]]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_delete_comment_removes_it_and_a_gone_comment_counts_as_done(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    agent = agent_for(platform, FAST)
    sb.set_video(platform, "vid18", duration=7200)
    url = sb.video_url(platform, "vid18")
    mine = sb.add_comment(platform, "vid18", "0:05 — mine", author=ACCOUNT)
    keep = sb.add_comment(platform, "vid18", "0:06 — also mine", author=ACCOUNT)
    theirs = sb.add_comment(platform, "vid18", "0:05 — mine")

    async def delete(page: Page) -> Any:
        return await agent.delete_comment(page, url, mine["id"], artifacts_dir=tmp_path)

    done = in_browser(delete, login=platform)
    assert done.error is None and done.deleted and not done.already_gone
    assert {c["id"] for c in sb.comments(platform, "vid18")} == {keep["id"], theirs["id"]}
    again = in_browser(delete, login=platform)
    assert again.error is None and again.deleted and again.already_gone
    assert {c["id"] for c in sb.comments(platform, "vid18")} == {keep["id"], theirs["id"]}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_error_on_post_is_a_network_error(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_fault(platform, "server_error", on="post")
    outcomes = _post(in_browser, sb, platform, "vid14", _notes()[:1], tmp_path)
    assert _kinds(outcomes) == ["network_error"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_missing_video_is_invalid_video(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_video(platform, "gone", exists=False)
    agent = agent_for(platform, FAST)

    async def scenario(page: Page) -> list[PostOutcome]:
        return await agent.post(
            page, sb.video_url(platform, "gone"), _notes()[:1], artifacts_dir=tmp_path
        )

    outcomes = in_browser(scenario, login=platform)
    assert _kinds(outcomes) == ["invalid_video"]


def test_long_text_is_typed_whole(
    sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    body = " ".join(f"word{i}" for i in range(1500))  # ~12,000 chars is over; ~9,000 fits
    body = body[:9000].rsplit(" ", 1)[0]
    outcomes = _post(in_browser, sb, "youtube", "long", [NoteToPost(1, body, 61)], tmp_path)
    assert outcomes[0].posted, _kinds(outcomes)
    (comment,) = sb.comments("youtube", "long")
    assert comment["text"] == format_comment(61, body)
    assert re.match(r"^1:01 — word0 word1", comment["text"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_note_past_the_end_of_the_video_is_invalid_video_and_the_batch_goes_on(
    platform: str, sb: SandboxServer, in_browser: Callable[..., Any], tmp_path: Path
) -> None:
    sb.set_video(platform, "short", duration=600)
    agent = agent_for(platform, FAST)
    notes = [NoteToPost(1, "After the end", 3723.0), NoteToPost(2, "Inside the video", 83.0)]

    async def scenario(page: Page) -> list[PostOutcome]:
        return await agent.post(
            page, sb.video_url(platform, "short"), notes, artifacts_dir=tmp_path
        )

    outcomes = in_browser(scenario, login=platform)
    past, inside = outcomes
    assert past.error is not None and not past.posted
    assert past.error.kind == "invalid_video"
    assert not past.error.retryable  # a later attempt cannot succeed: no retry
    assert past.error.message == ("the note's time 1:02:03 is past the end of the video (10:00)")
    assert inside.posted, _kinds(outcomes)
    assert [c["text"] for c in sb.comments(platform, "short")] == ["1:23 — Inside the video"]

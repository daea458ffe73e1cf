"""What every platform agent does; the subclasses add their selectors and how to read comment ids.

One `post()` call posts all the notes of one video in ONE page load:

    open the video → check the login → load the comments (lazily loaded) → comments disabled?
    for each note:  seeking → (already there? done) → typing → submitting → confirming

"Posted" means seen on the page: the new comment, with our text and our account, is found
among the page's comments and its real id read for the permalink. Before typing, the agent
looks for the same text from the same account already on the page, so a crash between submit
and save never posts twice (`already_present=True`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.async_api import TimeoutError as PlaywrightTimeout

from lossy_desktop.automation import errors as E
from lossy_desktop.automation.agents.selectors import CHALLENGE_GROUPS, Find, PlatformSelectors
from lossy_desktop.automation.artifacts import copy_failure, save_failure
from lossy_desktop.automation.errors import AutomationError, classify
from lossy_desktop.core.clock import format_timecode
from lossy_desktop.core.logs import redact
from lossy_desktop.core.platforms import PLATFORMS
from lossy_desktop.core.wording import STEP_CONFIRMING as STEP_CONFIRMING
from lossy_desktop.core.wording import STEP_OPENING as STEP_OPENING
from lossy_desktop.core.wording import STEP_SEEKING as STEP_SEEKING
from lossy_desktop.core.wording import STEP_SUBMITTING as STEP_SUBMITTING
from lossy_desktop.core.wording import STEP_TYPING as STEP_TYPING

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, Request, Response

log = logging.getLogger("lossy.automation")

# The step keys (and their words) are one table: lossy_desktop.core.wording.POSTING_STEPS.

StepCallback = Callable[[int, str], None]
# Awaited with a note's id right before its comment is typed (not for a note already on the
# page): it may wait (pacing), or raise StopBatch to post nothing more in this batch.
PaceHook = Callable[[int], Awaitable[None]]


class StopBatch(Exception):
    """Raised by a `pace` hook: post nothing more now. Notes not handled yet get no outcome."""


def _no_step(note_id: int, step: str) -> None:
    return None


@dataclass(frozen=True)
class LoginState:
    logged_in: bool
    account: str | None


@dataclass(frozen=True)
class NoteToPost:
    note_id: int
    text: str
    timestamp_seconds: float


@dataclass
class PostOutcome:
    note_id: int
    posted: bool
    comment_id: str | None = None
    permalink: str | None = None
    already_present: bool = False
    error: AutomationError | None = None
    remark: str | None = None
    """What the agent did beyond posting, for the note (e.g. extra copies it removed)."""
    removed_duplicates: tuple[str, ...] = ()
    """Ids of extra copies of this comment the agent deleted from the page."""


@dataclass(frozen=True)
class DeleteOutcome:
    """The result of deleting one comment: deleted, already gone (also done), or the error."""

    comment_id: str
    deleted: bool
    already_gone: bool = False
    error: AutomationError | None = None


@dataclass(frozen=True)
class Timeouts:
    navigation_s: float = 45.0
    """Loading the video page."""
    element_s: float = 10.0
    """Waiting for an element (login signs, the comment box) before calling it missing."""
    confirm_s: float = 20.0
    """Waiting for a submitted comment to show up on the page."""


@dataclass(frozen=True)
class SeenComment:
    """A comment as read from the page."""

    text: str
    author: str | None
    href: str | None
    element_id: str | None
    data_id: str | None
    held: bool
    extra: dict[str, Any] = field(default_factory=dict)


HELD_ITEM_WAIT_S = 1.5


def format_comment(timestamp_seconds: float, text: str) -> str:
    """The comment as posted: the timecode first, then the note ("1:23 — text"; H:MM:SS past
    an hour), which every platform turns into a link to that moment."""
    if not isinstance(timestamp_seconds, int | float) or not math.isfinite(timestamp_seconds):
        raise ValueError(f"timestamp must be a finite number of seconds, not {timestamp_seconds!r}")
    if timestamp_seconds < 0:
        raise ValueError(f"timestamp must not be negative ({timestamp_seconds})")
    body = (text or "").strip()
    if not body:
        raise ValueError("the note's text is empty")
    timecode = format_timecode(timestamp_seconds)
    # A recorder that already wrote the same timecode first ("0:12 text", "[0:12] - text")
    # does not get it twice.
    lead = _LEADING_TIMECODE.match(body)
    if lead and lead.group("tc") == timecode and body[lead.end() :].strip():
        body = body[lead.end() :].strip()
    return f"{timecode} — {body}"


_LEADING_TIMECODE = re.compile(r"^[\[(]?(?P<tc>(?:\d+:)?\d{1,2}:\d{2})[\])]?\s*[—–:-]?\s+")


def normalize_text(text: str | None) -> str:
    """Compare comment texts the way a page shows them: NFC, whitespace collapsed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def normalize_account(name: str | None) -> str:
    return normalize_text(name).lstrip("@").casefold()


# Reads the comments AND, in the same JS task, the page's mutation counter (a MutationObserver
# installed on first use). `_WAIT_FOR_CHANGE_JS` then waits for the counter to move past that
# reading: a change landing between the read and the wait is not missed (which used to cost a
# full wait period per note).
_READ_COMMENTS_JS = """
(els, a) => {
 const w = window;
 if (!w.__lossyObserver) {
   w.__lossyTick = 0;
   w.__lossyWaiters = [];
   w.__lossyObserver = new MutationObserver(() => {
     w.__lossyTick++;
     w.__lossyWaiters.splice(0).forEach(f => f());
   });
   w.__lossyObserver.observe(document, {subtree: true, childList: true, characterData: true,
                                         attributes: true});
 }
 const items = els.map(el => {
  const pick = (sels) => {
    for (const s of sels) {
      try { const f = el.querySelector(s); if (f) return f; } catch (e) {}
    }
    return null;
  };
  const t = pick(a.text), au = pick(a.author), ln = pick(a.link);
  const heldRe = new RegExp(a.heldText, 'i');
  let held = a.held.some(s => {
    try { return !!el.querySelector(s); } catch (e) { return false; }
  });
  if (!held && heldRe.test(el.innerText || '')) held = true;
  return {
    text: t ? (t.innerText || t.textContent || '') : null,
    whole: el.innerText || el.textContent || '',
    author: au ? (au.innerText || au.textContent || '').trim() : null,
    href: ln ? (ln.href || ln.getAttribute('data-href') || ln.getAttribute('data-permalink')
                || null) : null,
    elementId: el.id || null,
    dataId: el.getAttribute('data-comment-id'),
    held: held,
  };
 });
 return {items: items, tick: w.__lossyTick};
}
"""

# Resolves once the page changed after the reading that returned `since` (at once if it already
# has), or after `ms` at most.
_WAIT_FOR_CHANGE_JS = """
([since, ms]) => new Promise(resolve => {
  const w = window;
  if (!w.__lossyObserver || w.__lossyTick !== since) { resolve(true); return; }
  let timer = null;
  const done = () => { clearTimeout(timer); resolve(true); };
  w.__lossyWaiters.push(done);
  timer = setTimeout(() => {
    const i = w.__lossyWaiters.indexOf(done);
    if (i >= 0) w.__lossyWaiters.splice(i, 1);
    resolve(false);
  }, ms);
})
"""

_SEEK_JS = """
(el, t) => {
  const v = el.tagName === 'VIDEO' ? el : el.querySelector('video');
  const mp = document.querySelector('#movie_player');
  if (v) { try { v.pause(); } catch (e) {} }
  if (mp && typeof mp.seekTo === 'function') { mp.seekTo(t, true); }
  else if (v) { v.currentTime = t; }
  else if (typeof el.seekTo === 'function') { el.seekTo(t); }
  else { return null; }
  return v ? v.currentTime : t;
}
"""

_EDITOR_VALUE_JS = """
(e) => (e.tagName === 'TEXTAREA' || e.tagName === 'INPUT') ? e.value : (e.innerText || '')
"""


# Labels that name a control, not the account (then the account is unknown: None).
_GENERIC_ACCOUNT = re.compile(
    r"^(avatar( image)?|account( menu)?|profile( picture| image)?|your profile|me|user)$", re.I
)


class _BatchStop(Exception):
    """Ends the batch: the remaining notes get `error` (not attempted)."""

    def __init__(self, error: AutomationError) -> None:
        super().__init__(error.message)
        self.error = error


class _Unconfirmed(Exception):
    """The comment was submitted but its outcome is unknown (the answer was lost, an error
    showed, or it never appeared): the agent looks for it on a fresh page before giving up."""

    def __init__(self, error: AutomationError) -> None:
        super().__init__(error.message)
        self.error = error


class _PastTheEnd(Exception):
    """The note's time is past the video's end: this note fails (not retried), the batch goes
    on."""

    def __init__(self, error: AutomationError) -> None:
        super().__init__(error.message)
        self.error = error


class PlatformAgent:
    """Drives one platform's pages. Subclasses set `platform`, `selectors`, and read ids."""

    platform: str = ""
    selectors: PlatformSelectors

    def __init__(
        self, timeouts: Timeouts | None = None, *, selectors: PlatformSelectors | None = None
    ) -> None:
        self.timeouts = timeouts or Timeouts()
        if selectors is not None:  # the user's override table (see agents/table_file.py)
            self.selectors = selectors

    # ---- what subclasses define ------------------------------------------------------------

    def comment_id(self, seen: SeenComment) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def permalink(self, seen: SeenComment, video_url: str, comment_id: str) -> str:
        return seen.href or video_url

    # ---- public API ------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return PLATFORMS[self.platform].label

    @property
    def comment_limit(self) -> int:
        return PLATFORMS[self.platform].comment_limit

    async def check_login(self, page: Page) -> LoginState:
        """Logged in or not, read from the page's own signs (avatar vs "Sign in")."""
        sel = self.selectors
        signs = self._any(page, sel.logged_in + sel.logged_out).filter(visible=True)
        try:
            await signs.first.wait_for(state="attached", timeout=self._ms(self.timeouts.element_s))
        except PlaywrightTimeout:
            raise AutomationError(
                E.SELECTOR_FAILED,
                f"{self.label}: neither the account button nor a sign-in link is on {page.url}",
            ) from None
        if await self._visible(page, sel.logged_in):
            return LoginState(True, await self._read_account(page))
        return LoginState(False, None)

    async def post(
        self,
        page: Page,
        video_url: str,
        notes: Sequence[NoteToPost],
        *,
        artifacts_dir: Path,
        on_step: StepCallback = _no_step,
        on_posted: Callable[[PostOutcome], None] | None = None,
        pace: PaceHook | None = None,
    ) -> list[PostOutcome]:
        """Post every note of one video in one page load; one outcome per note, in order
        (notes left when `pace` raised StopBatch have none).

        `on_posted` hears of each note the moment it is seen on the page, so the caller can
        save it before the batch ends (a crash later in the batch then loses nothing)."""
        outcomes: dict[int, PostOutcome] = {}
        todo: list[tuple[NoteToPost, str]] = []
        for note in notes:
            try:
                text = format_comment(note.timestamp_seconds, note.text)
            except ValueError as exc:
                outcomes[note.note_id] = self._failed(
                    note, AutomationError(E.SCRIPT_FAILED, str(exc), retryable=False)
                )
                continue
            if len(text) > self.comment_limit:
                outcomes[note.note_id] = self._failed(
                    note,
                    AutomationError(
                        E.TEXT_TOO_LONG,
                        f"{len(text)} characters; {self.label} allows {self.comment_limit}",
                    ),
                )
                continue
            todo.append((note, text))

        if todo:
            await self._post_batch(
                page, video_url, todo, outcomes, artifacts_dir, on_step, on_posted, pace
            )
        return [outcomes[n.note_id] for n in notes if n.note_id in outcomes]

    # ---- the batch -------------------------------------------------------------------------

    async def _post_batch(
        self,
        page: Page,
        video_url: str,
        todo: list[tuple[NoteToPost, str]],
        outcomes: dict[int, PostOutcome],
        artifacts_dir: Path,
        on_step: StepCallback,
        on_posted: Callable[[PostOutcome], None] | None = None,
        pace: PaceHook | None = None,
    ) -> None:
        first = todo[0][0]
        started = time.monotonic()
        try:
            on_step(first.note_id, STEP_OPENING)
            account = await self._open_video(page, video_url)
        except Exception as exc:
            error = exc.error if isinstance(exc, _BatchStop) else classify(exc)
            error = await self._with_artifact(error, page, artifacts_dir, first.note_id)
            self._fail_rest(todo, 0, error, outcomes, artifacts_dir, attempted=True)
            return

        for index, (note, text) in enumerate(todo):
            try:
                outcome = outcomes[note.note_id] = await self._post_one(
                    page, video_url, note, text, account, on_step, pace
                )
                if on_posted is not None and outcome.posted:
                    try:
                        on_posted(outcome)
                    except Exception:  # the caller saves it again from the batch's outcomes
                        log.exception(
                            "%s: early save of note %d failed", self.platform, note.note_id
                        )
            except StopBatch:
                return
            except _BatchStop as stop:
                error = await self._with_artifact(stop.error, page, artifacts_dir, note.note_id)
                self._fail_rest(todo, index, error, outcomes, artifacts_dir, attempted=True)
                return
            except Exception as exc:
                if isinstance(exc, _Unconfirmed):
                    found = await self._look_again(page, video_url, note, text, account, exc.error)
                    if found is not None:
                        outcomes[note.note_id] = found
                        if on_posted is not None:
                            try:
                                on_posted(found)
                            except Exception:
                                log.exception(
                                    "%s: early save of note %d failed", self.platform, note.note_id
                                )
                        continue
                error = exc.error if isinstance(exc, _Unconfirmed) else classify(exc)
                error = await self._with_artifact(error, page, artifacts_dir, note.note_id)
                if error.kind in (E.HELD_FOR_REVIEW, E.TEXT_TOO_LONG):
                    outcomes[note.note_id] = self._failed(note, error)
                    continue
                self._fail_rest(todo, index, error, outcomes, artifacts_dir, attempted=True)
                return
        log.info(
            "%s: %d note(s) handled on one page load in %.1f s",
            self.platform,
            len(todo),
            time.monotonic() - started,
        )

    def _fail_rest(
        self,
        todo: list[tuple[NoteToPost, str]],
        index: int,
        error: AutomationError,
        outcomes: dict[int, PostOutcome],
        artifacts_dir: Path,
        *,
        attempted: bool,
    ) -> None:
        """The note at `index` failed with `error`; the later ones are not attempted."""
        outcomes[todo[index][0].note_id] = self._failed(todo[index][0], error)
        for note, _ in todo[index + 1 :]:
            copied = copy_failure(error.artifact_path, artifacts_dir, note.note_id)
            outcomes[note.note_id] = self._failed(
                note,
                AutomationError(
                    error.kind,
                    f"not attempted: an earlier note of this video failed ({error.message})",
                    retry_after=error.retry_after,
                    artifact_path=copied,
                ),
            )

    @staticmethod
    def _failed(note: NoteToPost, error: AutomationError) -> PostOutcome:
        return PostOutcome(note.note_id, posted=False, error=error)

    async def _with_artifact(
        self, error: AutomationError, page: Page, artifacts_dir: Path, note_id: int
    ) -> AutomationError:
        if error.kind in (E.TEXT_TOO_LONG, E.NOT_LOGGED_IN, E.SESSION_EXPIRED, E.RATE_LIMITED):
            return error
        if error.kind in (E.HELD_FOR_REVIEW, E.COMMENTS_DISABLED) or error.artifact_path:
            return error
        path = await save_failure(page, artifacts_dir, note_id, reason=str(error))
        return error.with_artifact(path)

    # ---- page steps ------------------------------------------------------------------------

    async def _open_video(self, page: Page, video_url: str) -> str | None:
        """Load the page, check login and the comment box. Returns the account (or None)."""
        sel = self.selectors
        response = await self._goto(page, video_url)
        challenge = await self.find_challenge(page)  # before the status: /sorry answers 429
        if challenge is not None:
            raise _BatchStop(challenge)
        if response is not None:
            status = response.status
            if status == 429:
                raise _BatchStop(
                    AutomationError(
                        E.RATE_LIMITED,
                        f"{self.label} answered 429 to the video page",
                        retry_after=_retry_after(await response.all_headers()),
                    )
                )
            if status in (404, 410):
                raise _BatchStop(
                    AutomationError(E.INVALID_VIDEO, f"{self.label} answered {status}")
                )
            if status >= 500:
                raise AutomationError(E.NETWORK_ERROR, f"{self.label} answered {status}")
        if await self._visible(page, sel.video_unavailable):
            # YouTube draws its "Sign in to confirm you're not a bot" in the same error screen.
            raise _BatchStop(
                await self._challenge_instead(
                    page,
                    AutomationError(E.INVALID_VIDEO, f"{self.label} says the video is unavailable"),
                )
            )

        try:
            login = await self.check_login(page)
        except AutomationError as error:
            raise await self._challenge_instead(page, error) from None
        if not login.logged_in:
            kind = E.SESSION_EXPIRED if await self._visible(page, sel.session_expired) else None
            raise _BatchStop(
                AutomationError(
                    kind or E.NOT_LOGGED_IN, f"{self.label} shows a sign-in link: not logged in"
                )
            )

        # Comments load lazily: bring their section into view, then wait for the box or the
        # "comments are turned off" notice.
        section = await self._first(page, sel.comments_section, state="attached", timeout_s=None)
        if section is not None:
            await section.scroll_into_view_if_needed(timeout=self._ms(self.timeouts.element_s))
        else:  # no known section: scroll down like a reader would
            await page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        box = sel.placeholder + sel.editor
        found = await self._first(page, box + sel.comments_disabled)
        if found is None:
            raise await self._challenge_instead(
                page,
                self._not_found(f"{self.label}: no comment box found", box),
            )
        if await self._visible(page, sel.comments_disabled) and not await self._visible(page, box):
            raise _BatchStop(
                AutomationError(E.COMMENTS_DISABLED, f"{self.label}: comments are turned off")
            )
        return login.account

    # ---- pages that stop automation (site_challenge) -------------------------------------

    async def find_challenge(self, page: Page) -> AutomationError | None:
        """The site_challenge error when the page is one automation cannot get past — a cookie
        consent wall, an "unusual traffic"/captcha page, a sign-in check — shown instead of the
        platform's own; None on an ordinary page. Reads the page only (no waiting)."""
        group = await self.challenge_on(page)
        return None if group is None else self.challenge_error(group, page.url)

    async def challenge_on(self, page: Page) -> str | None:
        """Which challenge group (consent_screen, traffic_check, signin_challenge) the page is,
        by its address, then by what it shows; None on an ordinary page."""
        sel = self.selectors
        group = challenge_group_for_url(sel, page.url)
        if group is not None:
            return group
        if not await self._visible(
            page, sel.consent_screen + sel.traffic_check + sel.signin_challenge
        ):
            return None
        for name in CHALLENGE_GROUPS:
            if await self._visible(page, getattr(sel, name)):
                return name
        return None

    def challenge_error(self, group: str, url: str) -> AutomationError:
        return AutomationError(
            E.SITE_CHALLENGE,
            f"{self.label} shows {CHALLENGE_WHAT[group]} instead of its page ({_where(url)})",
        )

    async def check_visit(self, page: Page) -> LoginState:
        """`check_login` on a page the app loaded by itself (keep-alive, verify): a challenge
        page there is site_challenge, not "logged out" or a missing selector."""
        challenge = await self.find_challenge(page)
        if challenge is not None:
            raise challenge
        try:
            return await self.check_login(page)
        except AutomationError as error:
            raise await self._challenge_instead(page, error) from None

    async def _challenge_instead(self, page: Page, error: AutomationError) -> AutomationError:
        """`error`, unless the page is a challenge page after all (one drawn late)."""
        try:
            found = await self.find_challenge(page)
        except Exception:  # the page is gone: the original error says more
            return error
        return found if found is not None else error

    async def _post_one(
        self,
        page: Page,
        video_url: str,
        note: NoteToPost,
        text: str,
        account: str | None,
        on_step: StepCallback,
        pace: PaceHook | None = None,
    ) -> PostOutcome:
        on_step(note.note_id, STEP_SEEKING)
        try:
            await self._seek(page, note.timestamp_seconds)
        except _PastTheEnd as past:
            return self._failed(note, past.error)

        before = await self._read_comments(page)
        mine = self._matching(before, text, account)
        if mine:
            log.info("%s: note %s is already on the page", self.platform, note.note_id)
            return await self._keep_one(page, note, mine, video_url, already_present=True)
        before_keys = {self._key(c) for c in self._matching(before, text, None)}

        if pace is not None:
            await pace(note.note_id)
        on_step(note.note_id, STEP_TYPING)
        editor = await self._open_editor(page)
        await self._type(page, editor, text)

        on_step(note.note_id, STEP_SUBMITTING)
        submit = await self._first(page, self.selectors.submit)
        if submit is None:
            raise self._not_found(f"{self.label}: no submit button", self.selectors.submit)
        notices_before = await self._notices(page)
        throttled: list[float | None] = []

        def on_response(response: Response) -> None:
            if response.status == 429:  # the platform's own answer to the submit
                throttled.append(_retry_after(response.headers))

        lost: list[str] = []  # the comment POST failed or got a 5xx: its answer is lost
        watch = self._watch_post(lost)
        page.on("response", on_response)
        page.on("requestfailed", watch)
        page.on("response", watch)
        try:
            await submit.click(timeout=self._ms(self.timeouts.element_s))
            on_step(note.note_id, STEP_CONFIRMING)
            try:
                return await self._confirm(
                    page,
                    video_url,
                    note,
                    text,
                    account,
                    before_keys,
                    notices_before,
                    throttled,
                    lost,
                )
            except (_BatchStop, _PastTheEnd):
                raise
            except Exception as exc:
                raise _Unconfirmed(classify(exc)) from exc
        finally:
            page.remove_listener("response", on_response)
            page.remove_listener("requestfailed", watch)
            page.remove_listener("response", watch)

    async def _confirm(
        self,
        page: Page,
        video_url: str,
        note: NoteToPost,
        text: str,
        account: str | None,
        before_keys: set[tuple[str | None, str | None, str]],
        notices_before: set[str],
        throttled: list[float | None],
        lost: list[str] | None = None,
    ) -> PostOutcome:
        """Wait (on page changes, up to confirm_s) for the comment or the platform's answer."""
        sel = self.selectors
        deadline = time.monotonic() + self.timeouts.confirm_s
        held_until: float | None = None  # the held notice came: a short wait for the item
        while True:
            comments, tick = await self._read_comments_tick(page)
            # A comment with our text that was not there before the submit is ours (the author
            # is not compared: the page's author label may not spell the account as its sign).
            new = [
                c for c in self._matching(comments, text, None) if self._key(c) not in before_keys
            ]
            if new:
                return self._outcome(note, new[0], video_url, already_present=False)
            message = await self._fresh_text(page, sel.rate_limited, notices_before)
            if message is not None or throttled:
                retry_after = next((t for t in throttled if t is not None), None)
                raise _BatchStop(
                    AutomationError(
                        E.RATE_LIMITED,
                        f"{self.label}: {message or 'answered 429 (too many requests)'}",
                        retry_after=retry_after or _seconds_in(message or ""),
                    )
                )
            if held_until is None and (
                await self._fresh_text(page, sel.held_notice, notices_before) is not None
            ):
                # The notice may come before the held comment is drawn (with its id): look
                # for the comment a little longer, then settle for the notice alone.
                held_until = time.monotonic() + HELD_ITEM_WAIT_S
            if held_until is not None and time.monotonic() >= held_until:
                return PostOutcome(
                    note.note_id,
                    posted=False,
                    error=AutomationError(
                        E.HELD_FOR_REVIEW, f"{self.label} is holding the comment for review"
                    ),
                )
            if lost:
                raise AutomationError(
                    E.NETWORK_ERROR, f"{self.label}: the comment's request failed ({lost[0]})"
                )
            message = await self._fresh_text(page, sel.post_error, notices_before)
            if message is not None:
                raise AutomationError(E.NETWORK_ERROR, f"{self.label}: {message}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AutomationError(
                    E.NETWORK_ERROR,
                    f"{self.label}: the comment did not appear on the page within "
                    f"{self.timeouts.confirm_s:g} s",
                )
            # Wait for the page to change (or at most a short while), then look again.
            pause = min(remaining, 0.5)
            if held_until is not None:
                pause = max(0.0, min(pause, held_until - time.monotonic()))
            await page.evaluate(_WAIT_FOR_CHANGE_JS, [tick, int(pause * 1000)])

    def _outcome(
        self, note: NoteToPost, seen: SeenComment, video_url: str, *, already_present: bool
    ) -> PostOutcome:
        comment_id = self.comment_id(seen)
        permalink = self.permalink(seen, video_url, comment_id) if comment_id else None
        if comment_id is None:
            log.warning("%s: posted note %s but could not read its id", self.platform, note.note_id)
        if seen.held:
            return PostOutcome(
                note.note_id,
                posted=False,
                comment_id=comment_id,
                permalink=permalink,
                already_present=already_present,
                error=AutomationError(
                    E.HELD_FOR_REVIEW, f"{self.label} is holding the comment for review"
                ),
            )
        return PostOutcome(
            note.note_id,
            posted=True,
            comment_id=comment_id,
            permalink=permalink,
            already_present=already_present,
        )

    async def _seek(self, page: Page, seconds: float) -> None:
        player = await self._first(page, self.selectors.player, state="attached")
        if player is None:
            raise AutomationError(E.SELECTOR_FAILED, f"{self.label}: no video player on the page")
        result = await player.evaluate(_SEEK_JS, seconds)
        if result is None:
            raise AutomationError(E.SELECTOR_FAILED, f"{self.label}: the player cannot seek")
        handle = await player.element_handle(timeout=self._ms(self.timeouts.element_s))
        # Done when the player is at the note's time — or when it cannot get there because the
        # note's time is past the end of the video (the player stops at its duration).
        reached = await page.wait_for_function(
            """([el, t]) => {
                 const v = el.tagName === 'VIDEO' ? el : el.querySelector('video');
                 if (!v || Math.abs(v.currentTime - t) < 1) return {ok: true};
                 const d = v.duration;
                 if (Number.isFinite(d) && d > 0 && t >= d + 1) return {ok: false, duration: d};
                 return false;
               }""",
            arg=[handle, seconds],
            timeout=self._ms(self.timeouts.element_s),
        )
        state = await reached.json_value()
        if isinstance(state, dict) and not state.get("ok"):
            duration = float(state["duration"])
            raise _PastTheEnd(
                AutomationError(
                    E.INVALID_VIDEO,
                    f"the note's time {format_timecode(seconds)} is past the end of the video "
                    f"({format_timecode(duration)})",
                    retryable=False,
                )
            )

    async def _open_editor(self, page: Page) -> Locator:
        sel = self.selectors
        if sel.placeholder and not await self._visible(page, sel.editor):
            placeholder = await self._first(page, sel.placeholder)
            if placeholder is not None:
                await placeholder.click(timeout=self._ms(self.timeouts.element_s))
        editor = await self._first(page, sel.editor)
        if editor is None:
            raise self._not_found(f"{self.label}: no comment editor", sel.editor)
        return editor

    async def _type(self, page: Page, editor: Locator, text: str) -> None:
        timeout = self._ms(self.timeouts.element_s)
        await editor.fill(text, timeout=timeout)
        if normalize_text(await editor.evaluate(_EDITOR_VALUE_JS)) == normalize_text(text):
            return
        # Some editors ignore fill(): select everything and insert the text as one input.
        await editor.click(timeout=timeout)
        await page.keyboard.press("ControlOrMeta+a")
        await page.keyboard.press("Delete")
        await page.keyboard.insert_text(text)
        got = normalize_text(await editor.evaluate(_EDITOR_VALUE_JS))
        if got != normalize_text(text):
            raise AutomationError(
                E.SCRIPT_FAILED, f"{self.label}: the comment editor did not take the text"
            )

    # ---- dropped connections, duplicates, deleting a comment ---------------------------------

    async def delete_comment(
        self,
        page: Page,
        video_url: str,
        comment_id: str,
        *,
        artifacts_dir: Path,
        note_id: int = 0,
    ) -> DeleteOutcome:
        """Delete the account's own comment `comment_id` from the video's page: its menu →
        Delete → confirm, then wait until the page no longer shows it. A comment already gone
        counts as done (`already_gone=True`)."""
        try:
            await self._open_video(page, video_url)
            deleted = await self._delete_on_page(page, comment_id)
        except Exception as exc:
            error = exc.error if isinstance(exc, _BatchStop) else classify(exc)
            error = await self._with_artifact(error, page, artifacts_dir, note_id)
            return DeleteOutcome(comment_id, deleted=False, error=error)
        return DeleteOutcome(comment_id, deleted=True, already_gone=not deleted)

    async def _goto(self, page: Page, url: str) -> Response | None:
        """`page.goto`, but a dropped or reset connection is a network error at once: Chromium
        reports the document's request as failed (e.g. net::ERR_CONTENT_LENGTH_MISMATCH when
        the answer was cut) while the navigation itself would wait out its timeout."""
        failed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def on_failed(request: Request) -> None:
            if not request.is_navigation_request() or request.frame != page.main_frame:
                return
            reason = request.failure or "the request failed"
            if "ERR_ABORTED" in reason:  # replaced by another navigation: goto decides
                return
            if not failed.done():
                failed.set_result(reason)

        page.on("requestfailed", on_failed)
        going = asyncio.ensure_future(
            page.goto(
                url, wait_until="domcontentloaded", timeout=self._ms(self.timeouts.navigation_s)
            )
        )
        try:
            racers: list[asyncio.Future[Any]] = [going, failed]
            await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
        finally:
            page.remove_listener("requestfailed", on_failed)
        if going.done():
            return going.result()
        going.add_done_callback(_quiet)
        going.cancel()
        raise AutomationError(
            E.NETWORK_ERROR,
            f"{self.label}: the connection dropped while loading the page ({failed.result()})",
        )

    def _watch_post(self, lost: list[str]) -> Callable[[Any], None]:
        """A page listener noting a failed (or 5xx-answered) comment POST into `lost`."""
        pattern = re.compile(self.selectors.controls.post_request)

        def watch(event: Any) -> None:
            request: Request = event.request if hasattr(event, "request") else event
            if request.method == "GET" or not pattern.search(request.url):
                return
            if hasattr(event, "status"):  # a response
                if event.status >= 500:
                    lost.append(f"answered {event.status}")
            else:
                lost.append(request.failure or "the request failed")

        return watch

    async def _look_again(
        self,
        page: Page,
        video_url: str,
        note: NoteToPost,
        text: str,
        account: str | None,
        error: AutomationError,
    ) -> PostOutcome | None:
        """After a post whose outcome is unknown: load the page again and look for the comment.
        Found (once or more) → posted, extra copies removed; not found (or the page will not
        load) → None, and the error stands."""
        log.info(
            "%s: note %s: outcome unknown (%s); looking for it on the page",
            self.platform,
            note.note_id,
            error.message,
        )
        try:
            await self._open_video(page, video_url)
            mine = self._matching(await self._read_comments(page), text, account)
            if not mine:
                return None
            outcome = await self._keep_one(page, note, mine, video_url, already_present=False)
        except Exception as exc:
            log.info("%s: note %s: could not look again: %s", self.platform, note.note_id, exc)
            return None
        log.info(
            "%s: note %s was posted after all (the answer was lost)", self.platform, note.note_id
        )
        return outcome

    async def _keep_one(
        self,
        page: Page,
        note: NoteToPost,
        mine: list[SeenComment],
        video_url: str,
        *,
        already_present: bool,
    ) -> PostOutcome:
        """The note's comment is on the page (`mine`, in page order). When it is there more
        than once (a browser re-sent the POST), delete the extra copies and keep the first."""
        copies: dict[str, SeenComment] = {}
        for seen in mine:
            cid = self.comment_id(seen)
            if cid is not None and cid not in copies:
                copies[cid] = seen
        if len(copies) <= 1:
            return self._outcome(note, mine[0], video_url, already_present=already_present)
        ordered = list(copies.items())
        if self.selectors.controls.newest_first:
            ordered.reverse()
        keep_id, keep = ordered[0]
        extra = [cid for cid, _ in ordered[1:]]
        removed: list[str] = []
        problem = ""
        for cid in extra:
            try:
                await self._delete_on_page(page, cid)
                removed.append(cid)
            except Exception as exc:
                problem = classify(exc).message
                log.warning(
                    "%s: note %s: could not remove the extra copy %s: %s",
                    self.platform,
                    note.note_id,
                    cid,
                    problem,
                )
                break
        outcome = self._outcome(note, keep, video_url, already_present=already_present)
        remark = (
            f"{self.label} held this comment {len(copies)} times (the browser re-sent it after "
            f"a dropped connection): removed {len(removed)} extra "
            f"{'copy' if len(removed) == 1 else 'copies'}"
            + (f" ({', '.join(removed)})" if removed else "")
            + f", kept the first ({keep_id})"
        )
        left = [cid for cid in extra if cid not in removed]
        if left:
            remark += f"; could not remove {', '.join(left)} ({problem}): delete it by hand"
        log.warning("%s: note %s: %s", self.platform, note.note_id, remark)
        outcome.remark = remark
        outcome.removed_duplicates = tuple(removed)
        return outcome

    async def _delete_on_page(self, page: Page, comment_id: str) -> bool:
        """Delete one of the account's comments on the loaded page; False if it is not there."""
        controls = self.selectors.controls
        if not _SAFE_ID.match(comment_id):
            raise AutomationError(
                E.SCRIPT_FAILED, f"{self.label}: not a comment id: {comment_id!r}", retryable=False
            )
        item = await self._comment_element(page, comment_id)
        if item is None:
            return False
        timeout = self._ms(self.timeouts.element_s)
        notices_before = await self._notices(page)
        if controls.menu:
            await item.scroll_into_view_if_needed(timeout=timeout)
            await item.hover(timeout=timeout)
            menu = await self._first_within(item, controls.menu)
            if menu is None:
                raise self._not_found(
                    f"{self.label}: the comment has no action menu", controls.menu
                )
            await menu.click(timeout=timeout)
        action = await self._first(page, controls.delete)
        if action is None:
            raise self._not_found(
                f"{self.label}: no Delete action for the comment", controls.delete
            )
        await action.click(timeout=timeout)
        confirm = await self._first(page, controls.confirm)
        if confirm is not None:
            await confirm.click(timeout=timeout)
        await self._wait_gone(page, comment_id, notices_before)
        log.info("%s: deleted comment %s", self.platform, comment_id)
        return True

    def _not_found(self, what: str, tried: Sequence[Find]) -> AutomationError:
        """selector_failed: `what` was not on the page, naming every alternative tried."""
        return AutomationError(
            E.SELECTOR_FAILED,
            f"{what} (tried {', '.join(f.describe() for f in tried)})",
        )

    async def _comment_element(self, page: Page, comment_id: str) -> Locator | None:
        for template in self.selectors.controls.item_by_id:
            loc = page.locator(template.format(id=comment_id))
            if await loc.count():
                return loc.first
        return None

    async def _first_within(self, scope: Locator, finds: Sequence[Find]) -> Locator | None:
        for find in finds:
            loc = find.locate(scope).filter(visible=True)
            if await loc.count():
                return loc.first
        return None

    async def _wait_gone(self, page: Page, comment_id: str, notices_before: set[str]) -> None:
        """Wait (on page changes) until no comment on the page has `comment_id`."""
        deadline = time.monotonic() + self.timeouts.confirm_s
        while True:
            comments, tick = await self._read_comments_tick(page)
            if all(self.comment_id(c) != comment_id for c in comments):
                return
            message = await self._fresh_text(page, self.selectors.post_error, notices_before)
            if message is not None:
                raise AutomationError(E.NETWORK_ERROR, f"{self.label}: {message}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AutomationError(
                    E.NETWORK_ERROR,
                    f"{self.label}: comment {comment_id} was still on the page after "
                    f"{self.timeouts.confirm_s:g} s",
                )
            await page.evaluate(_WAIT_FOR_CHANGE_JS, [tick, int(min(remaining, 0.5) * 1000)])

    # ---- reading comments ------------------------------------------------------------------

    async def _read_comments(self, page: Page) -> list[SeenComment]:
        return (await self._read_comments_tick(page))[0]

    async def _read_comments_tick(self, page: Page) -> tuple[list[SeenComment], int]:
        """The comments on the page and the page's change counter at that moment."""
        sel = self.selectors
        items = self._any(page, sel.comment_item)
        result: dict[str, Any] = await items.evaluate_all(
            _READ_COMMENTS_JS,
            {
                "text": list(sel.comment_text),
                "author": list(sel.comment_author),
                "link": list(sel.comment_link),
                "held": list(sel.held_in_item),
                "heldText": sel.held_text,
            },
        )
        raw: list[dict[str, Any]] = result["items"]
        comments = [
            SeenComment(
                text=r["text"] if r["text"] is not None else r["whole"],
                author=r["author"],
                href=r["href"],
                element_id=r["elementId"],
                data_id=r["dataId"],
                held=bool(r["held"]),
                extra={"whole": r["whole"], "has_text": r["text"] is not None},
            )
            for r in raw
        ]
        return comments, int(result["tick"])

    @staticmethod
    def _matching(comments: list[SeenComment], text: str, account: str | None) -> list[SeenComment]:
        want = normalize_text(text)
        who = normalize_account(account) if account else None
        found = []
        for c in comments:
            got = normalize_text(c.text)
            same = got == want if c.extra.get("has_text", True) else want in got
            if not same:
                continue
            if who is not None and c.author is not None and normalize_account(c.author) != who:
                continue
            found.append(c)
        return found

    @staticmethod
    def _key(c: SeenComment) -> tuple[str | None, str | None, str]:
        return (c.element_id or c.data_id, c.href, normalize_text(c.extra.get("whole", c.text)))

    async def _read_account(self, page: Page) -> str | None:
        sel = self.selectors
        for find in sel.account:
            loc = find.locate(page)
            if not await loc.count():
                continue
            first = loc.first
            for attr in sel.account_attrs:
                value = await first.get_attribute(attr)
                if value and value.strip() and not _GENERIC_ACCOUNT.match(value.strip()):
                    return value.strip()
            text = normalize_text(await first.inner_text())
            if text and not _GENERIC_ACCOUNT.match(text):
                return text
        return None

    # ---- locating helpers ------------------------------------------------------------------

    @staticmethod
    def _any(page: Page, finds: Sequence[Find]) -> Locator:
        if not finds:
            raise ValueError("no selectors given")
        combined = finds[0].locate(page)
        for find in finds[1:]:
            combined = combined.or_(find.locate(page))
        return combined

    async def _visible(self, page: Page, finds: Sequence[Find]) -> bool:
        if not finds:
            return False
        return await self._any(page, finds).filter(visible=True).count() > 0

    async def _visible_texts(self, page: Page, finds: Sequence[Find]) -> list[str]:
        if not finds:
            return []
        loc = self._any(page, finds).filter(visible=True)
        texts: list[str] = await loc.evaluate_all("els => els.map(e => e.innerText || '')")
        return [normalize_text(t)[:300] for t in texts]

    async def _notices(self, page: Page) -> set[str]:
        """The platform messages visible now (so an old toast is not taken for a new answer)."""
        sel = self.selectors
        return set(
            await self._visible_texts(page, sel.rate_limited + sel.held_notice + sel.post_error)
        )

    async def _fresh_text(self, page: Page, finds: Sequence[Find], before: set[str]) -> str | None:
        for text in await self._visible_texts(page, finds):
            if text not in before:
                return text
        return None

    async def _first(
        self,
        page: Page,
        finds: Sequence[Find],
        *,
        state: str = "visible",
        timeout_s: float | None = -1.0,
    ) -> Locator | None:
        """The first of `finds` (in table order) present on the page, waiting up to the element
        timeout for any of them to appear; None when none does. `timeout_s=None`: don't wait."""
        if not finds:
            return None
        wait = self.timeouts.element_s if timeout_s == -1.0 else timeout_s
        combined = self._any(page, finds)
        if state == "visible":
            combined = combined.filter(visible=True)
        if wait:
            try:
                await combined.first.wait_for(state="attached", timeout=self._ms(wait))
            except PlaywrightTimeout:
                return None
        for find in finds:
            loc = find.locate(page)
            if state == "visible":
                loc = loc.filter(visible=True)
            if await loc.count():
                return loc.first
        return None

    @staticmethod
    def _ms(seconds: float) -> float:
        return max(1.0, seconds * 1000.0)


CHALLENGE_WHAT: dict[str, str] = {
    "consent_screen": "a cookie consent page",
    "traffic_check": 'an "unusual traffic" / captcha check',
    "signin_challenge": 'a sign-in check ("Verify it\'s you")',
}


def challenge_group_for_url(selectors: PlatformSelectors, url: str | None) -> str | None:
    """The challenge group whose address pattern the URL matches (consent.youtube.com, …)."""
    for group, pattern in selectors.challenge_urls:
        if re.search(pattern, url or "", re.I):
            return group
    return None


def _where(url: str) -> str:
    """scheme://host/path of a page (its query may be long: continue=…)."""
    parts = urlsplit(url or "")
    return redact(f"{parts.scheme}://{parts.netloc}{parts.path}") if parts.scheme else "?"


_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
"""A comment id safe to put into a CSS selector."""


def _quiet(task: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned task's outcome so asyncio does not report it."""
    if not task.cancelled():
        task.exception()


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _seconds_in(message: str) -> float | None:
    """'try again in 2 minutes' → 120.0 (None when the message names no delay)."""
    m = re.search(r"(\d+)\s*(second|sec|s\b|minute|min|hour)", message or "", re.I)
    if not m:
        return None
    n = float(m.group(1))
    unit = m.group(2).lower()
    return n * 3600 if unit.startswith("hour") else n * 60 if unit.startswith("min") else n

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

import logging
import math
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.async_api import TimeoutError as PlaywrightTimeout

from lossy_desktop.automation import errors as E
from lossy_desktop.automation.agents.selectors import Find, PlatformSelectors
from lossy_desktop.automation.artifacts import copy_failure, save_failure
from lossy_desktop.automation.errors import AutomationError, classify
from lossy_desktop.core.clock import format_timecode
from lossy_desktop.core.platforms import PLATFORMS
from lossy_desktop.core.wording import STEP_CONFIRMING as STEP_CONFIRMING
from lossy_desktop.core.wording import STEP_OPENING as STEP_OPENING
from lossy_desktop.core.wording import STEP_SEEKING as STEP_SEEKING
from lossy_desktop.core.wording import STEP_SUBMITTING as STEP_SUBMITTING
from lossy_desktop.core.wording import STEP_TYPING as STEP_TYPING

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, Response

log = logging.getLogger("lossy.automation")

# The step keys (and their words) are one table: lossy_desktop.core.wording.POSTING_STEPS.

StepCallback = Callable[[int, str], None]


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

    def __init__(self, timeouts: Timeouts | None = None) -> None:
        self.timeouts = timeouts or Timeouts()

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
    ) -> list[PostOutcome]:
        """Post every note of one video in one page load; one outcome per note, in order.

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
                page, video_url, todo, outcomes, artifacts_dir, on_step, on_posted
            )
        return [outcomes[n.note_id] for n in notes]

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
                    page, video_url, note, text, account, on_step
                )
                if on_posted is not None and outcome.posted:
                    try:
                        on_posted(outcome)
                    except Exception:  # the caller saves it again from the batch's outcomes
                        log.exception(
                            "%s: early save of note %d failed", self.platform, note.note_id
                        )
            except _BatchStop as stop:
                error = await self._with_artifact(stop.error, page, artifacts_dir, note.note_id)
                self._fail_rest(todo, index, error, outcomes, artifacts_dir, attempted=True)
                return
            except Exception as exc:
                error = classify(exc)
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
        response = await page.goto(
            video_url, wait_until="domcontentloaded", timeout=self._ms(self.timeouts.navigation_s)
        )
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
            raise _BatchStop(
                AutomationError(E.INVALID_VIDEO, f"{self.label} says the video is unavailable")
            )

        login = await self.check_login(page)
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
            raise AutomationError(
                E.SELECTOR_FAILED,
                f"{self.label}: no comment box found "
                f"(tried {', '.join(f.describe() for f in box)})",
            )
        if await self._visible(page, sel.comments_disabled) and not await self._visible(page, box):
            raise _BatchStop(
                AutomationError(E.COMMENTS_DISABLED, f"{self.label}: comments are turned off")
            )
        return login.account

    async def _post_one(
        self,
        page: Page,
        video_url: str,
        note: NoteToPost,
        text: str,
        account: str | None,
        on_step: StepCallback,
    ) -> PostOutcome:
        on_step(note.note_id, STEP_SEEKING)
        try:
            await self._seek(page, note.timestamp_seconds)
        except _PastTheEnd as past:
            return self._failed(note, past.error)

        before = await self._read_comments(page)
        mine = self._matching(before, text, account)
        if mine:
            seen = mine[0]
            log.info("%s: note %s is already on the page", self.platform, note.note_id)
            return self._outcome(note, seen, video_url, already_present=True)
        before_keys = {self._key(c) for c in self._matching(before, text, None)}

        on_step(note.note_id, STEP_TYPING)
        editor = await self._open_editor(page)
        await self._type(page, editor, text)

        on_step(note.note_id, STEP_SUBMITTING)
        submit = await self._first(page, self.selectors.submit)
        if submit is None:
            raise AutomationError(
                E.SELECTOR_FAILED,
                f"{self.label}: no submit button "
                f"(tried {', '.join(f.describe() for f in self.selectors.submit)})",
            )
        notices_before = await self._notices(page)
        throttled: list[float | None] = []

        def on_response(response: Response) -> None:
            if response.status == 429:  # the platform's own answer to the submit
                throttled.append(_retry_after(response.headers))

        page.on("response", on_response)
        try:
            await submit.click(timeout=self._ms(self.timeouts.element_s))
            on_step(note.note_id, STEP_CONFIRMING)
            return await self._confirm(
                page, video_url, note, text, account, before_keys, notices_before, throttled
            )
        finally:
            page.remove_listener("response", on_response)

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
            raise AutomationError(
                E.SELECTOR_FAILED,
                f"{self.label}: no comment editor "
                f"(tried {', '.join(f.describe() for f in sel.editor)})",
            )
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

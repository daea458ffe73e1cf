"""post_note: post the queued notes of one video through one browser session and one page load.

The queue hands this worker a batch of jobs sharing a group key (`video:<id>`). For the batch:
the note rows go ghost(queued) → posting; one browser session opens on the platform connection
(Browserbase or local Chromium); the platform agent posts every note on a single page load and
reports each outcome; the session is released in every outcome and its seconds recorded. Each
outcome becomes a note state and a queue result, following the error taxonomy's policy.

Pacing (queue/pacing.py): every comment takes its account's slot right before it is typed.
A wait for the slot up to `keep_session_max_wait_s` (a minute: what a new Browserbase session
bills at least) is spent with the session open — or, before the first comment, before the
session opens; a longer wait releases the session (or opens none) and the notes left are
snoozed to the slot, still queued, without using up an attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from lossy_desktop.automation.errors import (
    BROWSER_CAPACITY,
    NOT_LOGGED_IN,
    RATE_LIMITED,
    SCRIPT_FAILED,
    AutomationError,
    classify,
    rate_limit_snooze,
    user_message,
)
from lossy_desktop.core.errors import IllegalTransition, NotFoundError
from lossy_desktop.core.usage import BROWSERBASE_MINIMUM_SECONDS
from lossy_desktop.core.wording import STEP_OPENING, STEP_STARTING, platform_label
from lossy_desktop.queue.pacing import PACED, STEP_WAITING
from lossy_desktop.queue.results import Cancel, Discard, Error, Ok, Result, Snooze
from lossy_desktop.workers.locks import connection_lock

if TYPE_CHECKING:
    from playwright.async_api import Playwright

    from lossy_desktop.automation.agents import NoteToPost, PaceHook, PostOutcome, Timeouts
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.core.notes import NoteView
    from lossy_desktop.core.usage import UsageRecord
    from lossy_desktop.queue.jobs import JobRecord
    from lossy_desktop.queue.runner import JobContext
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.workers")

WORKER_NAME = "post_note"
BATCH_LIMIT = 25
SESSION_TIMEOUT_S = 600.0
# A wait for the account's next comment up to this long keeps the browser session open; a
# longer one releases it (a new Browserbase session bills at least this much).
KEEP_SESSION_MAX_WAIT_S = BROWSERBASE_MINIMUM_SECONDS
# A batch stops taking comment slots this long before its session would time out.
SESSION_MARGIN_S = 60.0


class PostNoteWorker:
    name = WORKER_NAME
    queue = "automation"
    group_limit = BATCH_LIMIT
    keep_session_max_wait_s = KEEP_SESSION_MAX_WAIT_S

    def __init__(
        self, services: Services, engine: AutomationEngine, *, timeouts: Timeouts | None = None
    ) -> None:
        self.services = services
        self.engine = engine
        self.timeouts = timeouts
        """How long the agent waits on the page (None: the agents' defaults)."""

    # -- the queue's entry point -----------------------------------------------------------
    def perform(self, jobs: list[JobRecord], ctx: JobContext) -> dict[int, Result]:
        notes = self.services.notes
        results: dict[int, Result] = {}
        batch: list[tuple[JobRecord, NoteView]] = []
        for job in jobs:
            try:
                view = notes.get(int(job.args["note_id"]))
            except (NotFoundError, KeyError, TypeError, ValueError):
                results[job.id] = Cancel("the note no longer exists")
                continue
            if view.status == "posted":
                results[job.id] = Ok()
                continue
            if not view.queued and view.status != "posting":
                results[job.id] = Cancel("the note is no longer queued")
                continue
            batch.append((job, view))
        if not batch:
            return results

        platform = batch[0][1].platform
        connection = self.services.connections.get(platform)
        if connection is None or connection.status != "active":
            error = AutomationError(NOT_LOGGED_IN, f"{platform_label(platform)} is not connected")
            results.update(self._hold_all(batch, error, platform))
            return results

        with connection_lock(platform):
            return self._perform_locked(batch, results, connection, ctx)

    def _perform_locked(
        self,
        batch: list[tuple[JobRecord, NoteView]],
        results: dict[int, Result],
        connection: ConnectionView,
        ctx: JobContext,
    ) -> dict[int, Result]:
        notes = self.services.notes
        pacer = self.services.pacer
        platform = connection.platform
        state = pacer.state(platform)
        if state.wait_s > self.keep_session_max_wait_s:  # no browser for a long wait
            log.info("%s: next comment in %.0f s (%s)", platform, state.wait_s, state.reason)
            results.update(self._wait_for_slot(batch, state.next_at))
            return results

        posting: list[tuple[JobRecord, NoteView]] = []
        for job, view in batch:
            try:
                notes.mark_posting(view.id, job.attempt)
                posting.append((job, view))
            except IllegalTransition as error:
                results[job.id] = Cancel(str(error))
        if not posting:
            return results

        def stopping() -> bool:
            return ctx.stopping

        if not state.free:  # a short wait before the first comment: no session open yet
            for job, _view in posting:
                ctx.step(job.id, STEP_WAITING, until=state.next_at)
            if not pacer.wait_until(state.next_at, stopping):
                results.update(self._wait_for_slot(posting, self.services.clock()))
                return results

        by_note = {view.id: job for job, view in posting}
        for job, _view in posting:
            ctx.step(job.id, STEP_STARTING)

        def on_step(note_id: int, step: str) -> None:
            job = by_note.get(note_id)
            if job is not None:
                ctx.step(job.id, step)

        video_url = posting[0][1].video_url
        saved: set[int] = set()
        slots: dict[int, int] = {}  # note id -> its comment's pacing event
        stopped_for: list[float] = []  # when the batch stopped for pacing: the next slot

        def on_posted(outcome: PostOutcome) -> None:
            # Saved the moment it is seen on the page: a crash later in the batch loses nothing.
            notes.mark_posted(
                outcome.note_id,
                permalink=outcome.permalink,
                comment_id=outcome.comment_id,
                remark=outcome.remark,
            )
            saved.add(outcome.note_id)
            slot = slots.pop(outcome.note_id, None)
            if slot is not None:
                pacer.confirm(slot)  # the next gap counts from when the comment was seen

        pace = self._pace_hook(connection, by_note, slots, stopped_for, ctx)
        try:
            views = [v for _, v in posting]
            outcomes = self.engine.run(
                lambda pw: self._post(pw, connection, video_url, views, on_step, on_posted, pace),
                timeout=SESSION_TIMEOUT_S,
            )
        except Exception as exc:  # the whole batch failed before or around the agent
            batch_error = exc if isinstance(exc, AutomationError) else classify(exc)
            log.warning("posting to %s failed: %s", platform, batch_error)
            for job, view in posting:
                results[job.id] = self._failure(job, view, batch_error, platform)
            return results

        seen = {outcome.note_id: outcome for outcome in outcomes}
        for job, view in posting:
            outcome = seen.get(view.id)
            if outcome is None and stopped_for:  # not typed: waits for the account's slot
                results.update(self._wait_for_slot([(job, view)], stopped_for[0]))
            elif outcome is None:
                err = AutomationError(SCRIPT_FAILED, "the agent reported nothing for this note")
                results[job.id] = self._failure(job, view, err, platform)
            elif outcome.posted:
                if view.id not in saved:
                    notes.mark_posted(
                        view.id,
                        permalink=outcome.permalink,
                        comment_id=outcome.comment_id,
                        remark=outcome.remark,
                    )
                results[job.id] = Ok()
            else:
                err = outcome.error or AutomationError(SCRIPT_FAILED, "not posted")
                results[job.id] = self._failure(job, view, err, platform)
        return results

    # -- the browser part (runs on the automation engine's loop) ---------------------------
    async def _post(
        self,
        playwright: Playwright,
        connection: ConnectionView,
        video_url: str,
        views: list[NoteView],
        on_step: Callable[[int, str], None],
        on_posted: Callable[[PostOutcome], None],
        pace: PaceHook,
    ) -> list[PostOutcome]:
        from lossy_desktop.automation.agents import NoteToPost, agent_for
        from lossy_desktop.automation.providers import provider_for, session_scope

        provider = provider_for(connection, self.services.settings, self.services.data)
        async with session_scope(
            provider, playwright, connection, purpose="post", on_usage=self._record_usage
        ) as session:
            for view in views:
                on_step(view.id, STEP_OPENING)
            to_post: list[NoteToPost] = [
                NoteToPost(note_id=v.id, text=v.text, timestamp_seconds=v.timestamp_seconds)
                for v in views
            ]
            agent = agent_for(
                connection.platform, self.timeouts, selectors_dir=self.services.data.selectors
            )
            outcomes = await agent.post(
                session.page,
                video_url,
                to_post,
                artifacts_dir=self.services.data.artifacts,
                on_step=on_step,
                on_posted=on_posted,
                pace=pace,
            )
            session.notes_posted = sum(1 for o in outcomes if o.posted)
            replay = session.extra.get("replay_url")  # a recorded Browserbase session
            for outcome in outcomes:
                if replay and outcome.error is not None and outcome.error.replay_url is None:
                    outcome.error.replay_url = str(replay)
        self.services.connections.mark_used(connection.platform)
        return outcomes

    def _pace_hook(
        self,
        connection: ConnectionView,
        by_note: dict[int, JobRecord],
        slots: dict[int, int],
        stopped_for: list[float],
        ctx: JobContext,
    ) -> PaceHook:
        """What the agent awaits before typing each comment: take the account's slot, after
        a short wait with the session open; stop the batch (StopBatch) rather than hold the
        session through a long wait, past the session's time, or while the runner stops."""
        from lossy_desktop.automation.agents import StopBatch

        platform = connection.platform
        pacer = self.services.pacer
        clock = self.services.clock
        deadline = clock() + self._session_budget(connection)

        def stopping() -> bool:
            return ctx.stopping

        async def pace(note_id: int) -> None:
            while True:
                slot, state = await asyncio.to_thread(pacer.try_acquire, platform)
                if slot is not None:
                    slots[note_id] = slot
                    return
                if ctx.stopping:
                    stopped_for.append(clock())
                    raise StopBatch
                if state.wait_s > self.keep_session_max_wait_s or state.next_at > deadline:
                    log.info(
                        "%s: next comment in %.0f s (%s): releasing the browser",
                        platform,
                        state.wait_s,
                        state.reason,
                    )
                    stopped_for.append(state.next_at)
                    raise StopBatch
                job = by_note.get(note_id)
                if job is not None:
                    ctx.step(job.id, STEP_WAITING, until=state.next_at)
                if not await asyncio.to_thread(pacer.wait_until, state.next_at, stopping):
                    stopped_for.append(clock())
                    raise StopBatch

        return pace

    def _session_budget(self, connection: ConnectionView) -> float:
        """How long a batch may keep taking comment slots after its session opens."""
        limit = SESSION_TIMEOUT_S
        if connection.provider == "browserbase":
            limit = min(limit, float(self.services.settings.get("browserbase_session_timeout_s")))
        return max(limit - SESSION_MARGIN_S, 0.0)

    def _wait_for_slot(
        self, batch: list[tuple[JobRecord, NoteView]], until: float
    ) -> dict[int, Result]:
        """The notes wait (queued, no attempt used) for their account's next comment slot."""
        seconds = max(until - self.services.clock(), 0.0)
        results: dict[int, Result] = {}
        for job, view in batch:
            try:
                self.services.notes.mark_waiting(view.id, next_attempt_at=until)
            except IllegalTransition as error:
                results[job.id] = Cancel(str(error))
                continue
            results[job.id] = Snooze(seconds, reason=PACED)
        return results

    def _record_usage(self, usage: UsageRecord) -> None:
        self.services.usage.record(usage)

    # -- outcomes → note states and queue results ------------------------------------------
    def _failure(
        self, job: JobRecord, view: NoteView, error: AutomationError, platform: str
    ) -> Result:
        notes = self.services.notes
        message = f"{user_message(error.kind, platform)} ({error.message})"
        if error.replay_url:
            message += f" — session replay: {error.replay_url}"
        if error.holds:
            return self._hold_all([(job, view)], error, platform)[job.id]
        if error.policy.retry == "snooze":  # rate_limited, browser_capacity
            snoozes = int((job.meta.get("snoozed_for") or {}).get(error.kind, 0)) + 1
            if error.kind == BROWSER_CAPACITY and error.retry_after is not None:
                seconds = max(1.0, error.retry_after)  # Browserbase said when a browser is free
            else:
                seconds = rate_limit_snooze(
                    snoozes,
                    error.retry_after,
                    self.services.settings.get("rate_limit_snooze_base_s"),
                )
            if error.kind == RATE_LIMITED:
                # The platform asked the account to slow down: its other videos wait too.
                self.services.pacer.pause(platform, self.services.clock() + seconds)
            notes.mark_retrying(
                view.id,
                kind=error.kind,
                message=message,
                next_attempt_at=self.services.clock() + seconds,
                artifact_path=error.artifact_path,
            )
            return Snooze(seconds, reason=error.kind)
        if error.retryable and job.attempt < job.max_attempts:
            from lossy_desktop.queue.jobs import backoff_seconds

            notes.mark_retrying(
                view.id,
                kind=error.kind,
                message=message,
                next_attempt_at=self.services.clock()
                + backoff_seconds(job.attempt, base_s=self.services.queue.backoff_base()),
                artifact_path=error.artifact_path,
            )
            return Error(error.message, kind=error.kind)
        notes.mark_failed(
            view.id, kind=error.kind, message=message, artifact_path=error.artifact_path
        )
        if error.retryable:
            return Error(error.message, kind=error.kind)  # out of attempts: the queue discards
        return Discard(error.message, kind=error.kind)

    def _hold_all(
        self, batch: list[tuple[JobRecord, NoteView]], error: AutomationError, platform: str
    ) -> dict[int, Result]:
        """The login is gone: notes wait for a reconnect; the connection says why."""
        status = error.connection_status
        if status == "expired":
            self.services.connections.mark_expired(platform, error.message)
        elif status == "logged_out" and self.services.connections.get(platform) is not None:
            self.services.connections.mark_logged_out(platform, error.message)
        results: dict[int, Result] = {}
        for job, view in batch:
            try:
                self.services.notes.hold(
                    view.id,
                    kind=error.kind,
                    message=user_message(error.kind, platform),
                    artifact_path=error.artifact_path,
                )
            except IllegalTransition:
                pass
            results[job.id] = Discard(error.message, kind=error.kind)
        return results

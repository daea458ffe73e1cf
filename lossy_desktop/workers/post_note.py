"""post_note: post the queued notes of one video through one browser session and one page load.

The queue hands this worker a batch of jobs sharing a group key (`video:<id>`). For the batch:
the note rows go ghost(queued) → posting; one browser session opens on the platform connection
(Browserbase or local Chromium); the platform agent posts every note on a single page load and
reports each outcome; the session is released in every outcome and its seconds recorded. Each
outcome becomes a note state and a queue result, following the error taxonomy's policy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from lossy_desktop.automation.errors import (
    NOT_LOGGED_IN,
    RATE_LIMITED,
    SCRIPT_FAILED,
    AutomationError,
    classify,
    rate_limit_snooze,
    user_message,
)
from lossy_desktop.core.errors import IllegalTransition, NotFoundError
from lossy_desktop.core.wording import STEP_OPENING, STEP_STARTING
from lossy_desktop.queue.results import Cancel, Discard, Error, Ok, Result, Snooze
from lossy_desktop.workers.locks import connection_lock

if TYPE_CHECKING:
    from playwright.async_api import Playwright

    from lossy_desktop.automation.agents import NoteToPost, PostOutcome
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


class PostNoteWorker:
    name = WORKER_NAME
    queue = "automation"
    group_limit = BATCH_LIMIT

    def __init__(self, services: Services, engine: AutomationEngine) -> None:
        self.services = services
        self.engine = engine

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
            error = AutomationError(NOT_LOGGED_IN, f"{platform} is not connected")
            results.update(self._hold_all(batch, error, platform))
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

        by_note = {view.id: job for job, view in posting}
        for job, _view in posting:
            ctx.step(job.id, STEP_STARTING)

        def on_step(note_id: int, step: str) -> None:
            job = by_note.get(note_id)
            if job is not None:
                ctx.step(job.id, step)

        video_url = posting[0][1].video_url
        saved: set[int] = set()

        def on_posted(outcome: PostOutcome) -> None:
            # Saved the moment it is seen on the page: a crash later in the batch loses nothing.
            notes.mark_posted(
                outcome.note_id, permalink=outcome.permalink, comment_id=outcome.comment_id
            )
            saved.add(outcome.note_id)

        try:
            views = [v for _, v in posting]
            with connection_lock(platform):
                outcomes = self.engine.run(
                    lambda pw: self._post(pw, connection, video_url, views, on_step, on_posted),
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
            if outcome is None:
                err = AutomationError(SCRIPT_FAILED, "the agent reported nothing for this note")
                results[job.id] = self._failure(job, view, err, platform)
            elif outcome.posted:
                if view.id not in saved:
                    notes.mark_posted(
                        view.id, permalink=outcome.permalink, comment_id=outcome.comment_id
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
            outcomes = await agent_for(connection.platform).post(
                session.page,
                video_url,
                to_post,
                artifacts_dir=self.services.data.artifacts,
                on_step=on_step,
                on_posted=on_posted,
            )
            session.notes_posted = sum(1 for o in outcomes if o.posted)
        self.services.connections.mark_used(connection.platform)
        return outcomes

    def _record_usage(self, usage: UsageRecord) -> None:
        self.services.usage.record(usage)

    # -- outcomes → note states and queue results ------------------------------------------
    def _failure(
        self, job: JobRecord, view: NoteView, error: AutomationError, platform: str
    ) -> Result:
        notes = self.services.notes
        message = f"{user_message(error.kind, platform)} ({error.message})"
        if error.holds:
            return self._hold_all([(job, view)], error, platform)[job.id]
        if error.kind == RATE_LIMITED:
            snoozes = int(job.meta.get("snoozed", 0)) + 1
            seconds = rate_limit_snooze(
                snoozes,
                error.retry_after,
                float(self.services.settings.get("rate_limit_snooze_base_s")),
            )
            notes.mark_retrying(
                view.id,
                kind=error.kind,
                message=message,
                next_attempt_at=self.services.clock() + seconds,
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
                    view.id, kind=error.kind, message=user_message(error.kind, platform)
                )
            except IllegalTransition:
                pass
            results[job.id] = Discard(error.message, kind=error.kind)
        return results

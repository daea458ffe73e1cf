"""retract_comment: delete a posted note's comment from its platform, then the note is a ghost.

Jobs: worker "retract_comment", queue "automation", args {"note_id": id}, unique_key
"retract:<id>" (one waiting or running job per note). `queue_retract` marks the note `removing`
and inserts the job in one transaction, so a note is retracted effectively once: a second request
is refused while the first is pending, and a job that runs again after the comment went (a retry
after a dropped answer, a crash before saving) finds it gone, which counts as done.

The job opens a browser session on the platform connection exactly as post_note does (same
provider, same per-platform lock, so it never shares a local profile with a posting batch), and
the platform agent finds the comment by its id, deletes it and waits until the page no longer
shows it. Failures follow the error taxonomy: a lost login puts the note back to posted with the
reason (connect again, then retract again); network errors retry with backoff; anything else
(selector_failed with its screenshot, ...) ends the attempt and the note is posted again with
the error shown, since the comment is still there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from lossy_desktop.automation.errors import (
    NOT_LOGGED_IN,
    AutomationError,
    classify,
    rate_limit_snooze,
    user_message,
)
from lossy_desktop.core.errors import IllegalTransition, NotFoundError
from lossy_desktop.core.wording import platform_label
from lossy_desktop.queue.results import Cancel, Discard, Error, Ok, Result, Snooze
from lossy_desktop.workers.locks import connection_lock

if TYPE_CHECKING:
    from playwright.async_api import Playwright
    from sqlalchemy.orm import Session

    from lossy_desktop.automation.agents.base import DeleteOutcome
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.core.notes import NoteView
    from lossy_desktop.core.usage import UsageRecord
    from lossy_desktop.queue.jobs import JobRecord
    from lossy_desktop.queue.runner import JobContext
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.workers")

WORKER_NAME = "retract_comment"
QUEUE = "automation"
SESSION_TIMEOUT_S = 300.0


def retract_key(note_id: int) -> str:
    return f"retract:{note_id}"


def queue_retract(services: Services, note_id: int) -> NoteView:
    """Mark a posted note `removing` and queue the job that deletes its comment. Raises
    IllegalTransition (a plain message) when the note is not posted, NotFoundError when there
    is no such note."""

    def enqueue(session: Session, view: NoteView) -> None:
        record = services.queue.insert(
            WORKER_NAME,
            {"note_id": view.id},
            queue=QUEUE,
            unique_key=retract_key(view.id),
            unique_period=0.0,  # refused only while a job for this note waits or runs
            session=session,
        )
        if record is None:
            raise IllegalTransition(
                f"note {view.id}'s comment is already being removed from "
                f"{platform_label(view.platform)}"
            )

    view = services.notes.retract(note_id, enqueue=enqueue)
    log.info("note %d: removing its comment from %s queued", note_id, view.platform)
    return view


class RetractCommentWorker:
    name = WORKER_NAME
    queue = QUEUE
    group_limit = 1

    def __init__(self, services: Services, engine: AutomationEngine) -> None:
        self.services = services
        self.engine = engine

    def perform(self, jobs: list[JobRecord], ctx: JobContext) -> dict[int, Result]:
        return {job.id: self._one(job, ctx) for job in jobs}

    def _one(self, job: JobRecord, ctx: JobContext) -> Result:
        notes = self.services.notes
        try:
            view = notes.get(int(job.args["note_id"]))
        except (NotFoundError, KeyError, TypeError, ValueError):
            return Cancel("the note no longer exists")
        if view.state != "removing":
            # Done already (a ghost again) or given up: nothing to delete, and never twice.
            return Ok() if view.status == "ghost" else Cancel(f"the note is {view.state}")
        platform = view.platform
        if not view.external_comment_id:
            # Nothing identifies the comment: it can't be found on the page, so nothing to delete.
            notes.mark_removed(view.id, already_gone=True)
            return Ok()
        connection = self.services.connections.get(platform)
        if connection is None or connection.status != "active":
            error = AutomationError(NOT_LOGGED_IN, f"{platform_label(platform)} is not connected")
            return self._failure(job, view, error)
        ctx.step(job.id, "starting browser")
        try:
            with connection_lock(platform):
                outcome = self.engine.run(
                    lambda pw: self._delete(pw, connection, view, lambda s: ctx.step(job.id, s)),
                    timeout=SESSION_TIMEOUT_S,
                )
        except Exception as exc:
            error = exc if isinstance(exc, AutomationError) else classify(exc)
            log.warning("removing note %d's comment from %s failed: %s", view.id, platform, error)
            return self._failure(job, view, error)
        if outcome.error is not None:
            return self._failure(job, view, outcome.error)
        notes.mark_removed(view.id, already_gone=outcome.already_gone)
        return Ok()

    async def _delete(
        self,
        playwright: Playwright,
        connection: ConnectionView,
        view: NoteView,
        on_step: Callable[[str], None],
    ) -> DeleteOutcome:
        from lossy_desktop.automation.agents import agent_for
        from lossy_desktop.automation.providers import provider_for, session_scope

        provider = provider_for(connection, self.services.settings, self.services.data)
        async with session_scope(
            provider, playwright, connection, purpose="retract", on_usage=self._record_usage
        ) as session:
            on_step("removing comment")
            agent = agent_for(connection.platform, selectors_dir=self.services.data.selectors)
            assert view.external_comment_id is not None
            outcome = await agent.delete_comment(
                session.page,
                view.video_url,
                view.external_comment_id,
                artifacts_dir=self.services.data.artifacts,
                note_id=view.id,
            )
            replay = session.extra.get("replay_url")
            if replay and outcome.error is not None and outcome.error.replay_url is None:
                outcome.error.replay_url = str(replay)
        self.services.connections.mark_used(connection.platform)
        return outcome

    def _record_usage(self, usage: UsageRecord) -> None:
        self.services.usage.record(usage)

    def _failure(self, job: JobRecord, view: NoteView, error: AutomationError) -> Result:
        notes = self.services.notes
        platform = view.platform
        message = (
            f"Not removed from {platform_label(platform)}: {user_message(error.kind, platform)}"
        )
        if error.replay_url:
            message += f" — session replay: {error.replay_url}"
        try:
            if error.holds:
                status = error.connection_status
                if status == "expired":
                    self.services.connections.mark_expired(platform, error.message)
                elif status == "logged_out" and self.services.connections.get(platform):
                    self.services.connections.mark_logged_out(platform, error.message)
                notes.mark_retract_failed(
                    view.id, kind=error.kind, message=message, artifact_path=error.artifact_path
                )
                return Discard(error.message, kind=error.kind)
            if error.policy.retry == "snooze":
                snoozes = int(job.meta.get("snoozed", 0)) + 1
                seconds = rate_limit_snooze(
                    snoozes,
                    error.retry_after,
                    self.services.settings.get("rate_limit_snooze_base_s"),
                )
                notes.mark_retract_retrying(
                    view.id,
                    kind=error.kind,
                    message=message,
                    next_attempt_at=self.services.clock() + seconds,
                    artifact_path=error.artifact_path,
                )
                return Snooze(seconds, reason=error.kind)
            if error.retryable and job.attempt < job.max_attempts:
                from lossy_desktop.queue.jobs import backoff_seconds

                notes.mark_retract_retrying(
                    view.id,
                    kind=error.kind,
                    message=message,
                    next_attempt_at=self.services.clock()
                    + backoff_seconds(job.attempt, base_s=self.services.queue.backoff_base()),
                    artifact_path=error.artifact_path,
                )
                return Error(error.message, kind=error.kind)
            notes.mark_retract_failed(
                view.id, kind=error.kind, message=message, artifact_path=error.artifact_path
            )
        except IllegalTransition as problem:  # the note changed meanwhile (deleted, ...)
            return Cancel(str(problem))
        return Discard(error.message, kind=error.kind)


def recover_retracts(services: Services) -> int:
    """Start-up after a crash: a note left `removing` whose job will not run again (given up,
    or lost) goes back to posted with a plain reason, so it can be retracted again; one whose job
    still waits stays removing. Returns how many notes were put back."""
    from lossy_desktop.queue.states import ACTIVE_STATES

    fixed = 0
    for view in services.notes.list(status="posted"):
        if not view.removing:
            continue
        jobs = services.queue.jobs_for(retract_key(view.id))
        if any(j.state in ACTIVE_STATES for j in jobs):
            continue
        services.notes.mark_retract_failed(
            view.id,
            kind="script_failed",
            message=f"Interrupted while removing the comment from "
            f"{platform_label(view.platform)}: choose Delete again (a comment already gone "
            "counts as done)",
        )
        fixed += 1
    return fixed

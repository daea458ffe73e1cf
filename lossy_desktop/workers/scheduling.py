"""The notes service's PostingScheduler over the job queue: one `post_note` job per note.

Jobs: worker "post_note", queue "automation", args {"note_id": id}, unique_key "note:<id>",
group_key "video:<video_id>". An automatic queueing is refused within the queue's 60 s unique
window; a user's explicit action (manual=True) uses a window of 0, so it is refused only while a
job for the note is still waiting — and then that job's due time is returned, since the note is
queued by it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from lossy_desktop.core.models import Job
from lossy_desktop.queue.states import WAITING_STATES

if TYPE_CHECKING:
    from lossy_desktop.queue.jobs import JobQueue

log = logging.getLogger("lossy.workers")

POST_NOTE_WORKER = "post_note"
POST_NOTE_QUEUE = "automation"
AUTO_UNIQUE_PERIOD_S = 60.0


def note_key(note_id: int) -> str:
    return f"note:{note_id}"


def video_key(video_id: int) -> str:
    return f"video:{video_id}"


class QueueScheduler:
    """Implements core.notes.PostingScheduler with JobQueue."""

    def __init__(self, queue: JobQueue) -> None:
        self._queue = queue

    def schedule(
        self, session: Session, notes: list[tuple[int, int]], *, manual: bool
    ) -> dict[int, float | None]:
        due: dict[int, float | None] = {}
        for note_id, video_id in notes:
            record = self._queue.insert(
                POST_NOTE_WORKER,
                {"note_id": note_id},
                queue=POST_NOTE_QUEUE,
                unique_key=note_key(note_id),
                group_key=video_key(video_id),
                unique_period=0.0 if manual else AUTO_UNIQUE_PERIOD_S,
                session=session,
            )
            if record is not None:
                due[note_id] = record.scheduled_at
                continue
            # Refused: a job for this note may already be waiting; then the note is queued by it.
            waiting = session.scalar(
                select(Job.scheduled_at)
                .where(Job.unique_key == note_key(note_id), Job.state.in_(WAITING_STATES))
                .order_by(Job.id.desc())
                .limit(1)
            )
            due[note_id] = waiting
            if waiting is None:
                log.info("note %d not queued: a job for it ran or was queued moments ago", note_id)
        return due

    def cancel(self, note_id: int) -> int:
        return self._queue.cancel_where(note_key(note_id))

"""Notes with the real job queue (QueueScheduler): jobs made, refused, cancelled as they should."""

from __future__ import annotations

import pytest

from lossy_desktop.core.clock import FakeClock
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.notes import NoteService
from lossy_desktop.services import Services
from lossy_desktop.workers.scheduling import QueueScheduler

YT = "https://www.youtube.com/watch?v=abcdefghijk"


def create(notes: NoteService, text: str, confidence: float = 0.95, url: str = YT):
    return notes.create(
        notes.validate(
            {"video_url": url, "timestamp_seconds": 3, "text": text, "confidence": confidence}
        )
    )


def test_auto_queued_note_gets_one_post_note_job(fake_services: Services, clock: FakeClock):
    view = create(fake_services.notes, "hello")
    [job] = fake_services.queue.jobs_for(f"note:{view.id}")
    assert (job.worker, job.queue, job.args) == ("post_note", "automation", {"note_id": view.id})
    assert job.group_key == f"video:{view.video_id}" and job.state == "available"
    assert view.next_attempt_at == job.scheduled_at == clock()
    assert create(fake_services.notes, "low", confidence=0.2).queued is False
    assert fake_services.queue.counts()["available"] == 1


def test_a_rolled_back_create_leaves_no_job(fake_services: Services):
    notes = fake_services.notes
    good = notes.validate(
        {"video_url": YT, "timestamp_seconds": 3, "text": "a", "video_duration": 10}
    )
    late = notes.validate({"video_url": YT, "timestamp_seconds": 9, "text": "b"})
    notes.create(good)
    shorter = notes.validate(
        {"video_url": YT, "timestamp_seconds": 1, "text": "c", "video_duration": 5}
    )
    with pytest.raises(ValidationError, match="past the end"):
        notes.create_many([shorter, late])  # late is past the new 5 s duration: all refused
    assert notes.count() == 1
    assert fake_services.queue.counts()["available"] == 1


def test_manual_retry_is_not_refused_by_the_unique_window(
    fake_services: Services, clock: FakeClock
):
    notes, queue = fake_services.notes, fake_services.queue
    view = create(notes, "retry me")
    [[job]] = queue.claim("automation", 1)
    notes.mark_posting(view.id, job.attempt)
    notes.mark_failed(view.id, kind="selector_failed", message="box gone")
    queue.discard(job.id, "selector_failed")
    clock.advance(2)
    retried = notes.retry(view.id)
    assert retried.queued and retried.next_attempt_at == clock()
    states = [j.state for j in queue.jobs_for(f"note:{view.id}")]
    assert states == ["discarded", "available"]


def test_post_now_on_a_note_with_a_waiting_job_adds_no_second_job(fake_services: Services):
    notes, queue = fake_services.notes, fake_services.queue
    view = create(notes, "once")
    notes.cancel(view.id)
    assert [j.state for j in queue.jobs_for(f"note:{view.id}")] == ["cancelled"]
    queued = notes.post_now([view.id])[0]
    assert queued.queued
    scheduler = QueueScheduler(queue)
    with fake_services.db.write() as session:
        due = scheduler.schedule(session, [(view.id, view.video_id)], manual=True)
    assert due == {view.id: queued.next_attempt_at}  # the waiting job queues it already
    assert [j.state for j in queue.jobs_for(f"note:{view.id}")] == ["cancelled", "available"]


def test_automatic_requeue_within_60_s_is_refused(fake_services: Services, clock: FakeClock):
    queue = fake_services.queue
    view = create(fake_services.notes, "burst")
    [[job]] = queue.claim("automation", 1)
    queue.complete(job.id)
    scheduler = QueueScheduler(queue)
    with fake_services.db.write() as session:
        assert scheduler.schedule(session, [(view.id, view.video_id)], manual=False) == {
            view.id: None
        }
    clock.advance(61)
    with fake_services.db.write() as session:
        assert scheduler.schedule(session, [(view.id, view.video_id)], manual=False)[view.id]


def test_cancel_and_delete_cancel_the_waiting_job(fake_services: Services):
    notes, queue = fake_services.notes, fake_services.queue
    a = create(notes, "a")
    b = create(notes, "b")
    notes.cancel(a.id)
    notes.delete(b.id)
    assert [j.state for j in queue.jobs_for(f"note:{a.id}")] == ["cancelled"]
    assert [j.state for j in queue.jobs_for(f"note:{b.id}")] == ["cancelled"]
    assert queue.counts()["available"] == 0

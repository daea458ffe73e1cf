"""JobQueue: Oban's rules on SQLite, driven by a fake clock (no sleeping)."""

from __future__ import annotations

import random

import pytest

from lossy_desktop.core.clock import FakeClock
from lossy_desktop.core.errors import IllegalTransition, NotFoundError, ValidationError
from lossy_desktop.queue import (
    Cancel,
    Discard,
    Error,
    JobQueue,
    Ok,
    Snooze,
    backoff_seconds,
)
from lossy_desktop.services import Services


@pytest.fixture
def queue(fake_services: Services) -> JobQueue:
    return fake_services.queue


def claim_one(queue: JobQueue, name: str = "automation"):
    batches = queue.claim(name, 1)
    assert len(batches) == 1 and len(batches[0]) == 1
    return batches[0][0]


# -- insert and uniqueness ---------------------------------------------------------------------
def test_insert_defaults_and_snapshot(queue: JobQueue, clock: FakeClock) -> None:
    job = queue.insert("post_note", {"note_id": 7}, unique_key="note:7", group_key="video:1")
    assert job is not None
    assert job.state == "available"
    assert job.attempt == 0 and job.max_attempts == 3
    assert job.args == {"note_id": 7}
    assert job.inserted_at == clock() == job.scheduled_at
    assert queue.get(job.id) == job
    assert queue.jobs_for("note:7") == [job]


def test_insert_in_future_is_scheduled_and_max_attempts_follows_setting(
    fake_services: Services, clock: FakeClock
) -> None:
    fake_services.settings.set("max_attempts", 5)
    job = fake_services.queue.insert("w", {}, scheduled_at=clock() + 30)
    assert job is not None and job.state == "scheduled" and job.max_attempts == 5
    assert fake_services.queue.next_scheduled_at() == clock() + 30


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"worker": ""}, "worker"),
        ({"args": ["not", "a", "dict"]}, "args"),
        ({"args": {"x": object()}}, "args"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"unique_period": -1}, "unique_period"),
        ({"scheduled_at": float("nan")}, "scheduled_at"),
        ({"queue": ""}, "queue"),
    ],
)
def test_insert_refuses_bad_input_naming_the_field(queue: JobQueue, kwargs, field) -> None:
    call = {"worker": "w", "args": {}} | kwargs
    worker, args = call.pop("worker"), call.pop("args")
    with pytest.raises(ValidationError) as info:
        queue.insert(worker, args, **call)
    assert info.value.field == field
    assert sum(queue.counts().values()) == 0


def test_unique_while_waiting_or_executing(queue: JobQueue, clock: FakeClock) -> None:
    first = queue.insert("w", {"note_id": 1}, unique_key="note:1")
    assert first is not None
    clock.advance(3600)  # long past the 60 s window: only the active state refuses now
    assert queue.insert("w", {"note_id": 1}, unique_key="note:1") is None
    claim_one(queue)
    assert queue.insert("w", {"note_id": 1}, unique_key="note:1") is None  # executing
    queue.fail(first.id, "boom")
    assert queue.insert("w", {"note_id": 1}, unique_key="note:1") is None  # retryable
    # Another key is independent.
    assert queue.insert("w", {"note_id": 2}, unique_key="note:2") is not None


def test_unique_within_60_seconds_even_after_finishing(queue: JobQueue, clock: FakeClock) -> None:
    job = queue.insert("w", {}, unique_key="note:1")
    assert job is not None
    claim_one(queue)
    queue.complete(job.id)
    clock.advance(59.5)
    assert queue.insert("w", {}, unique_key="note:1") is None
    clock.advance(1.0)
    again = queue.insert("w", {}, unique_key="note:1")
    assert again is not None and again.id != job.id
    assert [j.id for j in queue.jobs_for("note:1")] == [job.id, again.id]


def test_unique_period_zero_checks_only_active_states(queue: JobQueue) -> None:
    job = queue.insert("w", {}, unique_key="k", unique_period=0)
    assert job is not None
    assert queue.insert("w", {}, unique_key="k", unique_period=0) is None
    claim_one(queue)
    queue.complete(job.id)
    assert queue.insert("w", {}, unique_key="k", unique_period=0) is not None


def test_insert_in_callers_transaction_notifies_after_commit_only(
    fake_services: Services,
) -> None:
    queue, db = fake_services.queue, fake_services.db
    seen = []
    queue.add_insert_listener(lambda job: seen.append(job.id))
    with db.write() as session:
        job = queue.insert("w", {"n": 1}, session=session)
        assert job is not None
        assert seen == []  # not before the commit
    assert seen == [job.id]
    assert queue.get(job.id) is not None

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.write() as session:
        lost = queue.insert("w", {"n": 2}, session=session)
        assert lost is not None
        raise Boom
    assert seen == [job.id]  # a rolled-back insert is never announced
    assert queue.get(lost.id) is None


# -- claim --------------------------------------------------------------------------------------
def test_claim_marks_executing_in_order_and_counts_an_attempt(
    queue: JobQueue, clock: FakeClock
) -> None:
    a = queue.insert("w", {"n": "a"})
    clock.advance(1)
    b = queue.insert("w", {"n": "b"})
    urgent = queue.insert("w", {"n": "urgent"}, priority=-1)
    queue.insert("w", {}, queue="maintenance")
    assert a and b and urgent
    batches = queue.claim("automation", 10)
    assert [[j.id for j in batch] for batch in batches] == [[urgent.id], [a.id], [b.id]]
    for batch in batches:
        job = batch[0]
        assert job.state == "executing" and job.attempt == 1 and job.attempted_at == clock()
    assert queue.claim("automation", 10) == []
    assert queue.counts("automation")["executing"] == 3
    assert queue.counts("maintenance")["available"] == 1


def test_claim_leaves_future_jobs_until_due(queue: JobQueue, clock: FakeClock) -> None:
    job = queue.insert("w", {}, scheduled_at=clock() + 10)
    assert queue.claim("automation", 5) == []
    clock.advance(10)
    [[claimed]] = queue.claim("automation", 5)
    assert job is not None and claimed.id == job.id


def test_claim_batches_jobs_of_one_group(queue: JobQueue, clock: FakeClock) -> None:
    v1 = [queue.insert("post", {"i": i}, group_key="video:1") for i in range(5)]
    v2 = queue.insert("post", {"i": 9}, group_key="video:2")
    lone = queue.insert("post", {"i": 10})
    other_worker = queue.insert("other", {}, group_key="video:1")
    batches = queue.claim("automation", 2, group_limit=3)
    assert [[j.id for j in b] for b in batches] == [[j.id for j in v1[:3]], [j.id for j in v1[3:]]]
    batches = queue.claim("automation", 5, group_limits={"post": 3})
    ids = [[j.id for j in b] for b in batches]
    assert v2 and lone and other_worker
    assert ids == [[v2.id], [lone.id], [other_worker.id]]


# -- no rate limit on batches: pacing is per account, in the worker (tests/test_pacing.py) -------
def test_the_queue_claims_batches_whatever_the_comment_rate(fake_services: Services) -> None:
    fake_services.settings.set("automation_rate_allowed", 1)
    queue = fake_services.queue
    for i in range(6):
        queue.insert("post", {"i": i}, group_key="video:1")
    queue.insert("post", {}, group_key="video:2")
    queue.insert("post", {}, group_key="video:3")
    batches = queue.claim("automation", 3, group_limit=10)
    assert [len(b) for b in batches] == [6, 1, 1]


def test_snoozes_are_counted_per_reason(queue: JobQueue, clock: FakeClock) -> None:
    job = queue.insert("w", {})
    assert job is not None
    for reason in ("paced", "paced", "rate_limited"):
        claim_one(queue)
        queue.apply(job.id, Snooze(1, reason))
        clock.advance(1)
    again = claim_one(queue)
    assert again.meta["snoozed"] == 3
    assert again.meta["snoozed_for"] == {"paced": 2, "rate_limited": 1}


# -- outcomes -----------------------------------------------------------------------------------
def test_backoff_values() -> None:
    rng = random.Random(1)
    for attempt, base in ((1, 30), (2, 90), (3, 270), (4, 810)):
        values = [backoff_seconds(attempt, rng) for _ in range(500)]
        assert all(base * 0.9 <= v <= base * 1.1 for v in values)
        assert max(values) - min(values) > base * 0.1  # it does jitter


def test_errors_retry_with_backoff_then_discard(queue: JobQueue, clock: FakeClock) -> None:
    job = queue.insert("w", {}, max_attempts=3)
    assert job is not None
    for attempt, base in ((1, 30), (2, 90)):
        claimed = claim_one(queue)
        assert claimed.attempt == attempt
        failed = queue.fail(job.id, f"boom {attempt}", "network_error")
        assert failed is not None and failed.state == "retryable"
        delay = failed.scheduled_at - clock()
        assert base * 0.9 <= delay <= base * 1.1
        assert queue.claim("automation", 1) == []  # not before the backoff
        clock.advance(delay - 0.01)
        assert queue.claim("automation", 1) == []
        clock.advance(0.01)
    claimed = claim_one(queue)
    assert claimed.attempt == 3
    last = queue.fail(job.id, "boom 3", "script_failed")
    assert last is not None and last.state == "discarded" and last.discarded_at == clock()
    assert [e["error"] for e in last.errors] == ["boom 1", "boom 2", "boom 3"]
    assert [e["attempt"] for e in last.errors] == [1, 2, 3]
    assert last.last_error_kind == "script_failed"
    clock.advance(10_000)
    assert queue.claim("automation", 1) == []


def test_snooze_does_not_use_an_attempt(queue: JobQueue, clock: FakeClock) -> None:
    job = queue.insert("w", {}, max_attempts=1)
    assert job is not None
    for _ in range(5):  # five snoozes of a one-attempt job: still alive
        claim_one(queue)
        snoozed = queue.apply(job.id, Snooze(30, "rate_limited"))
        assert snoozed is not None
        assert snoozed.state == "scheduled" and snoozed.attempt == 0
        assert snoozed.scheduled_at == clock() + 30
        assert queue.claim("automation", 1) == []
        clock.advance(30)
    claimed = claim_one(queue)
    assert claimed.attempt == 1
    assert claimed.meta["snoozed"] == 5 and claimed.meta["snooze_reason"] == "rate_limited"
    done = queue.apply(job.id, Ok())
    assert done is not None and done.state == "completed"


@pytest.mark.parametrize(
    ("result", "state"), [(Discard("selector_failed"), "discarded"), (Cancel("gone"), "cancelled")]
)
def test_discard_and_cancel_are_never_retried(
    queue: JobQueue, clock: FakeClock, result, state
) -> None:
    job = queue.insert("w", {}, max_attempts=5)
    assert job is not None
    claim_one(queue)
    done = queue.apply(job.id, result)
    assert done is not None and done.state == state and done.attempt == 1
    clock.advance(86400)
    assert queue.claim("automation", 5) == []
    assert queue.get(job.id).state == state  # type: ignore[union-attr]


def test_a_late_result_for_a_cancelled_job_is_ignored(queue: JobQueue) -> None:
    job = queue.insert("w", {}, unique_key="note:3")
    assert job is not None
    claim_one(queue)
    assert queue.cancel(job.id, "note deleted") is not None
    assert queue.apply(job.id, Ok()) is None
    assert queue.apply(job.id, Error("x")) is None
    assert queue.get(job.id).state == "cancelled"  # type: ignore[union-attr]


def test_cancel_where_cancels_waiting_jobs_only(queue: JobQueue, clock: FakeClock) -> None:
    running = queue.insert("w", {}, unique_key="note:1", unique_period=0)
    assert running is not None
    claim_one(queue)
    queue.fail(running.id, "boom")  # retryable: waiting
    other = queue.insert("w", {}, unique_key="note:2")
    assert queue.cancel_where("note:1") == 1
    assert queue.get(running.id).state == "cancelled"  # type: ignore[union-attr]
    assert other is not None and queue.get(other.id).state == "available"  # type: ignore[union-attr]
    claim_one(queue)  # note:2 now executing: not waiting
    assert queue.cancel_where("note:2") == 0
    assert queue.cancel_where("note:404") == 0


def test_retry_resets_attempts_and_respects_uniqueness(queue: JobQueue, clock: FakeClock) -> None:
    job = queue.insert("w", {}, unique_key="note:1", max_attempts=1)
    assert job is not None
    claim_one(queue)
    queue.fail(job.id, "boom")
    assert queue.get(job.id).state == "discarded"  # type: ignore[union-attr]
    woken = []
    queue.add_insert_listener(lambda j: woken.append(j.id))
    back = queue.retry(job.id)
    assert back is not None and back.state == "available" and back.attempt == 0
    assert back.discarded_at is None and back.errors[-1]["error"] == "boom"
    assert woken == [job.id]
    claim_one(queue)
    with pytest.raises(IllegalTransition):
        queue.retry(job.id)  # executing
    queue.cancel(job.id, "user")
    clock.advance(120)
    newer = queue.insert("w", {}, unique_key="note:1")
    assert newer is not None
    assert queue.retry(job.id) is None  # another job for the note is waiting
    with pytest.raises(NotFoundError):
        queue.retry(99999)


def test_outcome_for_unknown_job_is_an_error(queue: JobQueue) -> None:
    with pytest.raises(NotFoundError):
        queue.complete(424242)
    with pytest.raises(NotFoundError):
        queue.fail(424242, "x")


def test_complete_requires_executing(queue: JobQueue) -> None:
    job = queue.insert("w", {})
    assert job is not None
    assert queue.complete(job.id) is None  # available, not executing
    assert queue.get(job.id).state == "available"  # type: ignore[union-attr]


# -- orphans, pruning, reading -----------------------------------------------------------------
def test_rescue_orphans(queue: JobQueue) -> None:
    fresh = queue.insert("w", {}, max_attempts=3)
    last = queue.insert("w", {}, max_attempts=1)
    waiting = queue.insert("w", {})
    assert fresh and last and waiting
    queue.claim("automation", 2)
    assert queue.rescue_orphans() == 2
    again = queue.get(fresh.id)
    gone = queue.get(last.id)
    assert again is not None and again.state == "available" and again.attempt == 1
    assert again.last_error_kind == "orphaned"
    assert gone is not None and gone.state == "discarded"
    assert queue.get(waiting.id).state == "available"  # type: ignore[union-attr]
    assert queue.rescue_orphans() == 0


def test_prune_deletes_only_old_finished_jobs(fake_services: Services, clock: FakeClock) -> None:
    queue = fake_services.queue
    old = [queue.insert("w", {"i": i}) for i in range(3)]
    waiting_old = queue.insert("w", {"i": "waiting"}, scheduled_at=clock() + 30 * 86400)
    queue.claim("automation", 3)
    assert all(old)
    queue.complete(old[0].id)  # type: ignore[union-attr]
    queue.fail(old[1].id, "x")  # type: ignore[union-attr]  # retryable: not finished
    queue.discard(old[2].id, "bad")  # type: ignore[union-attr]
    clock.advance(6 * 86400)
    recent = queue.insert("w", {"i": "recent"})
    assert recent is not None
    queue.claim("automation", 5)
    queue.cancel(recent.id, "x")
    assert queue.prune() == 0  # 6 days: nothing yet
    clock.advance(1 * 86400 + 1)
    assert queue.prune() == 2  # the completed and the discarded one, 7 days old
    assert queue.get(old[0].id) is None and queue.get(old[2].id) is None  # type: ignore[union-attr]
    assert queue.get(old[1].id) is not None  # type: ignore[union-attr]
    assert queue.get(recent.id) is not None
    assert waiting_old is not None and queue.get(waiting_old.id) is not None
    fake_services.settings.set("prune_after_days", 1)
    assert queue.prune() == 1


def test_counts_and_next_scheduled(queue: JobQueue, clock: FakeClock) -> None:
    assert queue.counts() == dict.fromkeys(
        ("available", "scheduled", "executing", "retryable", "completed", "discarded", "cancelled"),
        0,
    )
    assert queue.next_scheduled_at() is None
    queue.insert("w", {})
    queue.insert("w", {}, scheduled_at=clock() + 500)
    queue.insert("k", {}, queue="maintenance", scheduled_at=clock() + 100)
    assert queue.counts()["available"] == 1 and queue.counts()["scheduled"] == 2
    assert queue.counts("automation")["scheduled"] == 1
    assert queue.next_scheduled_at() == clock() + 100
    assert queue.next_scheduled_at("automation") == clock() + 500
    assert queue.counts_by_queue()["maintenance"]["scheduled"] == 1

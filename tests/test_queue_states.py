"""The jobs' state machine (queue/states.py): the queue refuses a change its table does not list,
says why, and leaves the row as it was."""

from __future__ import annotations

import pytest

from lossy_desktop.core.clock import FakeClock
from lossy_desktop.core.errors import IllegalTransition
from lossy_desktop.queue import JobQueue
from lossy_desktop.queue.states import (
    AVAILABLE,
    CANCELLED,
    COMPLETED,
    EXECUTING,
    JOB_STATES,
    TRANSITIONS,
    check_transition,
    checked,
)
from lossy_desktop.services import Services


@pytest.fixture
def queue(fake_services: Services) -> JobQueue:
    return fake_services.queue


def _claim(queue: JobQueue) -> int:
    [[job]] = queue.claim("automation", 1)
    return job.id


def test_retrying_a_completed_job_is_refused_and_the_row_is_unchanged(
    queue: JobQueue, clock: FakeClock
) -> None:
    inserted = queue.insert("w", {"note_id": 1}, unique_key="note:1")
    assert inserted is not None
    done = queue.complete(_claim(queue))
    assert done is not None and done.state == COMPLETED
    clock.advance(60)
    with pytest.raises(IllegalTransition) as info:
        queue.retry(done.id)
    assert f"job {done.id} is completed; it can't become available" in str(info.value)
    assert queue.get(done.id) == done


def test_retrying_a_waiting_or_running_job_is_refused_and_the_row_is_unchanged(
    queue: JobQueue,
) -> None:
    waiting = queue.insert("w", {})
    assert waiting is not None
    with pytest.raises(IllegalTransition, match="is available; it can't become available"):
        queue.retry(waiting.id)
    assert queue.get(waiting.id) == waiting
    running = queue.get(_claim(queue))
    assert running is not None and running.state == EXECUTING
    with pytest.raises(IllegalTransition, match="executing"):
        queue.retry(running.id)
    assert queue.get(running.id) == running


def test_a_result_for_a_job_no_longer_running_changes_nothing(queue: JobQueue) -> None:
    job = queue.insert("w", {})
    assert job is not None
    cancelled = queue.cancel(_claim(queue), "the note was deleted")
    assert cancelled is not None and cancelled.state == CANCELLED
    assert queue.fail(job.id, "late") is None
    assert queue.snooze(job.id, 5) is None
    assert queue.complete(job.id) is None
    assert queue.get(job.id) == cancelled
    assert queue.cancel(job.id, "again") is None  # cancelled is not active: nothing to cancel
    assert queue.get(job.id) == cancelled


def test_the_table_covers_every_state_and_nothing_leaves_completed() -> None:
    assert set(TRANSITIONS) == set(JOB_STATES)
    assert all(targets <= set(JOB_STATES) for targets in TRANSITIONS.values())
    assert TRANSITIONS[COMPLETED] == frozenset()
    with pytest.raises(IllegalTransition, match="job 7 is completed; it can't become available"):
        check_transition(7, COMPLETED, AVAILABLE)
    check_transition(7, CANCELLED, AVAILABLE)  # a retry


def test_a_statement_moving_many_rows_is_built_only_from_legal_changes() -> None:
    assert checked((CANCELLED,), AVAILABLE) == (CANCELLED,)
    with pytest.raises(IllegalTransition):
        checked((CANCELLED, COMPLETED), AVAILABLE)

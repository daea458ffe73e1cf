"""A job's states and THE table of changes between them (Oban's state machine).

available → executing → completed; executing → retryable (error, backoff) → available;
executing → scheduled (snooze; the attempt is given back) → available; executing → discarded
(out of attempts, or Discard) / cancelled (Cancel). A waiting job may be discarded or cancelled;
a discarded or cancelled one may be retried. Nothing leaves completed.

Every change of a job's state in `queue/jobs.py` is checked against `TRANSITIONS`: an illegal
one raises IllegalTransition and writes nothing.
"""

from __future__ import annotations

from lossy_desktop.core.errors import IllegalTransition

AVAILABLE = "available"
SCHEDULED = "scheduled"
EXECUTING = "executing"
RETRYABLE = "retryable"
COMPLETED = "completed"
DISCARDED = "discarded"
CANCELLED = "cancelled"

# Every state, in the order views list them.
JOB_STATES: tuple[str, ...] = (
    AVAILABLE,
    SCHEDULED,
    EXECUTING,
    RETRYABLE,
    COMPLETED,
    DISCARDED,
    CANCELLED,
)
# A new job is available, or scheduled when it is inserted for later.
INITIAL_STATES: tuple[str, ...] = (AVAILABLE, SCHEDULED)
# Waiting to run (when their scheduled_at has come).
WAITING_STATES: tuple[str, ...] = (AVAILABLE, SCHEDULED, RETRYABLE)
# Waiting or running: a job with the same unique_key is refused meanwhile.
ACTIVE_STATES: tuple[str, ...] = (*WAITING_STATES, EXECUTING)
# Done with, one way or another (pruned after prune_after_days).
FINAL_STATES: tuple[str, ...] = (COMPLETED, DISCARDED, CANCELLED)

# THE state machine: from-state -> the states it may change to.
TRANSITIONS: dict[str, frozenset[str]] = {
    # claimed; given up on or cancelled while waiting.
    AVAILABLE: frozenset({EXECUTING, DISCARDED, CANCELLED}),
    # due (staged at every claim) or retried now; given up on or cancelled while waiting.
    SCHEDULED: frozenset({AVAILABLE, DISCARDED, CANCELLED}),
    RETRYABLE: frozenset({AVAILABLE, DISCARDED, CANCELLED}),
    # ok; an error with attempts left; snoozed (0 s: available at once); put back after a
    # crash cut it off (or the runner could not start it); out of attempts or Discard; Cancel.
    EXECUTING: frozenset({COMPLETED, RETRYABLE, SCHEDULED, AVAILABLE, DISCARDED, CANCELLED}),
    COMPLETED: frozenset(),
    # the user retries it.
    DISCARDED: frozenset({AVAILABLE}),
    CANCELLED: frozenset({AVAILABLE}),
}


def allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(job_id: int | None, current: str, target: str) -> None:
    """Raise IllegalTransition unless a job in `current` may become `target`."""
    if not allowed(current, target):
        which = "a job" if job_id is None else f"job {job_id}"
        can = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "nothing (it is final)"
        raise IllegalTransition(f"{which} is {current}; it can't become {target} (only: {can})")


def checked(from_states: tuple[str, ...], target: str) -> tuple[str, ...]:
    """`from_states`, once each may become `target` (else IllegalTransition): what a statement
    that moves many rows at once is built from, so it can't move a job the table forbids."""
    for state in from_states:
        check_transition(None, state, target)
    return from_states

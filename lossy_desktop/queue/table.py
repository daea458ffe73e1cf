"""The jobs table as the queue sees it: a row (`JobRecord`), THE row decoder (`decode`), and
every statement the queue runs on it (SQLAlchemy Core, compiled once and run on the driver by
`queue/sql.py`). `queue/jobs.py` decides what to run; this module is all it says to SQLite.

Bulk statements that change states are built from `states.checked(...)`, so none can move a
job the transition table forbids; a single job changes through `TRANSITION` after
`states.check_transition`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func, insert, or_, select, update

from lossy_desktop.core.models import CronRun, Job
from lossy_desktop.queue.pacing import EVENTS as PACING_EVENTS
from lossy_desktop.queue.sql import Statement, arg, ids_in
from lossy_desktop.queue.states import (
    ACTIVE_STATES,
    AVAILABLE,
    CANCELLED,
    COMPLETED,
    EXECUTING,
    FINAL_STATES,
    RETRYABLE,
    SCHEDULED,
    WAITING_STATES,
    checked,
)

JOBS: Table = Job.__table__  # type: ignore[assignment]
CRON_RUNS: Table = CronRun.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class JobRecord:
    """A snapshot of one jobs row. Safe to hand to other threads (no ORM object inside)."""

    id: int
    queue: str
    worker: str
    args: dict[str, Any]
    meta: dict[str, Any]
    state: str
    attempt: int
    max_attempts: int
    priority: int
    unique_key: str | None
    group_key: str | None
    errors: list[dict[str, Any]]
    inserted_at: float
    scheduled_at: float
    attempted_at: float | None
    completed_at: float | None
    discarded_at: float | None
    cancelled_at: float | None

    @property
    def last_error(self) -> str | None:
        return str(self.errors[-1].get("error")) if self.errors else None

    @property
    def last_error_kind(self) -> str | None:
        kind = self.errors[-1].get("kind") if self.errors else None
        return str(kind) if kind is not None else None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES


_J = JOBS.c
_COLUMNS = tuple(c.name for c in JOBS.c)  # a whole row: select(JOBS), returning(*JOBS.c)
_JSON_COLUMNS: dict[str, Callable[[], Any]] = {"args": dict, "meta": dict, "errors": list}
_JSON_AT = tuple(
    (i, _JSON_COLUMNS[name]) for i, name in enumerate(_COLUMNS) if name in _JSON_COLUMNS
)
assert tuple(f.name for f in dataclasses.fields(JobRecord)) == _COLUMNS, "JobRecord != jobs"


def decode(row: Sequence[Any]) -> JobRecord:
    """THE decoder: a JobRecord from a whole jobs row (columns in table order, JSON as text)."""
    values = list(row)
    for i, empty in _JSON_AT:
        raw = values[i]
        if isinstance(raw, str):
            raw = empty() if raw in ("{}", "[]") else json.loads(raw)
        values[i] = raw or empty()
    return JobRecord(*values)


def dumps(value: Any) -> str:
    return json.dumps(value)  # what SQLAlchemy's JSON type stores


_ORDER = (_J.priority, _J.scheduled_at, _J.id)  # the order jobs run in
_DUE = (_J.queue == arg("queue"), _J.state == AVAILABLE, _J.scheduled_at <= arg("now"))
_IN_QUEUE = or_(arg("queue").is_(None), _J.queue == arg("queue"))  # queue=None: all queues
_CLAIMED = {"state": EXECUTING, "attempt": _J.attempt + 1, "attempted_at": arg("now")}
_due = JOBS.alias("due")

# insert: a duplicate waiting, executing or inserted since `since`; the new row.
DUPLICATE = Statement(
    select(_J.id, _J.state)
    .where(
        _J.unique_key == arg("unique_key"),
        or_(_J.state.in_(ACTIVE_STATES), _J.inserted_at > arg("since")),
    )
    .limit(1)
)
INSERT = Statement(
    insert(JOBS)
    .values(
        {
            **{
                name: arg(name)
                for name in (
                    "queue",
                    "worker",
                    "args",
                    "meta",
                    "state",
                    "max_attempts",
                    "priority",
                    "unique_key",
                    "group_key",
                    "scheduled_at",
                )
            },
            "attempt": 0,
            "errors": "[]",
            "inserted_at": arg("now"),
        }
    )
    .returning(*JOBS.c)
)
# claim: stage due scheduled/retryable jobs; claim `demand` due jobs, or the planned ids.
STAGE = Statement(
    update(JOBS)
    .where(
        _J.queue == arg("queue"),
        _J.state.in_(checked((SCHEDULED, RETRYABLE), AVAILABLE)),
        _J.scheduled_at <= arg("now"),
    )
    .values(state=AVAILABLE)
)
CLAIM = Statement(
    update(JOBS)
    .where(
        _J.id.in_(
            select(_due.c.id)
            .where(
                _due.c.queue == arg("queue"),
                _due.c.state.in_(checked((AVAILABLE,), EXECUTING)),
                _due.c.scheduled_at <= arg("now"),
            )
            .order_by(_due.c.priority, _due.c.scheduled_at, _due.c.id)
            .limit(arg("demand"))
        )
    )
    .values(_CLAIMED)
    .returning(*JOBS.c)
)
CLAIM_IDS = Statement(
    update(JOBS)
    .where(ids_in(_J.id, "ids"), _J.state.in_(checked((AVAILABLE,), EXECUTING)))
    .values(_CLAIMED)
    .returning(*JOBS.c)
)
NEXT_LEADER = Statement(
    select(_J.id, _J.worker, _J.group_key)
    .where(*_DUE, ~ids_in(_J.id, "taken"))
    .order_by(*_ORDER)
    .limit(1)
)
GROUP_MATES = Statement(
    select(_J.id)
    .where(
        *_DUE,
        _J.worker == arg("worker"),
        _J.group_key == arg("group_key"),
        ~ids_in(_J.id, "taken"),
    )
    .order_by(*_ORDER)
    .limit(arg("limit"))
)
# outcomes: completion (the hot one) in one statement; any other change of one job: TRANSITION.
COMPLETE = Statement(
    update(JOBS)
    .where(_J.id == arg("id"), _J.state.in_(checked((EXECUTING,), COMPLETED)))
    .values(state=COMPLETED, completed_at=arg("now"))
    .returning(*JOBS.c)
)
MUTABLE = (
    "state",
    "attempt",
    "scheduled_at",
    "completed_at",
    "discarded_at",
    "cancelled_at",
    "errors",
    "meta",
)
TRANSITION = Statement(
    update(JOBS)
    .where(_J.id == arg("id"), _J.state == arg("from_state"))
    .values({name: arg(name) for name in MUTABLE})
    .returning(*JOBS.c)
)
CANCEL_WAITING = Statement(
    update(JOBS)
    .where(_J.unique_key == arg("unique_key"), _J.state.in_(checked(WAITING_STATES, CANCELLED)))
    .values(state=CANCELLED, cancelled_at=arg("now"))
    .returning(_J.id)
)
OTHER_ACTIVE = Statement(
    select(_J.id)
    .where(_J.unique_key == arg("unique_key"), _J.state.in_(ACTIVE_STATES), _J.id != arg("id"))
    .limit(1)
)
# maintenance
ORPHANS = Statement(select(JOBS).where(_J.state == EXECUTING).order_by(_J.id))
PRUNE_JOBS = Statement(
    delete(JOBS)
    .where(
        _J.state.in_(FINAL_STATES),
        func.coalesce(_J.completed_at, _J.discarded_at, _J.cancelled_at) < arg("cutoff"),
    )
    .returning(_J.id)
)
PRUNE_PACING = Statement(delete(PACING_EVENTS).where(PACING_EVENTS.c.at < arg("before")))
# Cron history older than the cutoff goes, but each entry's latest run stays: it is what tells
# the next start which slot was already run.
_newest = (
    select(CRON_RUNS.c.name, func.max(CRON_RUNS.c.scheduled_for).label("last"))
    .group_by(CRON_RUNS.c.name)
    .subquery()
)
PRUNE_CRON = Statement(
    delete(CRON_RUNS).where(
        CRON_RUNS.c.inserted_at < arg("cutoff"),
        CRON_RUNS.c.id.not_in(
            select(CRON_RUNS.c.id).join(
                _newest,
                (CRON_RUNS.c.name == _newest.c.name)
                & (CRON_RUNS.c.scheduled_for == _newest.c.last),
            )
        ),
    )
)
# reading
GET = Statement(select(JOBS).where(_J.id == arg("id")))
COUNTS = Statement(select(_J.state, func.count()).where(_IN_QUEUE).group_by(_J.state))
COUNTS_BY_QUEUE = Statement(select(_J.queue, _J.state, func.count()).group_by(_J.queue, _J.state))
NEXT_SCHEDULED = Statement(
    select(func.min(_J.scheduled_at)).where(_J.state.in_((SCHEDULED, RETRYABLE)), _IN_QUEUE)
)
NEXT_SCHEDULED_IN = Statement(  # the runner's per-queue question: uses ix_jobs_fetch
    select(func.min(_J.scheduled_at)).where(
        _J.queue == arg("queue"), _J.state.in_((SCHEDULED, RETRYABLE))
    )
)
ACTIVE_COUNT = Statement(
    select(func.count()).where(
        _J.state.in_(ACTIVE_STATES), or_(arg("queues").is_(None), ids_in(_J.queue, "queues"))
    )
)
HAS_DUE = Statement(
    select(_J.id)
    .where(
        _J.queue == arg("queue"),
        _J.state.in_(WAITING_STATES),
        _J.scheduled_at <= arg("now"),
    )
    .limit(1)
)
JOBS_FOR = Statement(select(JOBS).where(_J.unique_key == arg("unique_key")).order_by(_J.id))
LIST = Statement(
    select(JOBS)
    .where(_IN_QUEUE, or_(arg("states").is_(None), ids_in(_J.state, "states")))
    .order_by(_J.id.desc())
    .limit(arg("limit"))
)

"""Durable jobs with Oban's semantics on SQLite.

States: available → executing → completed; executing → retryable (error, backoff) → available;
executing → scheduled (snooze; the attempt is given back); executing → discarded (out of
attempts, or Discard) / cancelled (Cancel). Scheduled and retryable jobs become available when
their `scheduled_at` has come ("staged" at the start of every claim).

Every state change is one short `BEGIN IMMEDIATE` transaction, so several threads or processes
on one database file never claim the same job. Times come from the injected clock.

Insert and transactions: `insert(..., session=s)` writes the job in the caller's transaction
(open it with `db.write()`, so the uniqueness check and the insert are atomic with the note);
insert listeners are then called after that transaction commits (SQLAlchemy's `after_commit`
session event), and never when it rolls back. Without `session=` the insert commits at once and
listeners are called before `insert` returns. Listeners run in the inserting thread: keep them
quick (the runner's only sets an event).
"""

from __future__ import annotations

import json
import logging
import math
import random
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Table,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection

from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.db import Database
from lossy_desktop.core.errors import IllegalTransition, NotFoundError, ValidationError
from lossy_desktop.core.models import JOB_STATES, CronRun, Job
from lossy_desktop.core.settings import Settings
from lossy_desktop.queue.pacing import EVENTS as PACING_EVENTS
from lossy_desktop.queue.pacing import KEEP_S as PACING_KEEP_S
from lossy_desktop.queue.results import Cancel, Discard, Error, Ok, Result, Snooze

log = logging.getLogger("lossy.queue")

JOBS: Table = Job.__table__  # type: ignore[assignment]
CRON_RUNS: Table = CronRun.__table__  # type: ignore[assignment]

WAITING_STATES = ("available", "scheduled", "retryable")
ACTIVE_STATES = (*WAITING_STATES, "executing")
FINAL_STATES = ("completed", "discarded", "cancelled")
RETRY_FROM_STATES = ("discarded", "cancelled", "retryable", "scheduled")

BACKOFF_BASE_S = 30.0
BACKOFF_FACTOR = 3.0
BACKOFF_JITTER = 0.10
_SESSION_PENDING = "lossy_queue_pending_notifications"

InsertListener = Callable[["JobRecord"], None]

# One lock per database file in this process. Writers of one process queue on it and hand over
# in microseconds, instead of meeting in SQLite's busy handler, which sleeps 1, 2, 5, 10 ... ms
# between retries (that made threads of one process crawl under contention). Other processes
# still wait on busy_timeout.
_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(db: Database) -> threading.Lock:
    key = str(db.path.resolve()) if db.path is not None else f"memory:{id(db)}"
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.Lock())


def backoff_seconds(
    attempt: int, rng: random.Random | None = None, base_s: float = BACKOFF_BASE_S
) -> float:
    """base·3^(attempt−1) seconds (30, 90, 270, ... by default) with up to ±10 % jitter.

    `base_s` is the `retry_backoff_base_s` setting."""
    base = base_s * BACKOFF_FACTOR ** (max(attempt, 1) - 1)
    jitter = (rng or random).uniform(-BACKOFF_JITTER, BACKOFF_JITTER)
    return base * (1.0 + jitter)


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


def _record(row: Row[Any]) -> JobRecord:
    m = row._mapping
    return JobRecord(
        id=m["id"],
        queue=m["queue"],
        worker=m["worker"],
        args=dict(m["args"] or {}),
        meta=dict(m["meta"] or {}),
        state=m["state"],
        attempt=m["attempt"],
        max_attempts=m["max_attempts"],
        priority=m["priority"],
        unique_key=m["unique_key"],
        group_key=m["group_key"],
        errors=list(m["errors"] or []),
        inserted_at=m["inserted_at"],
        scheduled_at=m["scheduled_at"],
        attempted_at=m["attempted_at"],
        completed_at=m["completed_at"],
        discarded_at=m["discarded_at"],
        cancelled_at=m["cancelled_at"],
    )


_COLUMNS = tuple(c.name for c in JOBS.c)
_COLUMNS_SQL = ", ".join(_COLUMNS)
_JSON_COLUMNS = ("args", "meta", "errors")


def _record_raw(row: Sequence[Any]) -> JobRecord:
    """A JobRecord from a driver-level row (columns in _COLUMNS order, JSON still text)."""
    values = dict(zip(_COLUMNS, row, strict=True))
    for name in _JSON_COLUMNS:
        if isinstance(values[name], str):
            values[name] = json.loads(values[name])
    return JobRecord(**values)


def _dbapi(s: Session | Connection | PoolProxiedConnection) -> PoolProxiedConnection:
    """The DBAPI connection under a session, a Core connection, or itself."""
    if isinstance(s, Session):
        return s.connection().connection
    if isinstance(s, Connection):
        return s.connection
    return s


def _q(conn: PoolProxiedConnection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run SQL on the connection's DBAPI cursor (no SQLAlchemy result machinery: the claim and
    complete paths run thousands of times a second). Driver errors become SQLAlchemy's, so
    the database's error translation still applies."""
    cursor = conn.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    except sqlite3.Error as error:
        raise sa_exc.OperationalError(sql, params, error) from error
    finally:
        cursor.close()


def _dumps(value: Any) -> str:
    return json.dumps(value)  # what SQLAlchemy's JSON type stores


def _order() -> tuple[Any, ...]:
    return (JOBS.c.priority, JOBS.c.scheduled_at, JOBS.c.id)


@dataclass
class _Pending:
    records: list[JobRecord] = field(default_factory=list)


class JobQueue:
    """The jobs table as a queue. Thread-safe: every method runs its own short transaction."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock = system_clock,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()
        self._listeners: list[InsertListener] = []
        self._listeners_lock = threading.Lock()
        self._write_lock = _file_lock(db)
        # core/db.py's "begin" listener opens BEGIN IMMEDIATE for this execution option.
        self._immediate = db.engine.execution_options(lossy_immediate=True)

    @property
    def db(self) -> Database:
        return self._db

    def backoff_base(self) -> float:
        """The first retry delay (`retry_backoff_base_s`, 30 s by default)."""
        return float(self._settings.get("retry_backoff_base_s"))

    @contextmanager
    def _conn(self) -> Iterator[PoolProxiedConnection]:
        """A BEGIN IMMEDIATE transaction on a pooled DBAPI connection, after this process's
        other queue writers: the hot paths (insert, claim, complete) skip SQLAlchemy's
        session and transaction machinery. Committed on success, rolled back on error."""
        with self._write_lock, self._db.translated_errors():
            conn = self._db.engine.raw_connection()
            try:
                _q(conn, "BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                try:
                    conn.commit()
                except sqlite3.Error as error:
                    conn.rollback()
                    raise sa_exc.OperationalError("COMMIT", (), error) from error
            finally:
                conn.close()  # back to the pool

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A `db.write()` transaction, taken after this process's other queue writers. Never
        call another JobQueue method that writes from inside it (use `session=`)."""
        with self._write_lock, self._db.write() as session:
            yield session

    @property
    def clock(self) -> Clock:
        return self._clock

    # -- listeners --------------------------------------------------------------------------
    def add_insert_listener(self, cb: InsertListener) -> None:
        """`cb(record)` after a job is inserted (or put back by `retry`) and committed."""
        with self._listeners_lock:
            self._listeners.append(cb)

    def remove_insert_listener(self, cb: InsertListener) -> None:
        with self._listeners_lock:
            if cb in self._listeners:
                self._listeners.remove(cb)

    def notify_inserted(self, record: JobRecord) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for cb in listeners:
            try:
                cb(record)
            except Exception:
                log.exception("insert listener failed for job %s", record.id)

    def _notify_after_commit(self, session: Session, record: JobRecord) -> None:
        pending: _Pending | None = session.info.get(_SESSION_PENDING)
        if pending is None:
            pending = _Pending()
            session.info[_SESSION_PENDING] = pending
            holder = pending

            def _committed(_session: Session) -> None:
                records, holder.records = holder.records, []
                for rec in records:
                    self.notify_inserted(rec)

            def _rolled_back(_session: Session) -> None:
                holder.records = []

            event.listen(session, "after_commit", _committed)
            event.listen(session, "after_rollback", _rolled_back)
        pending.records.append(record)

    # -- insert -----------------------------------------------------------------------------
    def insert(
        self,
        worker: str,
        args: dict[str, Any],
        *,
        queue: str = "automation",
        unique_key: str | None = None,
        group_key: str | None = None,
        scheduled_at: float | None = None,
        max_attempts: int | None = None,
        priority: int = 0,
        unique_period: float = 60.0,
        session: Session | None = None,
        meta: dict[str, Any] | None = None,
    ) -> JobRecord | None:
        """Add a job. None when refused as a duplicate of `unique_key` (a job with that key is
        waiting or executing, or was inserted less than `unique_period` seconds ago)."""
        if not isinstance(worker, str) or not worker.strip():
            raise ValidationError("worker", "must be a non-empty name")
        if not isinstance(queue, str) or not queue.strip():
            raise ValidationError("queue", "must be a non-empty name")
        if not isinstance(args, dict):
            raise ValidationError("args", f"must be a dict (got {type(args).__name__})")
        for name, value in (("args", args), ("meta", meta or {})):
            try:
                json.dumps(value)
            except (TypeError, ValueError) as error:
                raise ValidationError(name, f"must be JSON-serialisable ({error})") from None
        if max_attempts is None:
            max_attempts = int(self._settings.get("max_attempts"))
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValidationError("max_attempts", f"must be an integer >= 1 (got {max_attempts!r})")
        if not isinstance(unique_period, int | float) or not unique_period >= 0:
            raise ValidationError("unique_period", f"must be >= 0 (got {unique_period!r})")
        if scheduled_at is not None and not math.isfinite(scheduled_at):
            raise ValidationError("scheduled_at", f"must be a finite time (got {scheduled_at!r})")
        if session is None:
            with self._conn() as own:
                record = self._insert(
                    own, worker, args, queue, unique_key, group_key, scheduled_at,
                    max_attempts, priority, unique_period, meta,
                )  # fmt: skip
            if record is not None:
                self.notify_inserted(record)
            return record
        record = self._insert(
            session, worker, args, queue, unique_key, group_key, scheduled_at,
            max_attempts, priority, unique_period, meta,
        )  # fmt: skip
        if record is not None:
            self._notify_after_commit(session, record)
        return record

    def _insert(
        self,
        s: Session | Connection | PoolProxiedConnection,
        worker: str,
        args: dict[str, Any],
        queue: str,
        unique_key: str | None,
        group_key: str | None,
        scheduled_at: float | None,
        max_attempts: int,
        priority: int,
        unique_period: float,
        meta: dict[str, Any] | None,
    ) -> JobRecord | None:
        conn = _dbapi(s)
        now = self._clock()
        if unique_key is not None:
            found_rows = _q(
                conn,
                "SELECT id, state FROM jobs WHERE unique_key = ? AND (state IN "
                "('available', 'scheduled', 'executing', 'retryable') OR inserted_at > ?) "
                "LIMIT 1",
                (unique_key, now - unique_period if unique_period > 0 else float("inf")),
            )
            if found_rows:
                found = found_rows[0]
                log.debug(
                    "job for %s not inserted: job %s (%s) is a duplicate",
                    unique_key,
                    found[0],
                    found[1],
                )
                return None
        when = now if scheduled_at is None else float(scheduled_at)
        [row] = _q(
            conn,
            "INSERT INTO jobs (queue, worker, args, meta, state, attempt, max_attempts, "
            "priority, unique_key, group_key, errors, inserted_at, scheduled_at) "
            f"VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, '[]', ?, ?) RETURNING {_COLUMNS_SQL}",
            (
                queue,
                worker,
                _dumps(args),
                _dumps(meta or {}),
                "scheduled" if when > now else "available",
                max_attempts,
                priority,
                unique_key,
                group_key,
                now,
                when,
            ),
        )
        record = _record_raw(row)
        log.debug("job %s inserted (%s, %s, %s)", record.id, worker, queue, record.state)
        return record

    # -- claim ------------------------------------------------------------------------------
    def _stage(self, conn: PoolProxiedConnection, queue: str, now: float) -> None:
        _q(
            conn,
            "UPDATE jobs SET state = 'available' WHERE queue = ? "
            "AND state IN ('scheduled', 'retryable') AND scheduled_at <= ?",
            (queue, now),
        )

    def claim(
        self,
        queue: str,
        demand: int,
        *,
        group_limit: int = 1,
        group_limits: Mapping[str, int] | None = None,
    ) -> list[list[JobRecord]]:
        """Atomically move up to `demand` batches of due jobs to `executing`.

        With `group_limit` > 1 (or a per-worker `group_limits` entry > 1) a claimed job brings
        along up to group_limit−1 other due jobs of the same worker and group_key. A batch is
        Returns one list per batch, in run order. (The pace of comments is not the queue's
        business: the post_note worker paces each platform account, queue/pacing.py.)
        """
        if demand <= 0:
            return []
        now = self._clock()
        batched = group_limit > 1 or any(v > 1 for v in (group_limits or {}).values())
        with self._conn() as conn:
            self._stage(conn, queue, now)
            n = demand
            if not batched:
                rows = _q(
                    conn,
                    "UPDATE jobs SET state = 'executing', attempt = attempt + 1, "
                    "attempted_at = ? WHERE id IN (SELECT id FROM jobs WHERE queue = ? AND "
                    "state = 'available' AND scheduled_at <= ? "
                    "ORDER BY priority, scheduled_at, id LIMIT ?) "
                    f"RETURNING {_COLUMNS_SQL}",
                    (now, queue, now, n),
                )
                records = sorted(
                    (_record_raw(r) for r in rows),
                    key=lambda j: (j.priority, j.scheduled_at, j.id),
                )
                batches = [[r] for r in records]
            else:
                plan = self._plan_batches(conn, queue, now, n, group_limit, group_limits or {})
                if not plan:
                    return []
                taken = [i for ids_ in plan for i in ids_]
                marks = ", ".join("?" for _ in taken)
                claimed = _q(
                    conn,
                    "UPDATE jobs SET state = 'executing', attempt = attempt + 1, "
                    f"attempted_at = ? WHERE id IN ({marks}) RETURNING {_COLUMNS_SQL}",
                    (now, *taken),
                )
                by_id = {r.id: r for r in map(_record_raw, claimed)}
                batches = [[by_id[i] for i in ids_] for ids_ in plan]
        if batches:
            log.debug(
                "claimed %d job(s) in %d batch(es) from %s",
                sum(len(b) for b in batches),
                len(batches),
                queue,
            )
        return batches

    def _plan_batches(
        self,
        conn: PoolProxiedConnection,
        queue: str,
        now: float,
        n: int,
        group_limit: int,
        group_limits: Mapping[str, int],
    ) -> list[list[int]]:
        due = "queue = ? AND state = 'available' AND scheduled_at <= ?"
        order = "ORDER BY priority, scheduled_at, id"
        plan: list[list[int]] = []
        taken: list[int] = []
        while len(plan) < n:
            skip = f" AND id NOT IN ({', '.join('?' for _ in taken)})" if taken else ""
            found = _q(
                conn,
                f"SELECT id, worker, group_key FROM jobs WHERE {due}{skip} {order} LIMIT 1",
                (queue, now, *taken),
            )
            if not found:
                break
            leader_id, worker, group_key = found[0]
            ids = [leader_id]
            taken.append(leader_id)
            limit = group_limits.get(worker, group_limit)
            if group_key is not None and limit > 1:
                skip = f" AND id NOT IN ({', '.join('?' for _ in taken)})"
                more = [
                    row[0]
                    for row in _q(
                        conn,
                        f"SELECT id FROM jobs WHERE {due} AND worker = ? AND group_key = ?"
                        f"{skip} {order} LIMIT ?",
                        (queue, now, worker, group_key, *taken, limit - 1),
                    )
                ]
                ids += more
                taken += more
            plan.append(ids)
        return plan

    # -- outcomes ---------------------------------------------------------------------------
    def _change(
        self,
        job_id: int,
        from_states: Sequence[str],
        values: Callable[[JobRecord, float], dict[str, Any]],
        what: str,
    ) -> JobRecord | None:
        now = self._clock()
        with self.write() as s:
            row = s.execute(select(JOBS).where(JOBS.c.id == job_id)).first()
            if row is None:
                raise NotFoundError(f"job {job_id} does not exist")
            current = _record(row)
            if current.state not in from_states:
                log.info("job %s is %s, not %s: %s ignored", job_id, current.state, what, what)
                return None
            new = s.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id)
                .values(**values(current, now))
                .returning(*JOBS.c)
            ).one()
        return _record(new)

    @staticmethod
    def _error_entry(
        job: JobRecord, now: float, message: str, kind: str | None
    ) -> list[dict[str, Any]]:
        return [
            *job.errors,
            {"at": now, "attempt": job.attempt, "error": str(message), "kind": kind},
        ]

    def complete(self, job_id: int) -> JobRecord | None:
        """executing → completed. None (and nothing changes) if the job is not executing."""
        now = self._clock()
        with self._conn() as conn:
            rows = _q(
                conn,
                "UPDATE jobs SET state = 'completed', completed_at = ? "
                f"WHERE id = ? AND state = 'executing' RETURNING {_COLUMNS_SQL}",
                (now, job_id),
            )
            if not rows:
                found = _q(conn, "SELECT state FROM jobs WHERE id = ?", (job_id,))
                if not found:
                    raise NotFoundError(f"job {job_id} does not exist")
                state = found[0][0]
                log.info("job %s is %s, not executing: completion ignored", job_id, state)
                return None
        return _record_raw(rows[0])

    def fail(self, job_id: int, message: str, kind: str | None = None) -> JobRecord | None:
        """executing → retryable after backoff, or discarded when out of attempts."""

        def values(job: JobRecord, now: float) -> dict[str, Any]:
            errors = self._error_entry(job, now, message, kind)
            if job.attempt >= job.max_attempts:
                return {"state": "discarded", "discarded_at": now, "errors": errors}
            return {
                "state": "retryable",
                "scheduled_at": now + backoff_seconds(job.attempt, self._rng, self.backoff_base()),
                "errors": errors,
            }

        record = self._change(job_id, ("executing",), values, "failure")
        if record is not None:
            log.info(
                "job %s failed (attempt %d/%d, %s): %s",
                job_id,
                record.attempt,
                record.max_attempts,
                kind or "error",
                "discarded" if record.state == "discarded" else "will retry",
            )
        return record

    def snooze(self, job_id: int, seconds: float, reason: str = "") -> JobRecord | None:
        """executing → scheduled in `seconds`; the attempt is given back."""
        Snooze(seconds, reason)  # validates

        def values(job: JobRecord, now: float) -> dict[str, Any]:
            meta = dict(job.meta)
            meta["snoozed"] = int(meta.get("snoozed", 0)) + 1
            if reason:
                meta["snooze_reason"] = reason
                per_reason = dict(meta.get("snoozed_for") or {})
                per_reason[reason] = int(per_reason.get(reason, 0)) + 1
                meta["snoozed_for"] = per_reason
            return {
                "state": "scheduled" if seconds > 0 else "available",
                "scheduled_at": now + seconds,
                "attempt": max(job.attempt - 1, 0),
                "meta": meta,
            }

        return self._change(job_id, ("executing",), values, "snooze")

    def discard(self, job_id: int, reason: str, kind: str | None = None) -> JobRecord | None:
        """Give up on a waiting or executing job; it is never retried (unless `retry`)."""

        def values(job: JobRecord, now: float) -> dict[str, Any]:
            return {
                "state": "discarded",
                "discarded_at": now,
                "errors": self._error_entry(job, now, reason, kind),
            }

        return self._change(job_id, ACTIVE_STATES, values, "discard")

    def cancel(self, job_id: int, reason: str) -> JobRecord | None:
        """Cancel a waiting or executing job (a late result of an executing one is ignored)."""

        def values(job: JobRecord, now: float) -> dict[str, Any]:
            return {
                "state": "cancelled",
                "cancelled_at": now,
                "errors": self._error_entry(job, now, reason, "cancelled"),
            }

        return self._change(job_id, ACTIVE_STATES, values, "cancel")

    def apply(self, job_id: int, result: Result) -> JobRecord | None:
        """Record a worker's result for an executing job."""
        if isinstance(result, Ok):
            return self.complete(job_id)
        if isinstance(result, Error):
            return self.fail(job_id, result.message, result.kind)
        if isinstance(result, Snooze):
            return self.snooze(job_id, result.seconds, result.reason)
        if isinstance(result, Discard):
            return self.discard(job_id, result.reason, result.kind)
        if isinstance(result, Cancel):
            return self.cancel(job_id, result.reason)
        return self.fail(job_id, f"worker returned {result!r}, not a Result", "script_failed")

    def cancel_where(self, unique_key: str) -> int:
        """Cancel every waiting job with this unique_key; returns how many."""
        now = self._clock()
        with self.write() as s:
            ids = (
                s.execute(
                    select(JOBS.c.id).where(
                        JOBS.c.unique_key == unique_key, JOBS.c.state.in_(WAITING_STATES)
                    )
                )
                .scalars()
                .all()
            )
            if ids:
                s.execute(
                    update(JOBS)
                    .where(JOBS.c.id.in_(ids))
                    .values(state="cancelled", cancelled_at=now)
                )
        if ids:
            log.info("cancelled %d waiting job(s) for %s", len(ids), unique_key)
        return len(ids)

    def retry(self, job_id: int) -> JobRecord | None:
        """discarded/cancelled (or retryable/scheduled: now) → available with attempts reset.

        Returns None, changing nothing, when another job with the same unique_key is waiting
        or executing. Raises IllegalTransition for an executing, available or completed job.
        """
        now = self._clock()
        with self.write() as s:
            row = s.execute(select(JOBS).where(JOBS.c.id == job_id)).first()
            if row is None:
                raise NotFoundError(f"job {job_id} does not exist")
            job = _record(row)
            if job.state not in RETRY_FROM_STATES:
                raise IllegalTransition(f"job {job_id} is {job.state}: it can't be retried")
            if job.unique_key is not None and job.state in FINAL_STATES:
                other = s.execute(
                    select(JOBS.c.id).where(
                        JOBS.c.unique_key == job.unique_key,
                        JOBS.c.state.in_(ACTIVE_STATES),
                        JOBS.c.id != job_id,
                    )
                ).first()
                if other is not None:
                    log.info("job %s not retried: job %s is active", job_id, other.id)
                    return None
            new = _record(
                s.execute(
                    update(JOBS)
                    .where(JOBS.c.id == job_id)
                    .values(
                        state="available",
                        attempt=0,
                        scheduled_at=now,
                        completed_at=None,
                        discarded_at=None,
                        cancelled_at=None,
                    )
                    .returning(*JOBS.c)
                ).one()
            )
        log.info("job %s put back (was %s)", job_id, job.state)
        self.notify_inserted(new)
        return new

    # -- maintenance ------------------------------------------------------------------------
    def rescue_orphans(self, *, refund_attempts: bool = False, max_rescues: int = 25) -> int:
        """Start-up: jobs still executing were cut off by a crash. Back to available, or
        discarded when their attempt was the last. Only call when no runner is working on
        this database (a desktop app is the only process on it).

        `refund_attempts`: the app being killed is not the job's failure, so the cut-off
        attempt is given back (as a snooze does) and counted in `meta["rescued"]`; a job
        rescued more than `max_rescues` times is discarded (it may be what crashes the app)."""
        now = self._clock()
        message = "the app stopped while this job was running"
        with self.write() as s:
            rows = s.execute(select(JOBS).where(JOBS.c.state == "executing")).all()
            for row in rows:
                job = _record(row)
                errors = self._error_entry(job, now, message, "orphaned")
                if refund_attempts:
                    meta = dict(job.meta)
                    meta["rescued"] = int(meta.get("rescued", 0)) + 1
                    if meta["rescued"] > max_rescues:
                        values: dict[str, Any] = {
                            "state": "discarded",
                            "discarded_at": now,
                            "errors": errors,
                            "meta": meta,
                        }
                    else:
                        values = {
                            "state": "available",
                            "scheduled_at": now,
                            "errors": errors,
                            "attempt": max(job.attempt - 1, 0),
                            "meta": meta,
                        }
                elif job.attempt >= job.max_attempts:
                    values = {"state": "discarded", "discarded_at": now, "errors": errors}
                else:
                    values = {"state": "available", "scheduled_at": now, "errors": errors}
                s.execute(update(JOBS).where(JOBS.c.id == job.id).values(**values))
        if rows:
            log.warning("rescued %d orphaned job(s) after an unclean stop", len(rows))
        return len(rows)

    def prune(self, now: float | None = None) -> int:
        """Delete completed/discarded/cancelled jobs older than prune_after_days. Returns how
        many jobs were deleted. Also trims pacing and cron history."""
        now = self._clock() if now is None else now
        cutoff = now - float(self._settings.get("prune_after_days")) * 86400.0
        finished_at = func.coalesce(JOBS.c.completed_at, JOBS.c.discarded_at, JOBS.c.cancelled_at)
        with self.write() as s:
            result = s.execute(
                delete(JOBS).where(JOBS.c.state.in_(FINAL_STATES), finished_at < cutoff)
            )
            deleted = int(getattr(result, "rowcount", 0) or 0)
            s.execute(delete(PACING_EVENTS).where(PACING_EVENTS.c.at < now - PACING_KEEP_S))
            # Cron history older than the cutoff goes, but each entry's latest run stays: it
            # is what tells the next start which slot was already run.
            newest = (
                select(CRON_RUNS.c.name, func.max(CRON_RUNS.c.scheduled_for).label("last"))
                .group_by(CRON_RUNS.c.name)
                .subquery()
            )
            keep = select(CRON_RUNS.c.id).join(
                newest,
                (CRON_RUNS.c.name == newest.c.name) & (CRON_RUNS.c.scheduled_for == newest.c.last),
            )
            s.execute(
                delete(CRON_RUNS).where(
                    CRON_RUNS.c.inserted_at < cutoff, CRON_RUNS.c.id.not_in(keep)
                )
            )
        if deleted:
            log.info("pruned %d finished job(s)", deleted)
        return deleted

    # -- reading ----------------------------------------------------------------------------
    def counts(self, queue: str | None = None) -> dict[str, int]:
        """Jobs per state (every state present, zeros included)."""
        query = select(JOBS.c.state, func.count()).group_by(JOBS.c.state)
        if queue is not None:
            query = query.where(JOBS.c.queue == queue)
        with self._db.read() as s:
            found = {state: int(n) for state, n in s.execute(query).all()}
        return {state: found.get(state, 0) for state in JOB_STATES}

    def counts_by_queue(self) -> dict[str, dict[str, int]]:
        query = select(JOBS.c.queue, JOBS.c.state, func.count()).group_by(
            JOBS.c.queue, JOBS.c.state
        )
        out: dict[str, dict[str, int]] = {}
        with self._db.read() as s:
            for queue, state, n in s.execute(query).all():
                out.setdefault(queue, dict.fromkeys(JOB_STATES, 0))[state] = int(n)
        return out

    def next_scheduled_at(self, queue: str | None = None) -> float | None:
        """The earliest scheduled_at of a scheduled or retryable job (None: there is none)."""
        query = select(func.min(JOBS.c.scheduled_at)).where(
            JOBS.c.state.in_(("scheduled", "retryable"))
        )
        if queue is not None:
            query = query.where(JOBS.c.queue == queue)
        with self._db.read() as s:
            value = s.execute(query).scalar()
        return None if value is None else float(value)

    def active_count(self, queues: Iterable[str] | None = None) -> int:
        """Jobs available, scheduled, retryable or executing (in these queues)."""
        query = select(func.count()).where(JOBS.c.state.in_(ACTIVE_STATES))
        if queues is not None:
            query = query.where(JOBS.c.queue.in_(list(queues)))
        with self._db.read() as s:
            return int(s.execute(query).scalar_one())

    def has_due(self, queue: str) -> bool:
        """Is a job of this queue ready to run now?"""
        now = self._clock()
        with self._db.read() as s:
            found = s.execute(
                select(JOBS.c.id)
                .where(
                    JOBS.c.queue == queue,
                    JOBS.c.state.in_(WAITING_STATES),
                    JOBS.c.scheduled_at <= now,
                )
                .limit(1)
            ).first()
        return found is not None

    def get(self, job_id: int) -> JobRecord | None:
        with self._db.read() as s:
            row = s.execute(select(JOBS).where(JOBS.c.id == job_id)).first()
        return None if row is None else _record(row)

    def jobs_for(self, unique_key: str) -> list[JobRecord]:
        """Every job (any state) with this unique_key, oldest first."""
        with self._db.read() as s:
            rows = s.execute(
                select(JOBS).where(JOBS.c.unique_key == unique_key).order_by(JOBS.c.id)
            ).all()
        return [_record(r) for r in rows]

    def list_jobs(
        self,
        *,
        queue: str | None = None,
        states: Iterable[str] | None = None,
        limit: int = 200,
    ) -> list[JobRecord]:
        """Most recent jobs first (for views and support)."""
        query = select(JOBS).order_by(JOBS.c.id.desc()).limit(limit)
        if queue is not None:
            query = query.where(JOBS.c.queue == queue)
        if states is not None:
            query = query.where(JOBS.c.state.in_(list(states)))
        with self._db.read() as s:
            return [_record(r) for r in s.execute(query).all()]

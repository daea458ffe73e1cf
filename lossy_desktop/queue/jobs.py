"""Durable jobs with Oban's semantics on SQLite.

A job's states and the changes allowed between them are in `queue/states.py` (THE table): every
change here is checked against it, and an illegal one raises IllegalTransition and writes
nothing. Scheduled and retryable jobs become available when their `scheduled_at` has come
("staged" at the start of every claim). A worker's result for a job that is no longer executing
(cancelled meanwhile, say) is ignored: `complete`, `fail`, `snooze` return None.

Every state change is one short `BEGIN IMMEDIATE` transaction, so several threads or processes
on one database file never claim the same job. Times come from the injected clock. The
database is reached one way: the statements of `queue/table.py` (SQLAlchemy Core, compiled
once) run on the driver through `queue/sql.py`, and every jobs row read becomes a JobRecord
through `table.decode`.

Insert and transactions: `insert(..., session=s)` writes the job in the caller's transaction
(open it with `db.write()`, so the uniqueness check and the insert are atomic with the note);
insert listeners are then called after that transaction commits (SQLAlchemy's `after_commit`
session event), and never when it rolls back. Without `session=` the insert commits at once and
listeners are called before `insert` returns. Listeners run in the inserting thread: keep them
quick (the runner's only sets an event).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection

from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.db import Database
from lossy_desktop.core.errors import IllegalTransition, NotFoundError, ValidationError
from lossy_desktop.core.settings import Settings
from lossy_desktop.queue import table
from lossy_desktop.queue.pacing import KEEP_S as PACING_KEEP_S
from lossy_desktop.queue.results import Cancel, Discard, Error, Ok, Result, Snooze
from lossy_desktop.queue.sql import (
    Statement,
    reading,
    run,
    session_connection,
    write_transaction,
    writer_lock,
)
from lossy_desktop.queue.states import (
    ACTIVE_STATES,
    AVAILABLE,
    CANCELLED,
    DISCARDED,
    EXECUTING,
    FINAL_STATES,
    INITIAL_STATES,
    JOB_STATES,
    RETRYABLE,
    SCHEDULED,
    WAITING_STATES,
    check_transition,
)
from lossy_desktop.queue.table import CRON_RUNS, JOBS, JobRecord

log = logging.getLogger("lossy.queue")

BACKOFF_BASE_S = 30.0
BACKOFF_FACTOR = 3.0
BACKOFF_JITTER = 0.10
_SESSION_PENDING = "lossy_queue_pending_notifications"

InsertListener = Callable[[JobRecord], None]

__all__ = [
    "ACTIVE_STATES",
    "CRON_RUNS",
    "FINAL_STATES",
    "JOBS",
    "JOB_STATES",
    "WAITING_STATES",
    "InsertListener",
    "JobQueue",
    "JobRecord",
    "backoff_seconds",
]


def backoff_seconds(
    attempt: int, rng: random.Random | None = None, base_s: float = BACKOFF_BASE_S
) -> float:
    """base·3^(attempt−1) seconds (30, 90, 270, ... by default) with up to ±10 % jitter.

    `base_s` is the `retry_backoff_base_s` setting."""
    base = base_s * BACKOFF_FACTOR ** (max(attempt, 1) - 1)
    jitter = (rng or random).uniform(-BACKOFF_JITTER, BACKOFF_JITTER)
    return base * (1.0 + jitter)


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
        self._write_lock = writer_lock(db)

    @property
    def db(self) -> Database:
        return self._db

    def backoff_base(self) -> float:
        """The first retry delay (`retry_backoff_base_s`, 30 s by default)."""
        return float(self._settings.get("retry_backoff_base_s"))

    def _conn(self) -> AbstractContextManager[PoolProxiedConnection]:
        """One BEGIN IMMEDIATE transaction, after this process's other queue writers."""
        return write_transaction(self._db, self._write_lock)

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
        encoded: dict[str, str] = {}
        for name, value in (("args", args), ("meta", meta or {})):
            try:
                encoded[name] = table.dumps(value)
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
        values = {
            "queue": queue,
            "worker": worker,
            "unique_key": unique_key,
            "group_key": group_key,
            "max_attempts": max_attempts,
            "priority": priority,
            **encoded,
        }
        if session is None:
            with self._conn() as own:
                record = self._insert(own, values, scheduled_at, unique_period)
            if record is not None:
                self.notify_inserted(record)
            return record
        record = self._insert(session_connection(session), values, scheduled_at, unique_period)
        if record is not None:
            self._notify_after_commit(session, record)
        return record

    def _insert(
        self,
        conn: PoolProxiedConnection,
        values: dict[str, Any],
        scheduled_at: float | None,
        unique_period: float,
    ) -> JobRecord | None:
        now = self._clock()
        unique_key = values["unique_key"]
        if unique_key is not None:
            since = now - unique_period if unique_period > 0 else math.inf
            found = run(conn, table.DUPLICATE, unique_key=unique_key, since=since)
            if found:
                log.debug(
                    "job for %s not inserted: job %s (%s) is a duplicate",
                    unique_key,
                    found[0][0],
                    found[0][1],
                )
                return None
        when = now if scheduled_at is None else float(scheduled_at)
        state = SCHEDULED if when > now else AVAILABLE
        assert state in INITIAL_STATES
        [row] = run(conn, table.INSERT, **values, state=state, now=now, scheduled_at=when)
        record = table.decode(row)
        log.debug("job %s inserted (%s, %s, %s)", record.id, record.worker, record.queue, state)
        return record

    # -- claim ------------------------------------------------------------------------------
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
            run(conn, table.STAGE, queue=queue, now=now)
            if not batched:
                rows = run(conn, table.CLAIM, queue=queue, now=now, demand=demand)
                records = sorted(
                    map(table.decode, rows), key=lambda j: (j.priority, j.scheduled_at, j.id)
                )
                batches = [[r] for r in records]
            else:
                plan = self._plan_batches(conn, queue, now, demand, group_limit, group_limits or {})
                if not plan:
                    return []
                taken = [i for ids_ in plan for i in ids_]
                claimed = run(conn, table.CLAIM_IDS, ids=table.dumps(taken), now=now)
                by_id = {r.id: r for r in map(table.decode, claimed)}
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
        plan: list[list[int]] = []
        taken: list[int] = []
        while len(plan) < n:
            found = run(conn, table.NEXT_LEADER, queue=queue, now=now, taken=table.dumps(taken))
            if not found:
                break
            leader_id, worker, group_key = found[0]
            ids = [leader_id]
            taken.append(leader_id)
            limit = group_limits.get(worker, group_limit)
            if group_key is not None and limit > 1:
                more = [
                    row[0]
                    for row in run(
                        conn,
                        table.GROUP_MATES,
                        queue=queue,
                        now=now,
                        worker=worker,
                        group_key=group_key,
                        taken=table.dumps(taken),
                        limit=limit - 1,
                    )
                ]
                ids += more
                taken += more
            plan.append(ids)
        return plan

    # -- outcomes ---------------------------------------------------------------------------
    @staticmethod
    def _get(conn: PoolProxiedConnection, job_id: int) -> JobRecord:
        rows = run(conn, table.GET, id=job_id)
        if not rows:
            raise NotFoundError(f"job {job_id} does not exist")
        return table.decode(rows[0])

    @staticmethod
    def _transition(
        conn: PoolProxiedConnection, job: JobRecord, target: str, **changes: Any
    ) -> JobRecord:
        """THE way one job changes state (besides the bulk statements of queue/table.py, built
        from the same table): checked against TRANSITIONS, written only if the row is still
        in the state it was read in."""
        check_transition(job.id, job.state, target)
        new = dataclasses.replace(job, state=target, **changes)
        values = {name: getattr(new, name) for name in table.MUTABLE}
        values["errors"], values["meta"] = table.dumps(new.errors), table.dumps(new.meta)
        rows = run(conn, table.TRANSITION, id=job.id, from_state=job.state, **values)
        if not rows:  # (impossible: the row was read in this BEGIN IMMEDIATE transaction)
            raise IllegalTransition(f"job {job.id} changed while it was becoming {target}")
        return table.decode(rows[0])

    def _change(
        self,
        job_id: int,
        acts_on: Sequence[str],
        what: str,
        change: Callable[[JobRecord, float], tuple[str, dict[str, Any]]],
    ) -> JobRecord | None:
        """Apply `change(job, now)` -> (target state, other columns) to a job in `acts_on`;
        None (nothing written) for a job in another state: a late or stale request."""
        now = self._clock()
        with self._conn() as conn:
            job = self._get(conn, job_id)
            if job.state not in acts_on:
                log.info("job %s is %s: %s ignored", job_id, job.state, what)
                return None
            target, changes = change(job, now)
            return self._transition(conn, job, target, **changes)

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
            rows = run(conn, table.COMPLETE, id=job_id, now=now)
            if not rows:
                state = self._get(conn, job_id).state
                log.info("job %s is %s, not executing: completion ignored", job_id, state)
                return None
        return table.decode(rows[0])

    def fail(self, job_id: int, message: str, kind: str | None = None) -> JobRecord | None:
        """executing → retryable after backoff, or discarded when out of attempts."""

        def change(job: JobRecord, now: float) -> tuple[str, dict[str, Any]]:
            errors = self._error_entry(job, now, message, kind)
            if job.attempt >= job.max_attempts:
                return DISCARDED, {"discarded_at": now, "errors": errors}
            delay = backoff_seconds(job.attempt, self._rng, self.backoff_base())
            return RETRYABLE, {"scheduled_at": now + delay, "errors": errors}

        record = self._change(job_id, (EXECUTING,), "failure", change)
        if record is not None:
            log.info(
                "job %s failed (attempt %d/%d, %s): %s",
                job_id,
                record.attempt,
                record.max_attempts,
                kind or "error",
                "discarded" if record.state == DISCARDED else "will retry",
            )
        return record

    def snooze(self, job_id: int, seconds: float, reason: str = "") -> JobRecord | None:
        """executing → scheduled in `seconds`; the attempt is given back."""
        Snooze(seconds, reason)  # validates

        def change(job: JobRecord, now: float) -> tuple[str, dict[str, Any]]:
            meta = dict(job.meta)
            meta["snoozed"] = int(meta.get("snoozed", 0)) + 1
            if reason:
                meta["snooze_reason"] = reason
                per_reason = dict(meta.get("snoozed_for") or {})
                per_reason[reason] = int(per_reason.get(reason, 0)) + 1
                meta["snoozed_for"] = per_reason
            return SCHEDULED if seconds > 0 else AVAILABLE, {
                "scheduled_at": now + seconds,
                "attempt": max(job.attempt - 1, 0),
                "meta": meta,
            }

        return self._change(job_id, (EXECUTING,), "snooze", change)

    def discard(self, job_id: int, reason: str, kind: str | None = None) -> JobRecord | None:
        """Give up on a waiting or executing job; it is never retried (unless `retry`)."""

        def change(job: JobRecord, now: float) -> tuple[str, dict[str, Any]]:
            errors = self._error_entry(job, now, reason, kind)
            return DISCARDED, {"discarded_at": now, "errors": errors}

        return self._change(job_id, ACTIVE_STATES, "discard", change)

    def cancel(self, job_id: int, reason: str) -> JobRecord | None:
        """Cancel a waiting or executing job (a late result of an executing one is ignored)."""

        def change(job: JobRecord, now: float) -> tuple[str, dict[str, Any]]:
            errors = self._error_entry(job, now, reason, "cancelled")
            return CANCELLED, {"cancelled_at": now, "errors": errors}

        return self._change(job_id, ACTIVE_STATES, "cancel", change)

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
        with self._conn() as conn:
            ids = run(conn, table.CANCEL_WAITING, unique_key=unique_key, now=now)
        if ids:
            log.info("cancelled %d waiting job(s) for %s", len(ids), unique_key)
        return len(ids)

    def retry(self, job_id: int) -> JobRecord | None:
        """discarded/cancelled (or retryable/scheduled: now) → available with attempts reset.

        Returns None, changing nothing, when another job with the same unique_key is waiting
        or executing. Raises IllegalTransition for an executing, available or completed job.
        """
        now = self._clock()
        with self._conn() as conn:
            job = self._get(conn, job_id)
            if job.state == EXECUTING:  # the table lets a crash's orphan go back, not a retry
                raise IllegalTransition(f"job {job_id} is executing: it can't be retried")
            check_transition(job_id, job.state, AVAILABLE)
            if job.unique_key is not None and job.state in FINAL_STATES:
                other = run(conn, table.OTHER_ACTIVE, unique_key=job.unique_key, id=job_id)
                if other:
                    log.info("job %s not retried: job %s is active", job_id, other[0][0])
                    return None
            new = self._transition(
                conn,
                job,
                AVAILABLE,
                attempt=0,
                scheduled_at=now,
                completed_at=None,
                discarded_at=None,
                cancelled_at=None,
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
        with self._conn() as conn:
            orphans = [table.decode(row) for row in run(conn, table.ORPHANS)]
            for job in orphans:
                errors = self._error_entry(job, now, message, "orphaned")
                if refund_attempts:
                    meta = dict(job.meta)
                    meta["rescued"] = int(meta.get("rescued", 0)) + 1
                    if meta["rescued"] > max_rescues:
                        self._transition(
                            conn, job, DISCARDED, discarded_at=now, errors=errors, meta=meta
                        )
                    else:
                        self._transition(
                            conn,
                            job,
                            AVAILABLE,
                            scheduled_at=now,
                            errors=errors,
                            attempt=max(job.attempt - 1, 0),
                            meta=meta,
                        )
                elif job.attempt >= job.max_attempts:
                    self._transition(conn, job, DISCARDED, discarded_at=now, errors=errors)
                else:
                    self._transition(conn, job, AVAILABLE, scheduled_at=now, errors=errors)
        if orphans:
            log.warning("rescued %d orphaned job(s) after an unclean stop", len(orphans))
        return len(orphans)

    def prune(self, now: float | None = None) -> int:
        """Delete completed/discarded/cancelled jobs older than prune_after_days. Returns how
        many jobs were deleted. Also trims pacing and cron history."""
        now = self._clock() if now is None else now
        cutoff = now - float(self._settings.get("prune_after_days")) * 86400.0
        with self._conn() as conn:
            deleted = len(run(conn, table.PRUNE_JOBS, cutoff=cutoff))
            run(conn, table.PRUNE_PACING, before=now - PACING_KEEP_S)
            run(conn, table.PRUNE_CRON, cutoff=cutoff)
        if deleted:
            log.info("pruned %d finished job(s)", deleted)
        return deleted

    # -- reading ----------------------------------------------------------------------------
    def _read(self, statement: Statement, **given: Any) -> list[Any]:
        with reading(self._db) as conn:
            return run(conn, statement, **given)

    def counts(self, queue: str | None = None) -> dict[str, int]:
        """Jobs per state (every state present, zeros included)."""
        found = {state: int(n) for state, n in self._read(table.COUNTS, queue=queue)}
        return {state: found.get(state, 0) for state in JOB_STATES}

    def counts_by_queue(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for queue, state, n in self._read(table.COUNTS_BY_QUEUE):
            out.setdefault(queue, dict.fromkeys(JOB_STATES, 0))[state] = int(n)
        return out

    def next_scheduled_at(self, queue: str | None = None) -> float | None:
        """The earliest scheduled_at of a scheduled or retryable job (None: there is none)."""
        if queue is None:
            [(value,)] = self._read(table.NEXT_SCHEDULED, queue=None)
        else:
            [(value,)] = self._read(table.NEXT_SCHEDULED_IN, queue=queue)
        return None if value is None else float(value)

    def active_count(self, queues: Iterable[str] | None = None) -> int:
        """Jobs available, scheduled, retryable or executing (in these queues)."""
        names = None if queues is None else table.dumps(list(queues))
        [(n,)] = self._read(table.ACTIVE_COUNT, queues=names)
        return int(n)

    def has_due(self, queue: str) -> bool:
        """Is a job of this queue ready to run now?"""
        return bool(self._read(table.HAS_DUE, queue=queue, now=self._clock()))

    def get(self, job_id: int) -> JobRecord | None:
        rows = self._read(table.GET, id=job_id)
        return table.decode(rows[0]) if rows else None

    def jobs_for(self, unique_key: str) -> list[JobRecord]:
        """Every job (any state) with this unique_key, oldest first."""
        return [table.decode(r) for r in self._read(table.JOBS_FOR, unique_key=unique_key)]

    def list_jobs(
        self,
        *,
        queue: str | None = None,
        states: Iterable[str] | None = None,
        limit: int = 200,
    ) -> list[JobRecord]:
        """Most recent jobs first (for views and support)."""
        wanted = None if states is None else table.dumps(list(states))
        rows = self._read(table.LIST, queue=queue, states=wanted, limit=limit)
        return [table.decode(r) for r in rows]

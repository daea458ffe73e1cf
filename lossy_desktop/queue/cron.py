"""Cron entries for the queue, without catch-up storms but without losing a missed run.

Each entry names a cron expression (or a settings key holding one, e.g. "keepalive_cron"), a
worker, its args and queue. `due(now)` looks at the entry's latest slot at or before `now`
(local time unless a `tz` is given): when that slot is newer than the last one recorded in
`cron_runs`, the entry's job is inserted ONCE, however many slots were missed (the laptop was
closed at 03:00 for a week: one keep-alive at the next start), and the slot is recorded in the
same transaction, so a slot never fires twice, even from two processes.

The first time an entry is ever seen, its latest slot is only recorded (a fresh install does
not run yesterday's 03:00 job); pass `run_missed_on_first_sight=True` to run it instead.
While an entry's previous job is still waiting or running, no second one is inserted (the slot
is still recorded).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from croniter import croniter
from sqlalchemy import func, insert, select

from lossy_desktop.core.clock import Clock
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.settings import SPECS, Settings
from lossy_desktop.queue.jobs import JobQueue, JobRecord
from lossy_desktop.queue.table import CRON_RUNS

log = logging.getLogger("lossy.queue")


@dataclass(frozen=True)
class CronEntry:
    name: str
    expression: str  # a 5-field cron expression, or the key of a setting holding one
    worker: str
    args: dict[str, Any] = field(default_factory=dict)
    queue: str = "maintenance"
    max_attempts: int | None = None


class CronSchedule:
    def __init__(
        self,
        queue: JobQueue,
        settings: Settings,
        entries: Sequence[CronEntry] = (),
        *,
        clock: Clock | None = None,
        tz: tzinfo | None = None,
        run_missed_on_first_sight: bool = False,
    ) -> None:
        self._queue = queue
        self._settings = settings
        self._clock = clock or queue.clock
        self._tz = tz
        self._first_sight_runs = run_missed_on_first_sight
        self._entries: list[CronEntry] = []
        for entry in entries:
            self.add(entry)

    @property
    def entries(self) -> list[CronEntry]:
        return list(self._entries)

    def add(self, entry: CronEntry) -> None:
        if any(e.name == entry.name for e in self._entries):
            raise ValidationError("cron", f"an entry named {entry.name!r} exists already")
        if entry.expression not in SPECS and not croniter.is_valid(entry.expression):
            raise ValidationError(
                entry.name, f"{entry.expression!r} is not a cron expression or a setting"
            )
        self._entries.append(entry)

    def expression(self, entry: CronEntry) -> str:
        if entry.expression in SPECS:
            return str(self._settings.get(entry.expression))
        return entry.expression

    # -- slot arithmetic (local wall-clock time, DST handled by the C library) ---------------
    def _start(self, now: float) -> datetime:
        if self._tz is None:
            return datetime.fromtimestamp(now)
        return datetime.fromtimestamp(now, self._tz)

    def _epoch(self, moment: datetime) -> float:
        if moment.tzinfo is None:
            return time.mktime(moment.timetuple())
        return moment.timestamp()

    def last_slot(self, expression: str, now: float) -> float:
        """The latest time at or before `now` that the expression names."""
        start = self._start(now) + timedelta(microseconds=1)
        return self._epoch(croniter(expression, start).get_prev(datetime))

    def next_slot(self, expression: str, now: float) -> float:
        """The first time strictly after `now` that the expression names."""
        return self._epoch(croniter(expression, self._start(now)).get_next(datetime))

    def _valid_expression(self, entry: CronEntry) -> str | None:
        expression = self.expression(entry)
        if not croniter.is_valid(expression):
            log.warning(
                "cron %s: %r is not a valid cron expression; skipped", entry.name, expression
            )
            return None
        return expression

    def next_due_at(self, now: float | None = None) -> float | None:
        """When the next entry's slot comes (None: no entries)."""
        now = self._clock() if now is None else now
        times = [
            self.next_slot(expression, now)
            for entry in self._entries
            if (expression := self._valid_expression(entry)) is not None
        ]
        return min(times) if times else None

    def due(self, now: float | None = None) -> list[JobRecord]:
        """Insert the job of each entry whose latest slot has not been run. Returns them."""
        now = self._clock() if now is None else now
        inserted: list[JobRecord] = []
        for entry in self._entries:
            expression = self._valid_expression(entry)
            if expression is None:
                continue
            slot = self.last_slot(expression, now)
            with self._queue.write() as s:
                last = s.execute(
                    select(func.max(CRON_RUNS.c.scheduled_for)).where(
                        CRON_RUNS.c.name == entry.name
                    )
                ).scalar()
                if last is not None and last >= slot:
                    continue
                job: JobRecord | None = None
                if last is None and not self._first_sight_runs:
                    log.info("cron %s: first seen; next run after %s", entry.name, expression)
                else:
                    job = self._queue.insert(
                        entry.worker,
                        dict(entry.args),
                        queue=entry.queue,
                        unique_key=f"cron:{entry.name}",
                        unique_period=0,
                        max_attempts=entry.max_attempts,
                        meta={"cron": entry.name, "scheduled_for": slot},
                        session=s,
                    )
                    if job is None:
                        log.info("cron %s: previous job still waiting; slot skipped", entry.name)
                    else:
                        missed = "" if now - slot < 60 else " (missed while closed: run now)"
                        log.info("cron %s: job %s inserted%s", entry.name, job.id, missed)
                s.execute(
                    insert(CRON_RUNS).values(
                        name=entry.name,
                        scheduled_for=slot,
                        inserted_at=now,
                        job_id=job.id if job is not None else None,
                    )
                )
            if job is not None:
                inserted.append(job)
        return inserted

"""Pacing per platform account: post like a careful person, durably.

A burst of comments from one account gets held for review or hidden as spam, so each account
(one platform connection: its platform's name is the key) obeys two rules, both kept in the
database (`pacing_events`) so neither a new batch nor a restart allows a burst:

- at most `automation_rate_allowed` comments in any `automation_rate_period_s` (a sliding
  window; 10 per 60 s by default);
- at least `comment_interval_s` between two comments (6 s by default, 0 for none), plus a
  random jitter of up to 50 % of it, drawn once per comment and stored with it.

A platform's own "slow down" notice pauses the account until a given time (`pause`).

The worker asks `try_acquire(account)` right before it types a comment: granted, the comment is
recorded at once (so two threads or processes never both get the slot); refused, the answer says
when the slot comes. `confirm` moves the comment's time to when it was seen on the page, so the
gap is measured from the platform's side. `wait_until` waits with the injected sleep (a
FakeClock's in tests: no real seconds pass) and gives up when asked to stop.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from lossy_desktop.core.clock import Clock, Sleep, sleep_for, system_clock
from lossy_desktop.core.db import Database
from lossy_desktop.core.models import PacingEvent
from lossy_desktop.core.settings import Settings

log = logging.getLogger("lossy.queue")

EVENTS: Table = PacingEvent.__table__  # type: ignore[assignment]

COMMENT = "comment"
PAUSE = "pause"
PACED = "paced"  # the snooze reason of a job that waits for its account's next comment
STEP_WAITING = "waiting"  # a job's step while it waits for the slot (its event says until when)
MAX_JITTER = 0.5  # of comment_interval_s
# Pacing history is kept this long (the longest allowed automation_rate_period_s); the
# queue's pruner (JobQueue.prune) trims it.
KEEP_S = 86400.0
WAIT_STEP_S = 0.25  # how often a wait looks at its stop flag


@dataclass(frozen=True)
class RateWindow:
    """An account's sliding comment window at one moment."""

    used: int
    allowed: int
    period_s: float
    reopens_at: float | None  # when one more comment is allowed (None: there is room now)

    @property
    def room(self) -> int:
        return max(self.allowed - self.used, 0)


@dataclass(frozen=True)
class PaceState:
    """When an account may post its next comment, and why not before."""

    account: str
    now: float
    next_at: float  # the earliest time of the next comment (== now when it may go now)
    reason: str | None  # "interval", "window", "paused"; None when it may go now
    window: RateWindow
    last_comment_at: float | None

    @property
    def wait_s(self) -> float:
        return max(self.next_at - self.now, 0.0)

    @property
    def free(self) -> bool:
        return self.reason is None


class CommentPacer:
    """The pacing rules of every platform account over the `pacing_events` table."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock = system_clock,
        *,
        rng: random.Random | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self.rng = rng or random.Random()
        self._sleep = sleep or sleep_for(clock)

    @property
    def clock(self) -> Clock:
        return self._clock

    def interval_s(self) -> float:
        return self._settings.get("comment_interval_s")

    def limits(self) -> tuple[int, float]:
        return (
            self._settings.get("automation_rate_allowed"),
            float(self._settings.get("automation_rate_period_s")),
        )

    # -- reading ----------------------------------------------------------------------------
    def state(self, account: str) -> PaceState:
        """The account's pacing now."""
        with self._db.read() as s:
            return self._state(s, account, self._clock())

    def accounts(self) -> list[str]:
        """Accounts with pacing history (for status views)."""
        with self._db.read() as s:
            return sorted(s.execute(select(EVENTS.c.account).distinct()).scalars())

    def _state(self, s: Session, account: str, now: float) -> PaceState:
        allowed, period = self.limits()
        window = _window(s, account, now, allowed, period)
        candidates: list[tuple[float, str]] = []
        last = s.execute(
            select(EVENTS.c.at, EVENTS.c.jitter)
            .where(EVENTS.c.account == account, EVENTS.c.kind == COMMENT)
            .order_by(EVENTS.c.at.desc())
            .limit(1)
        ).first()
        last_at = None if last is None else float(last.at)
        if last is not None:
            interval = self.interval_s()
            if interval > 0:
                candidates.append(
                    (float(last.at) + interval * (1.0 + float(last.jitter)), "interval")
                )
        if window.reopens_at is not None:
            candidates.append((window.reopens_at, "window"))
        paused = s.execute(
            select(func.max(EVENTS.c.at)).where(EVENTS.c.account == account, EVENTS.c.kind == PAUSE)
        ).scalar()
        if paused is not None:
            candidates.append((float(paused), "paused"))
        due = [c for c in candidates if c[0] > now]
        if not due:
            return PaceState(account, now, now, None, window, last_at)
        when, reason = max(due)
        return PaceState(account, now, when, reason, window, last_at)

    # -- writing ----------------------------------------------------------------------------
    def try_acquire(self, account: str) -> tuple[int | None, PaceState]:
        """Take the account's comment slot now if it is free: (the recorded comment's id, the
        state before). Refused: (None, the state saying when the slot comes)."""
        now = self._clock()
        with self._db.write() as s:
            state = self._state(s, account, now)
            if not state.free:
                return None, state
            jitter = self.rng.uniform(0.0, MAX_JITTER)
            event_id = int(
                s.execute(
                    EVENTS.insert()
                    .values(account=account, kind=COMMENT, at=now, jitter=jitter)
                    .returning(EVENTS.c.id)
                ).scalar_one()
            )
        log.debug("%s: comment slot taken (jitter %.0f %%)", account, jitter * 100)
        return event_id, state

    def confirm(self, event_id: int) -> None:
        """The comment was seen on the page: its time is now (the next gap counts from here)."""
        now = self._clock()
        with self._db.write() as s:
            s.execute(
                update(EVENTS).where(EVENTS.c.id == event_id, EVENTS.c.at < now).values(at=now)
            )

    def pause(self, account: str, until: float) -> None:
        """The platform asked the account to slow down: no comment before `until`."""
        with self._db.write() as s:
            paused = s.execute(
                select(func.max(EVENTS.c.at)).where(
                    EVENTS.c.account == account, EVENTS.c.kind == PAUSE
                )
            ).scalar()
            if paused is not None and float(paused) >= until:
                return
            s.execute(EVENTS.insert().values(account=account, kind=PAUSE, at=until, jitter=0.0))
        log.info(
            "%s: no comment for %.0f s (the platform asked to slow down)",
            account,
            until - self._clock(),
        )

    # -- waiting ----------------------------------------------------------------------------
    def wait_until(self, when: float, stopping: Callable[[], bool] = lambda: False) -> bool:
        """Wait until `when` (the injected sleep, in short steps). False when `stopping()`
        became true first."""
        while True:
            remaining = when - self._clock()
            if remaining <= 0:
                return True
            if stopping():
                return False
            self._sleep(min(remaining, WAIT_STEP_S))


def _window(s: Session, account: str, now: float, allowed: int, period: float) -> RateWindow:
    since = now - period
    mine = (EVENTS.c.account == account) & (EVENTS.c.kind == COMMENT) & (EVENTS.c.at > since)
    used = int(s.execute(select(func.count()).where(mine)).scalar_one())
    reopens: float | None = None
    if used >= allowed:
        # A comment is free again when the (used - allowed + 1)-th oldest one leaves the window.
        nth = s.execute(
            select(EVENTS.c.at).where(mine).order_by(EVENTS.c.at).offset(used - allowed).limit(1)
        ).scalar_one()
        reopens = float(nth) + period
    return RateWindow(used, allowed, period, reopens)


def pacing_wait(event: Any) -> float | None:
    """When a job event (queue.runner.JobEvent) is a wait for its account's next comment
    slot — a "waiting" step, or a snooze to the slot — the time of the slot; else None."""
    if event.next_run_at is None:
        return None
    waiting = event.kind == "step" and event.step == STEP_WAITING
    if waiting or (event.kind == "snoozed" and event.error == PACED):
        return float(event.next_run_at)
    return None

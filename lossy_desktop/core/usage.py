"""Browser usage: how long each browser session lived, what Browserbase bills for it, and the
month's totals with an estimated cost.

The automation layer never touches the database: a provider's `close()` returns a
`UsageRecord`, and the workers (or the CLI) hand it to `UsageService.record()`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.db import Database
from lossy_desktop.core.models import BrowserUsage
from lossy_desktop.core.settings import Settings


@dataclass(frozen=True)
class BrowserbasePlan:
    """What a Browserbase plan allows and includes."""

    name: str  # "Free", "Developer", ...
    max_session_s: int  # the longest a session may live
    keep_alive: bool  # keepAlive sessions allowed
    included_hours: float  # browser hours included each month
    concurrent: int  # browsers at once


# From browserbase.com/pricing and docs.browserbase.com/guides/plans-and-pricing (read 2026):
# Free $0: 3 concurrent browsers, 1 browser hour, 15 minutes per session; Developer $20/mo:
# 25 concurrent, 100 browser hours; Startup $99/mo: 100 concurrent, 500 browser hours; Scale
# (custom): 250+ concurrent, 500+ browser hours (a contract may include more: 500 is its floor).
# The 6-hour session maximum of paid plans and keepAlive refused on Free are from the API
# reference (DESIGN.md "Browserbase"). The overage price per browser hour could not be confirmed
# from the docs we could read: it is the `browserbase_price_per_hour` setting (default 0.12 USD).
BROWSERBASE_PLANS: dict[str, BrowserbasePlan] = {
    "free": BrowserbasePlan("Free", 15 * 60, False, 1.0, 3),
    "developer": BrowserbasePlan("Developer", 6 * 3600, True, 100.0, 25),
    "startup": BrowserbasePlan("Startup", 6 * 3600, True, 500.0, 100),
    "scale": BrowserbasePlan("Scale", 6 * 3600, True, 500.0, 250),
}


# Browserbase bills per browser minute with the first minute rounded up: a 10-second session
# costs a minute; a 90-second one, 90 seconds.
BROWSERBASE_MINIMUM_SECONDS = 60.0


def billed_seconds(provider: str, seconds: float) -> float:
    """What the provider bills for a session that lived `seconds` (the local browser: nothing)."""
    seconds = max(0.0, seconds)
    if provider != "browserbase":
        return 0.0
    return max(BROWSERBASE_MINIMUM_SECONDS, float(math.ceil(seconds)))


@dataclass(frozen=True)
class UsageRecord:
    provider: str  # "local" | "browserbase"
    platform: str | None
    purpose: str  # "login" | "verify" | "post" | "keepalive"
    session_id: str | None
    started_at: float
    ended_at: float
    seconds: float
    billed_seconds: float
    notes_posted: int = 0

    @classmethod
    def build(
        cls,
        *,
        provider: str,
        platform: str | None,
        purpose: str,
        session_id: str | None,
        started_at: float,
        ended_at: float,
        notes_posted: int = 0,
    ) -> UsageRecord:
        seconds = max(0.0, ended_at - started_at)
        return cls(
            provider=provider,
            platform=platform,
            purpose=purpose,
            session_id=session_id,
            started_at=started_at,
            ended_at=max(ended_at, started_at),
            seconds=seconds,
            billed_seconds=billed_seconds(provider, seconds),
            notes_posted=notes_posted,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UsageSummary:
    month_start: float
    sessions: int
    seconds: float
    billed_seconds: float
    notes_posted: int
    estimated_cost: float  # USD, Browserbase billed hours × browserbase_price_per_hour

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlanUsage:
    """This month's Browserbase browser hours against the plan's included hours."""

    plan: str  # "free" ... ; "" when unknown (no `browserbase_plan` set)
    plan_name: str
    used_hours: float  # billed browser hours this month
    included_hours: float | None  # None when the plan is unknown
    overage_hours: float
    price_per_hour: float
    estimated_overage: float  # USD

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class UsageService:
    def __init__(self, db: Database, settings: Settings, clock: Clock = system_clock) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock

    def record(self, usage: UsageRecord) -> int:
        with self._db.write() as session:
            row = BrowserUsage(**usage.as_dict())
            session.add(row)
            session.flush()
            return int(row.id)

    def month_summary(self, now: float | None = None, provider: str | None = None) -> UsageSummary:
        """Totals of the calendar month (local time) that `now` falls in."""
        moment = datetime.fromtimestamp(self._clock() if now is None else now).astimezone()
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
        query = select(
            func.count(BrowserUsage.id),
            func.coalesce(func.sum(BrowserUsage.seconds), 0.0),
            func.coalesce(func.sum(BrowserUsage.billed_seconds), 0.0),
            func.coalesce(func.sum(BrowserUsage.notes_posted), 0),
        ).where(BrowserUsage.started_at >= start)
        if provider is not None:
            query = query.where(BrowserUsage.provider == provider)
        with self._db.read() as session:
            count, seconds, billed, notes = session.execute(query).one()
        price = float(self._settings.get("browserbase_price_per_hour"))
        return UsageSummary(
            month_start=start,
            sessions=int(count),
            seconds=float(seconds),
            billed_seconds=float(billed),
            notes_posted=int(notes),
            estimated_cost=round(float(billed) / 3600.0 * price, 4),
        )

    def plan_usage(self, now: float | None = None) -> PlanUsage:
        """Browserbase hours this month vs. the plan's included hours (`browserbase_plan`), and
        the overage they would cost at `browserbase_price_per_hour`."""
        summary = self.month_summary(now, provider="browserbase")
        plan_key = str(self._settings.get("browserbase_plan") or "")
        plan = BROWSERBASE_PLANS.get(plan_key)
        used = summary.billed_seconds / 3600.0
        price = float(self._settings.get("browserbase_price_per_hour"))
        included = plan.included_hours if plan is not None else None
        overage = max(0.0, used - included) if included is not None else 0.0
        return PlanUsage(
            plan=plan_key if plan is not None else "",
            plan_name=plan.name if plan is not None else "",
            used_hours=round(used, 4),
            included_hours=included,
            overage_hours=round(overage, 4),
            price_per_hour=price,
            estimated_overage=round(overage * price, 2),
        )

    def recent(self, limit: int = 50) -> list[UsageRecord]:
        with self._db.read() as session:
            rows = session.scalars(
                select(BrowserUsage).order_by(BrowserUsage.started_at.desc()).limit(limit)
            ).all()
            return [
                UsageRecord(
                    provider=r.provider,
                    platform=r.platform,
                    purpose=r.purpose,
                    session_id=r.session_id,
                    started_at=r.started_at,
                    ended_at=r.ended_at,
                    seconds=r.seconds,
                    billed_seconds=r.billed_seconds,
                    notes_posted=r.notes_posted,
                )
                for r in rows
            ]

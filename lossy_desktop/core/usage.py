"""Browser usage: how long each browser session lived, what Browserbase bills for it, and the
month's totals with an estimated cost.

The automation layer never touches the database: a provider's `close()` returns a
`UsageRecord`, and the workers (or the CLI) hand it to `UsageService.record()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from lossy_desktop.core.billing import (
    BROWSERBASE_MINIMUM_SECONDS,
    BROWSERBASE_PLANS,
    BrowserbasePlan,
    UsageRecord,
    billed_seconds,
)
from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.db import Database
from lossy_desktop.core.models import BrowserUsage
from lossy_desktop.core.settings import Settings

__all__ = [
    "BROWSERBASE_MINIMUM_SECONDS",
    "BROWSERBASE_PLANS",
    "BrowserbasePlan",
    "UsageRecord",
    "UsageService",
    "UsageSummary",
    "billed_seconds",
]


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
        price = self._settings.get("browserbase_price_per_hour")
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
        plan_key = self._settings.get("browserbase_plan")
        plan = BROWSERBASE_PLANS.get(plan_key)
        used = summary.billed_seconds / 3600.0
        price = self._settings.get("browserbase_price_per_hour")
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

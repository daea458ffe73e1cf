"""What a browser session costs: the billing rule and the `UsageRecord` a provider's `close()`
returns. Free of the database, so the automation layer can build records without loading it;
`lossy_desktop.core.usage` stores them."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


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
    purpose: str  # "login" | "verify" | "post" | "keepalive" | "retract"
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

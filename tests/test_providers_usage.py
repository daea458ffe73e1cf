"""Browser usage records: seconds, Browserbase billed seconds, and the month's summary."""

from __future__ import annotations

from datetime import datetime

import pytest

from lossy_desktop.core.usage import UsageRecord, billed_seconds


@pytest.mark.parametrize(
    ("provider", "seconds", "billed"),
    [
        ("browserbase", 0.0, 60.0),
        ("browserbase", 10.2, 60.0),
        ("browserbase", 60.0, 60.0),
        ("browserbase", 90.3, 91.0),
        ("local", 500.0, 0.0),
    ],
)
def test_billed_seconds_round_the_first_minute_up(provider: str, seconds: float, billed: float):
    assert billed_seconds(provider, seconds) == billed


def test_usage_record_build_measures_the_session():
    usage = UsageRecord.build(
        provider="browserbase",
        platform="youtube",
        purpose="post",
        session_id="s1",
        started_at=100.0,
        ended_at=145.5,
        notes_posted=4,
    )
    assert usage.seconds == 45.5
    assert usage.billed_seconds == 60.0
    assert usage.notes_posted == 4


def test_month_summary_counts_this_month_only(fake_services, clock):
    now = datetime(2026, 3, 15, 12, 0).astimezone().timestamp()
    last_month = datetime(2026, 2, 27, 12, 0).astimezone().timestamp()
    fake_services.settings.set("browserbase_price_per_hour", 0.12)

    def record(provider: str, start: float, seconds: float, notes: int = 0) -> None:
        fake_services.usage.record(
            UsageRecord.build(
                provider=provider,
                platform="vimeo",
                purpose="post",
                session_id=None,
                started_at=start,
                ended_at=start + seconds,
                notes_posted=notes,
            )
        )

    record("browserbase", now - 3600, 30.0, notes=2)  # billed 60
    record("browserbase", now - 60, 3540.0, notes=10)  # billed 3540
    record("local", now - 10, 100.0, notes=1)  # billed 0
    record("browserbase", last_month, 7200.0)  # not this month

    summary = fake_services.usage.month_summary(now)
    assert summary.sessions == 3
    assert summary.seconds == pytest.approx(3670.0)
    assert summary.billed_seconds == pytest.approx(3600.0)
    assert summary.notes_posted == 13
    assert summary.estimated_cost == pytest.approx(0.12)
    only_bb = fake_services.usage.month_summary(now, provider="browserbase")
    assert only_bb.sessions == 2
    assert [u.seconds for u in fake_services.usage.recent(2)] == [100.0, 3540.0]

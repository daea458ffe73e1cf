"""The soak's time knobs: `retry_backoff_base_s` scales the queue's backoff and
`rate_limit_snooze_base_s` the rate-limit snoozes; the defaults stay 30 s, 90 s, 270 s."""

from __future__ import annotations

import pytest

from lossy_desktop.automation.errors import rate_limit_snooze
from lossy_desktop.core.clock import FakeClock
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.services import Services


def test_defaults_and_bounds(fake_services: Services) -> None:
    settings = fake_services.settings
    assert settings.get("retry_backoff_base_s") == 30.0
    assert settings.get("rate_limit_snooze_base_s") == 30.0
    for key in ("retry_backoff_base_s", "rate_limit_snooze_base_s"):
        for bad in (0, 0.001, 3601, "soon", float("nan")):
            with pytest.raises(ValidationError, match=key):
                settings.set(key, bad)
        assert settings.get(key) == 30.0


def test_queue_backoff_follows_the_setting(fake_services: Services, clock: FakeClock) -> None:
    queue = fake_services.queue
    fake_services.settings.set("automation_rate_allowed", 1000)
    fake_services.settings.set("retry_backoff_base_s", 0.5)
    job = queue.insert("w", {}, max_attempts=3)
    assert job is not None
    for attempt, base in ((1, 0.5), (2, 1.5)):
        [[claimed]] = queue.claim("automation", 1)
        assert claimed.attempt == attempt
        failed = queue.fail(job.id, "boom", "network_error")
        assert failed is not None and failed.state == "retryable"
        delay = failed.scheduled_at - clock()
        assert base * 0.9 <= delay <= base * 1.1
        clock.advance(delay + 0.001)  # (float rounding: land just past it)


def test_rate_limit_snooze_scales() -> None:
    assert [rate_limit_snooze(n) for n in (1, 2, 3, 4)] == [30, 90, 270, 270]
    assert [rate_limit_snooze(n, None, 0.1) for n in (1, 2, 3)] == pytest.approx([0.1, 0.3, 0.9])
    assert rate_limit_snooze(1, 5.0, 0.1) == 5.0  # the platform's Retry-After still wins


def test_rescue_after_a_kill_gives_the_attempt_back(fake_services: Services) -> None:
    """A job cut off by a killed app keeps its attempts (the app's stop is not its failure);
    one rescued again and again is eventually discarded."""
    queue = fake_services.queue
    fake_services.settings.set("automation_rate_allowed", 1000)
    job = queue.insert("w", {}, max_attempts=1)
    assert job is not None
    for n in range(1, 4):
        [[claimed]] = queue.claim("automation", 1)
        assert claimed.attempt == 1
        assert queue.rescue_orphans(refund_attempts=True, max_rescues=3) == 1
        again = queue.get(job.id)
        assert again is not None and again.state == "available" and again.attempt == 0
        assert again.meta["rescued"] == n and again.last_error_kind == "orphaned"
    queue.claim("automation", 1)
    assert queue.rescue_orphans(refund_attempts=True, max_rescues=3) == 1
    gone = queue.get(job.id)
    assert gone is not None and gone.state == "discarded"

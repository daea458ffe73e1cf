"""Pacing per platform account (queue/pacing.py): the comment window and the least gap with its
jitter, durable across restarts, driven by a fake clock whose sleep moves it (no real waiting)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lossy_desktop.core.clock import FakeClock
from lossy_desktop.queue.pacing import MAX_JITTER, CommentPacer
from lossy_desktop.services import Services


@pytest.fixture
def pacer(fake_services: Services) -> CommentPacer:
    return CommentPacer(
        fake_services.db, fake_services.settings, fake_services.clock, rng=random.Random(7)
    )


def test_the_defaults_are_ten_comments_a_minute_six_seconds_apart(fake_services: Services):
    settings = fake_services.settings
    assert settings.get("comment_interval_s") == 6.0
    assert settings.get("automation_rate_allowed") == 10
    assert settings.get("automation_rate_period_s") == 60


def test_two_comments_are_the_interval_plus_jitter_apart(
    pacer: CommentPacer, clock: FakeClock
) -> None:
    gaps = []
    for _ in range(40):
        slot, state = pacer.try_acquire("youtube")
        assert slot is not None and state.free
        refused, waiting = pacer.try_acquire("youtube")
        assert refused is None and waiting.reason == "interval"
        assert 6.0 <= waiting.wait_s <= 6.0 * (1 + MAX_JITTER)
        assert pacer.wait_until(waiting.next_at)  # the fake clock's sleep: no real time
        assert clock() == pytest.approx(waiting.next_at, abs=1e-6)
        gaps.append(waiting.wait_s)
        clock.advance(60)  # keep the rate window out of it
    assert max(gaps) - min(gaps) > 1.0  # it does jitter
    # the same seed draws the same jitter
    again = CommentPacer(pacer._db, pacer._settings, clock, rng=random.Random(7))
    clock.advance(3600)
    again.try_acquire("vimeo")
    assert again.state("vimeo").wait_s == pytest.approx(gaps[0])


def test_the_interval_0_means_no_gap(
    fake_services: Services, pacer: CommentPacer, clock: FakeClock
) -> None:
    fake_services.settings.set("comment_interval_s", 0)
    for _ in range(10):
        slot, _state = pacer.try_acquire("air")
        assert slot is not None
    refused, state = pacer.try_acquire("air")  # the 11th in a minute: the window is full
    assert refused is None and state.reason == "window"
    assert state.next_at == clock() + 60


def test_the_window_slides_per_account(
    fake_services: Services, pacer: CommentPacer, clock: FakeClock
) -> None:
    settings = fake_services.settings
    settings.set("comment_interval_s", 0)
    settings.set("automation_rate_allowed", 3)
    settings.set("automation_rate_period_s", 60)
    assert pacer.try_acquire("youtube")[0] and pacer.try_acquire("youtube")[0]  # t=0: 2
    clock.advance(30)
    assert pacer.try_acquire("youtube")[0]  # t=30: 3, the window is full
    refused, state = pacer.try_acquire("youtube")
    assert refused is None and state.window.used == 3 and state.window.room == 0
    assert state.next_at == clock() + 30  # the two t=0 comments leave at t=60
    assert pacer.try_acquire("vimeo")[0] is not None  # another account is not held up
    clock.advance(29.9)
    assert pacer.try_acquire("youtube")[0] is None  # t=59.9: still full
    clock.advance(0.2)
    assert pacer.try_acquire("youtube")[0] is not None  # t=60.1
    assert pacer.try_acquire("youtube")[0] is not None
    assert pacer.try_acquire("youtube")[0] is None
    clock.advance(30)  # t=90.1: the t=30 comment left
    assert pacer.try_acquire("youtube")[0] is not None


def test_a_restart_does_not_allow_a_burst(data_dir: Path, clock: FakeClock) -> None:
    with Services.open(data_dir, clock=clock) as first:
        first.settings.set("automation_rate_allowed", 2)
        assert first.pacer.try_acquire("youtube")[0] is not None
        clock.advance(10)
        assert first.pacer.try_acquire("youtube")[0] is not None
    clock.advance(1)
    with Services.open(data_dir, clock=clock) as second:
        refused, state = second.pacer.try_acquire("youtube")
        assert refused is None and state.reason == "window"
        assert state.next_at == pytest.approx(clock() - 11 + 60)
        assert second.pacer.wait_until(state.next_at)
        assert second.pacer.try_acquire("youtube")[0] is not None


def test_the_gap_counts_from_when_the_comment_was_seen(
    pacer: CommentPacer, clock: FakeClock
) -> None:
    slot, _ = pacer.try_acquire("youtube")
    assert slot is not None
    first = pacer.state("youtube").next_at
    clock.advance(2.5)  # typing, submitting, confirming
    pacer.confirm(slot)
    assert pacer.state("youtube").next_at == pytest.approx(first + 2.5)
    assert pacer.state("youtube").last_comment_at == clock()


def test_a_platform_slow_down_pauses_the_account(pacer: CommentPacer, clock: FakeClock) -> None:
    pacer.pause("vimeo", clock() + 90)
    pacer.pause("vimeo", clock() + 30)  # a shorter pause does not shorten it
    refused, state = pacer.try_acquire("vimeo")
    assert refused is None and state.reason == "paused" and state.wait_s == 90
    assert pacer.try_acquire("youtube")[0] is not None
    clock.advance(90)
    assert pacer.try_acquire("vimeo")[0] is not None


def test_a_wait_gives_up_when_told_to_stop(pacer: CommentPacer, clock: FakeClock) -> None:
    start = clock()
    calls = []

    def stopping() -> bool:
        calls.append(clock())
        return len(calls) > 3

    assert pacer.wait_until(start + 100, stopping) is False
    assert clock() < start + 100  # it stopped in short steps, long before the end
    assert pacer.wait_until(clock() - 1, lambda: True) is True  # nothing to wait for


def test_old_pacing_history_is_pruned(fake_services: Services, clock: FakeClock) -> None:
    assert fake_services.pacer.try_acquire("youtube")[0] is not None
    clock.advance(86400 + 1)
    fake_services.queue.prune()
    assert fake_services.pacer.accounts() == []

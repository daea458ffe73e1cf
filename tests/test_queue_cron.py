"""Cron: runs each slot once, catches up a missed run once at the next start, never twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from lossy_desktop.core.clock import FakeClock
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.queue import CronEntry, CronSchedule, JobQueue
from lossy_desktop.services import Services

KEEPALIVE = CronEntry("keepalive", "keepalive_cron", "keepalive", {"why": "cron"})


def at(text: str, tz: str = "UTC") -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def schedule(services: Services, **kw) -> CronSchedule:
    return CronSchedule(services.queue, services.settings, [KEEPALIVE], tz=UTC, **kw)


def keepalive_jobs(queue: JobQueue) -> list:
    return queue.jobs_for("cron:keepalive")


def test_first_sight_records_without_running_then_runs_each_slot_once(
    fake_services: Services, clock: FakeClock
) -> None:
    clock.set(at("2024-03-10T10:00:00"))
    cron = schedule(fake_services)
    assert cron.due() == []  # a fresh install does not run this morning's 03:00 job
    assert cron.next_due_at() == at("2024-03-11T03:00:00")
    clock.set(at("2024-03-11T02:59:59"))
    assert cron.due() == []
    clock.set(at("2024-03-11T03:00:00"))
    [job] = cron.due()
    assert job.worker == "keepalive" and job.queue == "maintenance"
    assert job.args == {"why": "cron"} and job.meta["scheduled_for"] == at("2024-03-11T03:00:00")
    clock.advance(1)
    assert cron.due() == []  # never twice for one slot
    clock.advance(3600)
    assert cron.due() == []
    assert len(keepalive_jobs(fake_services.queue)) == 1


def test_run_missed_while_closed_runs_once_at_next_start(data_dir, clock: FakeClock) -> None:
    clock.set(at("2024-03-10T10:00:00"))
    with Services.open(data_dir, clock=clock) as first:
        assert schedule(first).due() == []
    # The laptop stays closed for five nights (five 03:00 slots missed).
    clock.set(at("2024-03-15T09:30:00"))
    with Services.open(data_dir, clock=clock) as second:
        cron = schedule(second)
        jobs = cron.due()
        assert len(jobs) == 1  # once, not five times
        assert jobs[0].meta["scheduled_for"] == at("2024-03-15T03:00:00")
        assert cron.due() == []
    with Services.open(data_dir, clock=clock) as third:  # another restart the same morning
        assert schedule(third).due() == []
        assert len(keepalive_jobs(third.queue)) == 1


def test_run_missed_on_first_sight_option(fake_services: Services, clock: FakeClock) -> None:
    clock.set(at("2024-03-10T10:00:00"))
    [job] = schedule(fake_services, run_missed_on_first_sight=True).due()
    assert job.meta["scheduled_for"] == at("2024-03-10T03:00:00")


def test_no_second_job_while_the_previous_one_waits(
    fake_services: Services, clock: FakeClock
) -> None:
    clock.set(at("2024-03-10T10:00:00"))
    cron = schedule(fake_services, run_missed_on_first_sight=True)
    [first] = cron.due()
    clock.set(at("2024-03-11T03:00:00"))
    assert cron.due() == []  # yesterday's is still available
    fake_services.queue.claim("maintenance", 1)
    fake_services.queue.complete(first.id)
    assert cron.due() == []  # the 11th's slot was recorded, not postponed
    clock.set(at("2024-03-12T03:00:00"))
    assert len(cron.due()) == 1


def test_expression_comes_from_the_setting(fake_services: Services, clock: FakeClock) -> None:
    fake_services.settings.set("keepalive_cron", "*/15 * * * *")
    clock.set(at("2024-03-10T10:01:00"))
    cron = schedule(fake_services)
    assert cron.due() == []
    assert cron.next_due_at() == at("2024-03-10T10:15:00")
    clock.set(at("2024-03-10T10:15:00"))
    assert len(cron.due()) == 1


def test_local_time_zone(fake_services: Services, clock: FakeClock) -> None:
    paris = ZoneInfo("Europe/Paris")
    cron = CronSchedule(fake_services.queue, fake_services.settings, [KEEPALIVE], tz=paris)
    clock.set(at("2024-07-01T12:00:00", "Europe/Paris"))
    assert cron.due() == []
    assert cron.next_due_at() == at("2024-07-02T01:00:00")  # 03:00 CEST is 01:00 UTC


def test_concurrent_due_calls_fire_one_job(data_dir, clock: FakeClock) -> None:
    clock.set(at("2024-03-10T10:00:00"))
    with Services.open(data_dir, clock=clock) as svc:
        schedule(svc).due()
    clock.set(at("2024-03-11T03:00:05"))
    opened = [Services.open(data_dir, clock=clock) for _ in range(4)]
    try:
        results: list[int] = []
        barrier = threading.Barrier(len(opened))

        def run(svc: Services) -> None:
            barrier.wait()
            results.append(len(schedule(svc).due()))

        threads = [threading.Thread(target=run, args=(svc,)) for svc in opened]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results) == [0, 0, 0, 1]
        assert len(keepalive_jobs(opened[0].queue)) == 1
    finally:
        for svc in opened:
            svc.close()


def test_bad_entries_are_refused(fake_services: Services) -> None:
    cron = schedule(fake_services)
    with pytest.raises(ValidationError):
        cron.add(CronEntry("x", "not cron", "w"))
    with pytest.raises(ValidationError):
        cron.add(KEEPALIVE)  # same name twice


def test_prune_keeps_the_latest_run_so_nothing_refires(
    fake_services: Services, clock: FakeClock
) -> None:
    clock.set(at("2024-03-10T10:00:00"))
    cron = schedule(fake_services, run_missed_on_first_sight=True)
    [job] = cron.due()
    fake_services.queue.claim("maintenance", 1)
    fake_services.queue.complete(job.id)
    clock.set(at("2024-03-30T02:00:00"))  # 20 days later, before 03:00
    fake_services.queue.prune()
    assert fake_services.queue.get(job.id) is None
    # The last recorded slot was the 10th: the missed 29th runs once, the 10th never again.
    [again] = cron.due()
    assert again.meta["scheduled_for"] == at("2024-03-29T03:00:00")

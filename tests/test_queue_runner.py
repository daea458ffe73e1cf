"""Runner: wake-on-insert pickup, concurrency, pause/resume, results, events, stop, cron."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from lossy_desktop.core.clock import FakeClock
from lossy_desktop.queue import (
    CronEntry,
    CronSchedule,
    Discard,
    Error,
    JobContext,
    JobEvent,
    JobRecord,
    Ok,
    Result,
    Runner,
    Snooze,
)
from lossy_desktop.services import Services

WAIT = 10.0  # generous upper bound for conditions; tests finish as soon as they hold


class Events:
    """Collects JobEvents from any thread; waits on conditions over them."""

    def __init__(self) -> None:
        self.items: list[tuple[float, JobEvent]] = []
        self._cond = threading.Condition()

    def __call__(self, event: JobEvent) -> None:
        with self._cond:
            self.items.append((time.monotonic(), event))
            self._cond.notify_all()

    def kinds(self, job_id: int | None = None) -> list[str]:
        with self._cond:
            return [e.kind for _, e in self.items if job_id is None or e.job_id == job_id]

    def of(self, kind: str) -> list[JobEvent]:
        with self._cond:
            return [e for _, e in self.items if e.kind == kind]

    def wait(self, predicate: Callable[[], bool], timeout: float = WAIT) -> None:
        with self._cond:
            assert self._cond.wait_for(predicate, timeout), f"timed out; events: {self.items}"

    def wait_count(self, kind: str, n: int) -> None:
        self.wait(lambda: sum(1 for _, e in self.items if e.kind == kind) >= n)


class FnWorker:
    def __init__(
        self,
        fn: Callable[[list[JobRecord], JobContext], dict[int, Result]],
        name: str = "w",
        queue: str = "automation",
        group_limit: int = 1,
    ) -> None:
        self.name, self.queue, self.group_limit, self._fn = name, queue, group_limit, fn
        self.calls: list[list[int]] = []

    def perform(self, jobs: list[JobRecord], ctx: JobContext) -> dict[int, Result]:
        self.calls.append([j.id for j in jobs])
        return self._fn(jobs, ctx)


def ok_all(jobs: list[JobRecord], _ctx: JobContext) -> dict[int, Result]:
    return {j.id: Ok() for j in jobs}


def loops_pass(runner: Runner, n: int = 3) -> None:
    """Let the dispatcher run n more full passes (a condition, not a sleep)."""
    for _ in range(n):
        with runner._cond:
            seen = runner._loops
        runner.wake()
        with runner._cond:
            passed = runner._cond.wait_for(lambda seen=seen: runner._loops > seen, WAIT)
        assert passed, "the dispatcher did not run"


@pytest.fixture
def svc(services: Services) -> Services:
    services.settings.set("automation_rate_allowed", 1000)
    return services


@pytest.fixture
def make_runner(svc: Services) -> Iterator[Callable[..., tuple[Runner, Events]]]:
    runners: list[Runner] = []

    def make(workers: list, **kw) -> tuple[Runner, Events]:
        kw.setdefault("poll_interval", 60.0)  # a pickup can't be explained by polling
        runner = Runner(svc.queue, workers, svc.settings, **kw)
        events = Events()
        runner.add_listener(events)
        runners.append(runner)
        return runner, events

    yield make
    for runner in runners:
        runner.stop(timeout=5)


def test_job_inserted_while_waiting_starts_within_milliseconds(svc: Services, make_runner) -> None:
    worker = FnWorker(ok_all)
    runner, events = make_runner([worker])
    runner.start()
    events.wait_count("idle", 1)
    # The runner polls every 60 s, far beyond WAIT: a job can only start within WAIT because
    # the insert woke the runner ("inserted" comes first). The pickup time itself is a figure of
    # bench/queue_bench.py (target: median <= 20 ms).
    assert runner_poll_exceeds_wait()
    for i in range(5):
        job = svc.queue.insert("w", {"i": i})
        assert job is not None
        events.wait(lambda job=job: "completed" in events.kinds(job.id))
        assert events.kinds(job.id)[:3] == ["inserted", "started", "completed"]
    assert svc.queue.counts()["completed"] == 5


def runner_poll_exceeds_wait() -> bool:
    return WAIT < 60.0  # make_runner's poll_interval


def test_events_and_steps(svc: Services, make_runner) -> None:
    def perform(jobs, ctx):
        for step in ("starting browser", "typing"):
            ctx.step(jobs[0].id, step)
        ctx.step(jobs[0].id, "waiting", until=ctx.clock() + 5)
        return {jobs[0].id: Ok()}

    runner, events = make_runner([FnWorker(perform)])
    job = svc.queue.insert("w", {"note_id": 5})
    assert job is not None
    runner.run_until_idle(timeout=WAIT)
    assert events.kinds(job.id) == ["started", "step", "step", "step", "completed"]
    steps = [e.step for e in events.of("step")]
    assert steps == ["starting browser", "typing", "waiting"]
    assert [e.next_run_at is not None for e in events.of("step")] == [False, False, True]
    started = events.of("started")[0]
    assert started.args == {"note_id": 5} and started.attempt == 1 and started.max_attempts == 3


def test_concurrency_limit_applies_live(svc: Services, make_runner) -> None:
    svc.settings.set("automation_concurrency", 2)
    release = threading.Event()
    active, peak, lock = [0], [0], threading.Lock()

    def perform(jobs, ctx):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        release.wait(WAIT)
        with lock:
            active[0] -= 1
        return {j.id: Ok() for j in jobs}

    runner, events = make_runner([FnWorker(perform)])
    for i in range(6):
        svc.queue.insert("w", {"i": i})
    runner.start()
    events.wait_count("started", 2)
    loops_pass(runner)
    assert len(events.of("started")) == 2 and svc.queue.counts()["executing"] == 2
    svc.settings.set("automation_concurrency", 3)  # live change
    runner.wake()
    events.wait_count("started", 3)
    loops_pass(runner)
    assert len(events.of("started")) == 3
    release.set()
    runner.run_until_idle(timeout=WAIT)
    assert peak[0] == 3
    assert svc.queue.counts()["completed"] == 6


def test_pause_and_resume(svc: Services, make_runner) -> None:
    runner, events = make_runner([FnWorker(ok_all)])
    runner.start()
    runner.pause()
    assert runner.paused
    job = svc.queue.insert("w", {})
    assert job is not None
    loops_pass(runner)
    assert events.kinds(job.id) == ["inserted"]
    assert svc.queue.get(job.id).state == "available"  # type: ignore[union-attr]
    runner.resume()
    assert not runner.paused
    events.wait(lambda: "completed" in events.kinds(job.id))


def test_exceptions_and_missing_results_count_as_errors(svc: Services, make_runner) -> None:
    def perform(jobs, ctx):
        if jobs[0].args["mode"] == "raise":
            raise RuntimeError("browser crashed")
        return {}

    runner, events = make_runner([FnWorker(perform)])
    raised = svc.queue.insert("w", {"mode": "raise"})
    silent = svc.queue.insert("w", {"mode": "silent"})
    assert raised and silent
    runner.start()
    events.wait_count("retrying", 2)
    by_job = {e.job_id: e for e in events.of("retrying")}
    assert by_job[raised.id].error == "RuntimeError: browser crashed"
    assert by_job[raised.id].error_kind == "script_failed"
    assert by_job[silent.id].error == "the worker returned no result for this job"
    retry_at = by_job[raised.id].next_run_at
    assert retry_at is not None and 27 <= retry_at - by_job[raised.id].at <= 33
    assert svc.queue.counts()["retryable"] == 2


def test_run_until_idle_waits_through_retries_and_snoozes(data_dir, clock: FakeClock) -> None:
    with Services.open(data_dir, clock=clock) as svc:
        svc.settings.set("automation_rate_allowed", 1000)
        outcomes: dict[int, list[Result]] = {}

        def perform(jobs, ctx):
            job = jobs[0]
            return {job.id: outcomes[job.id].pop(0)}

        runner = Runner(svc.queue, [FnWorker(perform)], svc.settings, poll_interval=60.0)
        events = Events()
        runner.add_listener(events)

        def time_travel(event: JobEvent) -> None:
            # Backoff and snooze pass "instantly": move the fake clock, then wake the runner.
            if event.kind in ("retrying", "snoozed") and event.next_run_at is not None:
                clock.set(max(clock(), event.next_run_at))
                runner.wake()

        runner.add_listener(time_travel)
        a = svc.queue.insert("w", {"n": "a"})
        b = svc.queue.insert("w", {"n": "b"})
        c = svc.queue.insert("w", {"n": "c"})
        assert a and b and c
        outcomes[a.id] = [Error("net", "network_error"), Snooze(30, "rate_limited"), Ok()]
        outcomes[b.id] = [Error("1"), Error("2"), Error("3")]
        outcomes[c.id] = [Discard("page changed", "selector_failed")]
        try:
            runner.run_until_idle(timeout=WAIT)
        finally:
            runner.stop()
        final_a, final_b, final_c = (svc.queue.get(j.id) for j in (a, b, c))
        assert final_a and final_a.state == "completed" and final_a.attempt == 2
        assert final_b and final_b.state == "discarded" and final_b.attempt == 3
        assert final_c and final_c.state == "discarded" and final_c.attempt == 1
        assert events.kinds(a.id) == [
            "started", "retrying", "started", "snoozed", "started", "completed",
        ]  # fmt: skip
        assert events.kinds(b.id).count("discarded") == 1
        discarded = {e.job_id: e for e in events.of("discarded")}
        assert discarded[b.id].error == "3" and discarded[b.id].error_kind is None
        assert discarded[c.id].error == "page changed"
        assert discarded[c.id].error_kind == "selector_failed"


def test_run_until_idle_times_out_with_a_clear_message(svc: Services, make_runner) -> None:
    gate = threading.Event()

    def perform(jobs, ctx):
        gate.wait(WAIT)
        return {j.id: Ok() for j in jobs}

    runner, _ = make_runner([FnWorker(perform)])
    svc.queue.insert("w", {})
    with pytest.raises(TimeoutError, match=r"still busy after 0.3 s \(1 job"):
        runner.run_until_idle(timeout=0.3)
    gate.set()
    runner.run_until_idle(timeout=WAIT)


def test_batches_go_to_one_perform_call(svc: Services, make_runner) -> None:
    worker = FnWorker(ok_all, group_limit=10)
    runner, _ = make_runner([worker])
    ids = [svc.queue.insert("w", {"i": i}, group_key="video:1").id for i in range(4)]  # type: ignore[union-attr]
    other = svc.queue.insert("w", {}, group_key="video:2")
    assert other is not None
    runner.run_until_idle(timeout=WAIT)
    assert sorted(worker.calls) == sorted([ids, [other.id]])


def test_unknown_worker_jobs_are_discarded_with_a_reason(svc: Services, make_runner) -> None:
    runner, _events = make_runner([FnWorker(ok_all)])
    job = svc.queue.insert("nobody", {})
    assert job is not None
    runner.run_until_idle(timeout=WAIT)
    final = svc.queue.get(job.id)
    assert final is not None and final.state == "discarded"
    assert final.last_error == "no worker named 'nobody' is installed"


def test_stop_reports_running_jobs_which_the_next_start_rescues(svc: Services, make_runner) -> None:
    gate = threading.Event()
    seen_stopping = []

    def perform(jobs, ctx):
        gate.wait(WAIT)
        seen_stopping.append(ctx.stopping)
        return {j.id: Ok() for j in jobs}

    runner, events = make_runner([FnWorker(perform)])
    job = svc.queue.insert("w", {})
    assert job is not None
    runner.start()
    events.wait_count("started", 1)
    assert runner.stop(timeout=0.2) == [job.id]
    gate.set()
    # The late result is still recorded (the process did not die).
    events.wait(lambda: "completed" in events.kinds(job.id))
    assert seen_stopping == [True]

    # A job left executing (as after a crash) is rescued by the next start.
    other = svc.queue.insert("w", {})
    assert other is not None
    svc.queue.claim("automation", 1)
    runner2, _events2 = make_runner([FnWorker(ok_all)])
    runner2.run_until_idle(timeout=WAIT)
    final = svc.queue.get(other.id)
    assert final is not None and final.state == "completed" and final.attempt == 2


def test_a_short_snooze_wakes_the_runner_when_it_ends(svc: Services, make_runner) -> None:
    """A job snoozed to its account's next comment slot runs at that time, not at the poll."""
    snoozed: list[int] = []

    def perform(jobs, _ctx):
        if jobs[0].id not in snoozed:
            snoozed.append(jobs[0].id)
            return {jobs[0].id: Snooze(1, "paced")}
        return {jobs[0].id: Ok()}

    runner, events = make_runner([FnWorker(perform)])
    job = svc.queue.insert("w", {})
    assert job is not None
    # Finishing within WAIT (< the 60 s poll) means the runner woke when the snooze ended.
    assert runner_poll_exceeds_wait()
    runner.run_until_idle(timeout=WAIT)
    times = [t for t, e in events.items if e.job_id == job.id and e.kind == "started"]
    assert len(times) == 2
    assert times[1] - times[0] >= 0.9  # not before the snooze ended


def test_start_runs_missed_cron_on_the_maintenance_queue(svc: Services, make_runner) -> None:
    entry = CronEntry("keepalive", "keepalive_cron", "keepalive")
    cron = CronSchedule(svc.queue, svc.settings, [entry], tz=UTC, run_missed_on_first_sight=True)
    keepalive = FnWorker(ok_all, name="keepalive", queue="maintenance")
    runner, _events = make_runner([keepalive, FnWorker(ok_all)], cron=cron)
    runner.run_until_idle(timeout=WAIT)
    [job] = svc.queue.jobs_for("cron:keepalive")
    assert job.state == "completed"
    assert datetime.fromtimestamp(job.meta["scheduled_for"], UTC).hour == 3
    assert len(keepalive.calls) == 1


def test_worker_names_must_be_unique(svc: Services) -> None:
    with pytest.raises(ValueError, match="two workers"):
        Runner(svc.queue, [FnWorker(ok_all), FnWorker(ok_all)], svc.settings)


def test_insert_in_a_caller_transaction_wakes_the_runner_after_commit(
    svc: Services, make_runner
) -> None:
    runner, events = make_runner([FnWorker(ok_all)])
    runner.start()
    events.wait_count("idle", 1)
    with svc.db.write() as session:
        job = svc.queue.insert("w", {"note_id": 9}, session=session)
        assert job is not None
    events.wait(lambda: "completed" in events.kinds(job.id))
    assert events.kinds(job.id)[0] == "inserted"

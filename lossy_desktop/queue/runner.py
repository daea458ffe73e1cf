"""The runner: claims due jobs and runs them on worker threads, Qt-free.

One dispatcher thread sleeps until something can change: an insert (insert listener), a batch
finishing, the next scheduled job (a job waiting for its account's next comment is one), the
next cron slot, or a safety poll (`poll_interval`, for jobs inserted by another process such as
the CLI). On waking it
claims, per queue, as many batches as the queue's free concurrency allows (settings
`<queue>_concurrency`, read at every dispatch so a change applies live) and hands each batch
to `submit` (a ThreadPoolExecutor by default; the Qt app passes a QThreadPool-based one).

Events (`JobEvent`) go to listeners from the dispatcher and worker threads: the Qt layer must
re-emit them as signals to the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from lossy_desktop.core.clock import Clock
from lossy_desktop.core.settings import SPECS, Settings
from lossy_desktop.queue.cron import CronSchedule
from lossy_desktop.queue.jobs import JobQueue, JobRecord
from lossy_desktop.queue.results import Cancel, Discard, Error, Ok, Result, Snooze
from lossy_desktop.queue.states import RETRYABLE

log = logging.getLogger("lossy.queue")

EVENT_KINDS = (
    "inserted",
    "started",
    "step",
    "completed",
    "retrying",
    "snoozed",
    "discarded",
    "cancelled",
    "idle",
)
PRUNE_EVERY_S = 3600.0
# How long a finished job's result is retried while the database is locked or full.
RECORD_RETRY_S = 120.0


@dataclass(frozen=True)
class JobEvent:
    kind: str
    job_id: int | None
    worker: str | None
    queue: str | None
    args: dict[str, Any] = field(default_factory=dict)
    attempt: int = 0
    max_attempts: int = 0
    step: str | None = None
    error: str | None = None
    error_kind: str | None = None
    next_run_at: float | None = None
    at: float = 0.0

    @classmethod
    def of(cls, kind: str, job: JobRecord, at: float, **extra: Any) -> JobEvent:
        return cls(
            kind=kind,
            job_id=job.id,
            worker=job.worker,
            queue=job.queue,
            args=dict(job.args),
            attempt=job.attempt,
            max_attempts=job.max_attempts,
            at=at,
            **extra,
        )


class Worker(Protocol):
    name: str  # matches jobs.worker
    queue: str  # "automation" | "maintenance"
    group_limit: int  # 1 = no batching; >1 = batch due jobs sharing a group_key

    def perform(self, jobs: list[JobRecord], ctx: JobContext) -> dict[int, Result]: ...


class JobContext:
    """What a running batch may use: progress steps, the stop flag, the clock."""

    def __init__(self, runner: Runner, jobs: Sequence[JobRecord]) -> None:
        self._runner = runner
        self._jobs = {job.id: job for job in jobs}
        self.clock: Clock = runner.clock

    @property
    def jobs(self) -> list[JobRecord]:
        return list(self._jobs.values())

    def step(self, job_id: int, text: str, *, until: float | None = None) -> None:
        """Report progress of one job ("starting browser", "opening video", "typing", ...);
        `until`: the step lasts until then (e.g. "waiting" for the account's next comment)."""
        job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(f"job {job_id} is not part of this batch")
        self._runner._emit(JobEvent.of("step", job, self.clock(), step=text, next_run_at=until))

    @property
    def stopping(self) -> bool:
        """The runner is stopping: finish quickly (return Snooze to give the attempt back)."""
        return self._runner._stopping.is_set()

    def wait_stopping(self, timeout: float | None = None) -> bool:
        """Block until the runner is stopping (True) or `timeout` s passed (False): a worker
        waiting on something can wait on this too and finish early."""
        return self._runner._stopping.wait(timeout)


Submit = Callable[[Callable[[], None]], None]


class Runner:
    def __init__(
        self,
        queue: JobQueue,
        workers: list[Worker],
        settings: Settings,
        *,
        submit: Submit | None = None,
        clock: Clock | None = None,
        cron: CronSchedule | None = None,
        rescue_orphans: bool = True,
        poll_interval: float = 5.0,
    ) -> None:
        self._queue = queue
        self._settings = settings
        self.clock: Clock = clock or queue.clock
        self._cron = cron
        self._rescue = rescue_orphans
        self._poll = poll_interval
        self._workers: dict[str, Worker] = {}
        for worker in workers:
            if worker.name in self._workers:
                raise ValueError(f"two workers are named {worker.name!r}")
            if int(worker.group_limit) < 1:
                raise ValueError(f"worker {worker.name!r}: group_limit must be >= 1")
            self._workers[worker.name] = worker
        self._queues = sorted({w.queue for w in workers})
        self._executor: ThreadPoolExecutor | None = None
        self._submit = submit
        self._listeners: list[Callable[[JobEvent], None]] = []
        self._cond = threading.Condition()
        self._running: dict[str, int] = dict.fromkeys(self._queues, 0)
        self._executing: set[int] = set()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._paused = False
        self._idle = False
        self._thread: threading.Thread | None = None
        self._next_prune = 0.0
        self._next_cron_at: float | None = None
        self._cron_expressions: tuple[str, ...] | None = None
        self._loops = 0

    # -- public -----------------------------------------------------------------------------
    @property
    def queue(self) -> JobQueue:
        return self._queue

    @property
    def queues(self) -> list[str]:
        return list(self._queues)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def executing(self) -> list[int]:
        """Ids of the jobs this runner is running now."""
        with self._cond:
            return sorted(self._executing)

    def add_listener(self, cb: Callable[[JobEvent], None]) -> None:
        self._listeners.append(cb)

    def remove_listener(self, cb: Callable[[JobEvent], None]) -> None:
        if cb in self._listeners:
            self._listeners.remove(cb)

    def wake(self) -> None:
        """Look for due jobs now (e.g. after a test moved a fake clock)."""
        self._wake.set()

    def wait_for_pass(self, timeout: float | None = 10.0) -> bool:
        """Wake the runner and wait until it completed a whole pass that began after this call
        (so it has looked at every job inserted before it). False on timeout."""
        # Two passes: one already running at the call may have begun before it.
        return all(self._one_more_pass(timeout) for _ in range(2))

    def _one_more_pass(self, timeout: float | None) -> bool:
        with self._cond:
            seen = self._loops
        self._wake.set()
        with self._cond:
            return self._cond.wait_for(lambda: self._loops != seen, timeout)

    def start(self) -> None:
        if self.running:
            return
        self._stopping.clear()
        if self._rescue:
            self._queue.rescue_orphans()
        if self._cron is not None:
            self._cron.due()
        self._queue.prune()
        self._next_prune = self.clock() + PRUNE_EVERY_S
        if self._submit is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_threads(), thread_name_prefix="lossy-job"
            )
            executor = self._executor

            def submit(fn: Callable[[], None]) -> None:
                executor.submit(fn)

            self._submit = submit
        self._queue.add_insert_listener(self._on_insert)
        self._thread = threading.Thread(target=self._loop, name="lossy-queue-runner", daemon=True)
        self._thread.start()
        log.info("queue runner started (%s)", ", ".join(self._queues))

    def stop(self, timeout: float | None = 10.0) -> list[int]:
        """Stop dispatching; wait up to `timeout` s for running jobs. Returns the ids of jobs
        still running then (they are rescued as orphans at the next start)."""
        self._stopping.set()
        self._wake.set()
        self._queue.remove_insert_listener(self._on_insert)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._cond:
            self._cond.wait_for(lambda: not self._executing, timeout)
            left = sorted(self._executing)
        if self._executor is not None:
            self._executor.shutdown(wait=not left, cancel_futures=True)
            self._executor = None
            self._submit = None
        if left:
            log.warning("queue runner stopped with %d job(s) still running: %s", len(left), left)
        else:
            log.info("queue runner stopped")
        return left

    def pause(self) -> None:
        """Start no new jobs (running ones finish)."""
        self._paused = True
        log.info("queue paused")

    def resume(self) -> None:
        self._paused = False
        log.info("queue resumed")
        self._wake.set()

    def run_until_idle(self, timeout: float | None = None) -> None:
        """Run (starting the runner if needed) until no job of this runner's queues is
        available, scheduled, retryable or executing. Waits through backoff in real time.
        Raises TimeoutError when `timeout` seconds pass first."""
        if not self.running:
            self.start()
        real_deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                seen = self._loops
                busy = bool(self._executing)  # results recorded, events not all sent yet
            if not busy and self._queue.active_count(self._queues) == 0:
                return
            remaining = None if real_deadline is None else real_deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                left = self._queue.active_count(self._queues)
                raise TimeoutError(
                    f"the queue was still busy after {timeout:g} s "
                    f"({left} job(s) waiting or running)"
                )
            wait = self._poll if remaining is None else min(self._poll, remaining)
            with self._cond:
                self._cond.wait_for(
                    lambda seen=seen, busy=busy: (  # type: ignore[misc]
                        self._loops != seen or (busy and not self._executing)
                    ),
                    wait,
                )

    # -- internals --------------------------------------------------------------------------
    def _max_threads(self) -> int:
        total = 0
        for queue in self._queues:
            spec = SPECS.get(f"{queue}_concurrency")
            total += int(spec.maximum) if spec is not None and spec.maximum else 1
        return max(total, 1)

    def _concurrency(self, queue: str) -> int:
        key = f"{queue}_concurrency"
        return int(self._settings.get(key)) if key in SPECS else 1

    def _emit(self, event: JobEvent) -> None:
        for cb in list(self._listeners):
            try:
                cb(event)
            except Exception:
                log.exception("job event listener failed (%s)", event.kind)

    def _on_insert(self, job: JobRecord) -> None:
        if job.queue in self._running:
            self._wake.set()
            self._emit(JobEvent.of("inserted", job, self.clock(), next_run_at=job.scheduled_at))

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                next_at = self._dispatch()
            except Exception:
                log.exception("queue runner: dispatch failed; retrying in %.0f s", self._poll)
                next_at = None
            with self._cond:
                self._loops += 1
                self._cond.notify_all()
            timeout = self._poll
            if next_at is not None:
                timeout = min(max(next_at - self.clock(), 0.0), self._poll)
            if timeout > 0:
                self._wake.wait(timeout)

    def _dispatch(self) -> float | None:
        wake_at: list[float] = []
        launched = 0
        if not self._paused:
            for queue in self._queues:
                with self._cond:
                    free = self._concurrency(queue) - self._running[queue]
                if free <= 0:
                    continue
                limits = {w.name: w.group_limit for w in self._workers.values() if w.queue == queue}
                batches = self._queue.claim(queue, free, group_limits=limits)
                for batch in batches:
                    self._launch(queue, batch)
                launched += len(batches)
        now = self._clock_now_after_cron()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            self._queue.prune(now)
        wake_at.append(self._next_prune)
        if self._next_cron_at is not None:
            wake_at.append(self._next_cron_at)
        for queue in self._queues:
            scheduled = self._queue.next_scheduled_at(queue)
            if scheduled is not None:
                wake_at.append(scheduled)
        self._note_idle(launched, wake_at)
        return min(wake_at) if wake_at else None

    def _clock_now_after_cron(self) -> float:
        """Run cron when its next slot has come; remember when the next one is."""
        now = self.clock()
        if self._cron is None:
            return now
        expressions = tuple(self._cron.expression(e) for e in self._cron.entries)
        if expressions != self._cron_expressions:  # a setting changed: recompute
            self._cron_expressions = expressions
            self._next_cron_at = self._cron.next_due_at(now)
        if self._next_cron_at is not None and now >= self._next_cron_at:
            self._cron.due(now)
            self._next_cron_at = self._cron.next_due_at(now)
        return now

    def _note_idle(self, launched: int, wake_at: list[float]) -> None:
        with self._cond:
            busy = bool(self._executing)
        if launched or busy:
            self._idle = False
            return
        if not self._idle and not self._paused:
            self._idle = True
            future = [t for t in wake_at if t not in (self._next_prune, self._next_cron_at)]
            self._emit(
                JobEvent(
                    kind="idle",
                    job_id=None,
                    worker=None,
                    queue=None,
                    next_run_at=min(future) if future else None,
                    at=self.clock(),
                )
            )

    def _launch(self, queue: str, batch: list[JobRecord]) -> None:
        ids = [job.id for job in batch]
        with self._cond:
            self._running[queue] += 1
            self._executing.update(ids)
        worker = self._workers.get(batch[0].worker)
        submit = self._submit
        try:
            if submit is None:
                raise RuntimeError("the runner is stopped")
            submit(lambda: self._run_batch(queue, worker, batch))
        except Exception as error:
            log.error("could not start job(s) %s: %s; putting them back", ids, error)
            for job in batch:
                self._queue.snooze(job.id, 0, "the runner could not start it")
            self._finished(queue, ids)

    def _finished(self, queue: str, ids: list[int]) -> None:
        with self._cond:
            self._running[queue] -= 1
            self._executing.difference_update(ids)
            self._cond.notify_all()
        self._wake.set()

    def _run_batch(self, queue: str, worker: Worker | None, batch: list[JobRecord]) -> None:
        ids = [job.id for job in batch]
        try:
            for job in batch:
                self._emit(JobEvent.of("started", job, self.clock()))
            results: dict[int, Result]
            if worker is None:
                reason = f"no worker named {batch[0].worker!r} is installed"
                results = {job.id: Discard(reason, "unknown_worker") for job in batch}
            else:
                try:
                    returned = worker.perform(list(batch), JobContext(self, batch))
                    if not isinstance(returned, dict):
                        raise TypeError(f"perform returned {type(returned).__name__}, not a dict")
                    results = returned
                except Exception as error:
                    log.exception("worker %s raised on job(s) %s", worker.name, ids)
                    message = f"{type(error).__name__}: {error}"
                    results = {job.id: Error(message, "script_failed") for job in batch}
            for job in batch:
                result = results.get(job.id)
                if result is None:
                    result = Error("the worker returned no result for this job", "script_failed")
                self._record(job, result)
        finally:
            self._finished(queue, ids)

    def _record(self, job: JobRecord, result: Result) -> None:
        from lossy_desktop.core.errors import DatabaseUnavailable

        # A database locked (or full) for longer than busy_timeout is usually a passing
        # state: keep the result and try again for a while, rather than strand the job as
        # `executing` until the next start rescues it (and runs it a second time).
        delay, deadline = 0.25, time.monotonic() + RECORD_RETRY_S
        while True:
            try:
                record = self._queue.apply(job.id, result)
                break
            except DatabaseUnavailable as error:
                if time.monotonic() >= deadline or self._stopping.is_set():
                    log.error(
                        "could not record the result of job %s (%s); it will be "
                        "rescued at the next start",
                        job.id,
                        error,
                    )
                    return
                log.warning("recording the result of job %s failed (%s); retrying", job.id, error)
                self._stopping.wait(delay)
                delay = min(delay * 2, 5.0)
            except Exception:
                log.exception("could not record the result of job %s; it will be rescued", job.id)
                return
        if record is None:
            return  # cancelled or changed meanwhile
        now = self.clock()
        if isinstance(result, Ok):
            event = JobEvent.of("completed", record, now)
        elif isinstance(result, Error):
            kind = "retrying" if record.state == RETRYABLE else "discarded"
            event = JobEvent.of(
                kind,
                record,
                now,
                error=result.message,
                error_kind=result.kind,
                next_run_at=record.scheduled_at if kind == "retrying" else None,
            )
        elif isinstance(result, Snooze):
            event = JobEvent.of(
                "snoozed", record, now, error=result.reason or None,
                next_run_at=record.scheduled_at,
            )  # fmt: skip
        elif isinstance(result, Discard):
            event = JobEvent.of(
                "discarded", record, now, error=result.reason, error_kind=result.kind
            )
        elif isinstance(result, Cancel):
            event = JobEvent.of("cancelled", record, now, error=result.reason)
        else:  # apply() turned an unknown value into a failure
            event = JobEvent.of(
                "retrying" if record.state == RETRYABLE else "discarded",
                record,
                now,
                error=record.last_error,
                error_kind=record.last_error_kind,
            )
        self._emit(event)

"""The bridge between the Qt-free queue/services and the widgets.

`QueueController` owns the posting Runner (lossy_desktop.queue) and runs its jobs on a
QThreadPool. Everything the Runner and the services report from their threads (job events, note
and connection changes) is re-emitted as Qt signals of this main-thread object, so widgets only
ever see them on the GUI thread.

`call(fn, on_success, on_error)` runs a short service call (a database write, a query) on the
pool and delivers its result on the GUI thread (lossy_desktop.app.concurrency).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

from lossy_desktop.app.concurrency import BackgroundTasks, Mailbox, PoolTask

if TYPE_CHECKING:
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.core.notes import NoteView
    from lossy_desktop.queue.runner import JobEvent, Runner, Worker
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.app")

FINISHED_KINDS = ("completed", "discarded", "cancelled")


def _plain_runner(controller: QueueController, workers: list[Worker]) -> Runner:
    from lossy_desktop.queue.runner import Runner

    services = controller.services
    return Runner(
        services.queue,
        workers,
        services.settings,
        submit=controller.submit,
        clock=services.clock,
    )


def _default_runner(controller: QueueController) -> Runner:
    from lossy_desktop.workers import build_runner

    return build_runner(controller.services, controller.ensure_engine(), submit=controller.submit)


class QueueController(QObject):
    """Owns the posting runner; turns thread callbacks into main-thread signals."""

    jobEvent = Signal(object)  # queue.runner.JobEvent
    notesChanged = Signal(list)  # list[NoteView]
    connectionChanged = Signal(object)  # ConnectionView
    pausedChanged = Signal(bool)
    progressChanged = Signal(int, int)  # done, total of the current batch
    runnerStarted = Signal(str)  # "" when posting runs, else why it can't
    notesDeleted = Signal(list)  # list[int]: ids of deleted notes

    def __init__(
        self,
        services: Services,
        *,
        workers: list[Worker] | None = None,
        runner_factory: Callable[[QueueController], Runner] | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`workers`: run exactly these (tests; no cron). `runner_factory(controller)`: build
        the Runner yourself. Neither: the real workers, keep-alive cron and one lazily started
        AutomationEngine (lossy_desktop.workers.build_runner)."""
        super().__init__(parent)
        self.services = services
        self.engine: AutomationEngine | None = None
        self.pool = QThreadPool(self)
        concurrency = services.settings.get("automation_concurrency")
        self.pool.setMaxThreadCount(max(4, concurrency + 3))
        self._closed = False
        self._started = False
        self._paused = False
        self._lock = threading.Lock()
        self._engine_lock = threading.Lock()
        self.running: dict[int, JobEvent] = {}  # job id -> latest JobEvent of a running job
        self._batch_seen: set[int] = set()
        self._batch_done: set[int] = set()
        self._batch_saved: set[int] = set()  # jobs whose note is saved, their result not in yet
        self.runner: Runner | None = None
        if workers is not None:
            chosen = list(workers)
            self._factory: Callable[[QueueController], Runner] = lambda c: _plain_runner(c, chosen)
        elif runner_factory is not None:
            self._factory = runner_factory
        else:
            self._factory = _default_runner

        # from any thread -> these handlers, on the GUI thread
        # (one mailbox keeps the order between kinds: a note created then deleted stays gone)
        self._box = Mailbox(self._dispatch, self)
        self.tasks = BackgroundTasks(self, self.pool)
        services.notes.add_listener(self._relay_notes)
        services.notes.add_removal_listener(self._relay_removed)
        services.connections.add_listener(self._relay_connection)

    def ensure_engine(self) -> AutomationEngine:
        """The app's one AutomationEngine (created on first use; Playwright starts lazily)."""
        with self._engine_lock:
            if self.engine is None:
                from lossy_desktop.automation.engine import AutomationEngine

                self.engine = AutomationEngine()
            return self.engine

    # -- running -----------------------------------------------------------------------------
    def submit(self, fn: Callable[[], None]) -> None:
        """The Runner's way to run a batch off the GUI thread."""
        self.pool.start(PoolTask(fn))

    def start(self) -> None:
        """Build and start the runner on the pool (start-up recovery, cron and pruning touch
        the database, so not on the GUI thread). `runnerStarted` fires when it runs."""
        if self._started or self._closed:
            return
        self._started = True
        self.pool.start(PoolTask(self._start_runner))

    def _start_runner(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                runner = self._factory(self)
                runner.add_listener(self._relay_job_event)
                if self._paused:
                    runner.pause()
                runner.start()
            except Exception as error:
                log.exception("the posting queue could not start")
                self._box.post("started", f"Posting can't start: {error}")
                return
            self.runner = runner
        self._box.post("started", "")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the runner (running jobs get `timeout` s to finish), the automation engine and
        the pool's threads. Safe to call twice."""
        if self._closed:
            return
        with self._lock:  # waits for a runner that is still starting
            self._closed = True
            runner = self.runner
        if runner is not None:
            try:
                left = runner.stop(timeout=timeout)
                if left:
                    log.warning("quit with job(s) %s still running; they resume next start", left)
            except Exception:
                log.exception("stopping the posting runner failed")
        if self.engine is not None:
            try:
                self.engine.close()
            except Exception:
                log.exception("stopping the automation engine failed")
        if not self.pool.waitForDone(int(timeout * 1000)):
            log.warning("background tasks still running after %.0f s", timeout)
        log.info("queue controller stopped")

    @property
    def closed(self) -> bool:
        return self._closed

    # -- pause -------------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._paused

    @Slot()
    def pause(self) -> None:
        self.set_paused(True)

    @Slot()
    def resume(self) -> None:
        self.set_paused(False)

    @Slot()
    def toggle_paused(self) -> None:
        self.set_paused(not self._paused)

    def set_paused(self, paused: bool) -> None:
        if paused == self._paused:
            return
        with self._lock:
            self._paused = paused
            if self.runner is not None:
                if paused:
                    self.runner.pause()
                else:
                    self.runner.resume()
        log.info("posting %s", "paused" if paused else "resumed")
        self.pausedChanged.emit(paused)

    # -- background calls ---------------------------------------------------------------------
    def call(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[Any], None] | None = None,
    ) -> None:
        self.tasks.run("call", fn, on_success, on_error)

    # -- relays (any thread) -------------------------------------------------------------------
    def _relay_job_event(self, event: JobEvent) -> None:
        if not self._closed:
            self._box.post("job", event)

    def _relay_notes(self, views: list[NoteView]) -> None:
        if not self._closed:
            self._box.post("notes", list(views))

    def _relay_removed(self, note_ids: list[int]) -> None:
        if not self._closed:
            self._box.post("removed", list(note_ids))

    def _relay_connection(self, view: ConnectionView) -> None:
        if not self._closed:
            self._box.post("connection", view)

    # -- on the GUI thread ---
    def _dispatch(self, kind: str, value: Any) -> None:
        handlers: dict[str, Callable[[Any], None]] = {
            "job": self._on_job_event,
            "notes": self._on_notes,
            "removed": self._on_removed,
            "connection": self._on_connection,
            "started": self._on_runner_started,
        }
        handlers[kind](value)

    # -- slots (GUI thread) --------------------------------------------------------------------
    @Slot(object)
    def _on_job_event(self, event: JobEvent) -> None:
        kind = event.kind
        job_id = event.job_id
        if job_id is None:  # an "idle" event: no job
            pass
        elif kind in ("started", "step"):
            self.running[job_id] = event
        elif kind != "inserted":
            self.running.pop(job_id, None)
        if getattr(event, "queue", "automation") == "automation" or kind == "idle":
            self._track_progress(kind, job_id)
        self.jobEvent.emit(event)

    def _track_progress(self, kind: str, job_id: int | None) -> None:
        before = self.progress
        if kind == "idle":
            if self._batch_seen and self._batch_done >= self._batch_seen:
                self._batch_seen.clear()
                self._batch_done.clear()
                self._batch_saved.clear()
        elif job_id is not None:
            self._batch_seen.add(job_id)
            if kind in FINISHED_KINDS:
                self._batch_done.add(job_id)
        after = self.progress
        if after != before:
            self.progressChanged.emit(*after)

    @property
    def progress(self) -> tuple[int, int]:
        """(notes done, notes in the batch): a note counts as done once it is saved posted or
        failed, before its job's result arrives (the panel, the tray, the status bar)."""
        return len(self._batch_done | self._batch_saved), len(self._batch_seen)

    @property
    def results_in(self) -> bool:
        """Every job of the batch has reported its result (the notifier's one summary)."""
        return bool(self._batch_seen) and self._batch_done >= self._batch_seen

    @Slot(list)
    def _on_notes(self, views: list[NoteView]) -> None:
        self._end_jobs_of_saved_notes(views)
        self.notesChanged.emit(views)

    def _end_jobs_of_saved_notes(self, views: list[NoteView]) -> None:
        """A note saved as posted (or failed) ends its job for the panel and the progress now:
        a batch of notes on one video reports its jobs' results only when the batch ends."""
        ended = {view.id for view in views if view.status in ("posted", "failed")}
        if not ended:
            return
        jobs = [
            job_id
            for job_id, event in self.running.items()
            if getattr(event, "queue", "automation") == "automation"
            and (event.args or {}).get("note_id") in ended
        ]
        if not jobs:
            return
        before = self.progress
        for job_id in jobs:
            self.running.pop(job_id, None)
            self._batch_seen.add(job_id)
            self._batch_saved.add(job_id)
        if self.progress != before:
            self.progressChanged.emit(*self.progress)

    @Slot(str)
    def _on_runner_started(self, problem: str) -> None:
        self.runnerStarted.emit(problem)

    @Slot(list)
    def _on_removed(self, note_ids: list[int]) -> None:
        self.notesDeleted.emit(note_ids)

    @Slot(object)
    def _on_connection(self, view: ConnectionView) -> None:
        self.connectionChanged.emit(view)

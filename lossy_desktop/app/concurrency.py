"""Work off the GUI thread, results back on it: the app's one background-task helper.

PySide6 6.12 can lose or over-release a Python object carried as the argument of a queued
signal (a `Signal(object)` emitted on one thread, received on another): a reference leaks per
emit, or the object is freed too early. So no Python object rides a signal here. Values wait in
a locked deque (`Mailbox`) and a signal without arguments wakes the GUI thread, which drains it.

- `Mailbox(handler)`: `post(kind, value)` from any thread; `handler(kind, value)` runs on the
  mailbox's thread (the GUI thread), in the order posted. Bursts coalesce into one wake-up.
- `BackgroundTasks`: `run(name, fn, on_ok, on_error)` runs `fn()` on a QThreadPool; its result
  goes to `on_ok`, an exception to `on_error`, both called on the GUI thread; then
  `finished(name)` is emitted (tests wait on it). `busy` while a task is out. A callback bound
  to a QObject deleted meanwhile is skipped.
- `PoolTask(fn)`: a QRunnable for work whose outcome nobody waits for (failures are logged).

Two places run work elsewhere on purpose: the demo's sandbox preparation (minutes long, on a
daemon thread so quitting never waits for it; it reports through a `Mailbox`: app/demo_start.py)
and the recorder intake, whose asyncio handlers on the qasync loop await their own executor
(app/intake.py: no Qt signal involved).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger("lossy.app")

T = TypeVar("T")
Handler = Callable[[str, Any], None]
OnResult = Callable[[Any], object]
OnError = Callable[[Exception], object]


class PoolTask(QRunnable):
    """Runs `fn()` on a pool thread; anything it raises is logged (the thread survives)."""

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__()
        self._fn = fn
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            self._fn()
        except BaseException:  # the pool thread must survive anything
            log.exception("background task failed")


class Mailbox(QObject):
    """Hands (kind, value) pairs from any thread to `handler` on this object's thread, in order.

    Values never travel as queued signal arguments: they wait in a locked deque, and a
    no-argument signal wakes the receiving thread, which drains the deque."""

    _wake = Signal()

    def __init__(self, handler: Handler, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._handler = handler
        self._items: deque[tuple[str, Any]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)

    def post(self, kind: str, value: Any) -> None:
        """From any thread."""
        with self._lock:
            self._items.append((kind, value))
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._wake.emit()
        except RuntimeError:  # the C++ object is gone (its window closed, or at shutdown)
            pass

    @Slot()
    def _drain(self) -> None:
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._scheduled = False
        for kind, value in items:
            try:
                self._handler(kind, value)
            except Exception:
                log.exception("handling a background result failed")


def _receiver_alive(callback: Callable[..., object]) -> bool:
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


class BackgroundTasks(QObject):
    """`run(name, fn, on_ok, on_error)`: `fn()` on the pool; the callbacks on this object's
    (the GUI) thread. `finished(name)` is emitted after a task's callback ran."""

    finished = Signal(str)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool if pool is not None else QThreadPool.globalInstance()
        self._box = Mailbox(self._deliver, self)
        self._next = 0
        # task id -> (name, on_ok, on_error); touched on this object's thread only
        self._pending: dict[int, tuple[str, OnResult | None, OnError | None]] = {}

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def run(
        self,
        name: str,
        fn: Callable[[], T],
        on_ok: Callable[[T], object] | None = None,
        on_error: OnError | None = None,
    ) -> None:
        """Call on the GUI thread."""
        self._next += 1
        task_id = self._next
        self._pending[task_id] = (name, on_ok, on_error)
        box = self._box

        def work() -> None:
            try:
                value: object = fn()
            except Exception as error:
                log.debug("background task %s raised %s", name, type(error).__name__)
                box.post("error", (task_id, error))
                return
            box.post("ok", (task_id, value))

        self._pool.start(PoolTask(work))

    def _deliver(self, kind: str, item: tuple[int, Any]) -> None:
        task_id, value = item
        entry = self._pending.pop(task_id, None)
        if entry is None:
            return
        name, on_ok, on_error = entry
        callback: Callable[[Any], object] | None = on_ok if kind == "ok" else on_error
        try:
            if callback is None:
                return
            if not _receiver_alive(callback):
                log.debug("the result of %s arrived after its receiver was deleted", name)
                return
            callback(value)
        finally:
            self.finished.emit(name)

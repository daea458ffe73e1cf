"""The app's one background-task helper (lossy_desktop.app.concurrency): work on a pool thread,
results and errors back on the GUI thread, no Python object carried by a signal."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

from PySide6.QtCore import QMetaMethod, QObject

from lossy_desktop.app.concurrency import BackgroundTasks, Mailbox


class _Payload:
    """A result only this test holds: its lifetime shows whether a reference leaked."""


def test_a_result_comes_back_on_the_gui_thread(qtbot: Any) -> None:
    tasks = BackgroundTasks()
    ran_on: list[threading.Thread] = []
    got: list[tuple[str, threading.Thread]] = []

    def work() -> str:
        ran_on.append(threading.current_thread())
        return "done"

    with qtbot.waitSignal(tasks.finished, check_params_cb=lambda name: name == "job"):
        tasks.run("job", work, lambda value: got.append((value, threading.current_thread())))
        assert tasks.busy
    assert ran_on and ran_on[0] is not threading.main_thread()
    assert got == [("done", threading.main_thread())]
    assert not tasks.busy


def test_an_exception_becomes_the_error_callback(qtbot: Any) -> None:
    tasks = BackgroundTasks()
    ok: list[object] = []
    errors: list[tuple[Exception, threading.Thread]] = []

    def work() -> None:
        raise ValueError("no such thing")

    with qtbot.waitSignal(tasks.finished, check_params_cb=lambda name: name == "failing"):
        tasks.run(
            "failing",
            work,
            ok.append,
            lambda error: errors.append((error, threading.current_thread())),
        )
    assert ok == []
    assert len(errors) == 1
    error, thread = errors[0]
    assert isinstance(error, ValueError) and str(error) == "no such thing"
    assert thread is threading.main_thread()


def test_no_python_object_rides_a_signal(qtbot: Any) -> None:
    """Every signal of the helper carries nothing, or a plain string (never PyObject: PySide6
    6.12 may leak or over-release an object carried by a queued Signal(object)); and a result
    object is freed once its callback has run."""
    tasks = BackgroundTasks()
    for cls in (BackgroundTasks, Mailbox):
        meta = cls.staticMetaObject
        signals = [
            meta.method(i)
            for i in range(meta.methodOffset(), meta.methodCount())
            if meta.method(i).methodType() == QMetaMethod.MethodType.Signal
        ]
        assert signals, cls
        for signal in signals:
            types = [bytes(t).decode() for t in signal.parameterTypes()]
            assert set(types) <= {"QString"}, (cls.__name__, bytes(signal.methodSignature()))

    refs: list[weakref.ref[_Payload]] = []

    def make() -> _Payload:
        payload = _Payload()
        refs.append(weakref.ref(payload))
        return payload

    for _ in range(20):
        with qtbot.waitSignal(tasks.finished):
            tasks.run("payload", make, lambda _value: None)
    gc.collect()
    assert len(refs) == 20
    assert [ref() for ref in refs] == [None] * 20


def test_a_result_for_a_deleted_receiver_is_dropped(qtbot: Any) -> None:
    tasks = BackgroundTasks()
    gate = threading.Event()

    class Receiver(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.got: list[object] = []

        def take(self, value: object) -> None:
            self.got.append(value)

    receiver = Receiver()
    tasks.run("late", lambda: gate.wait(10) and "value", receiver.take)
    import shiboken6

    shiboken6.delete(receiver)
    with qtbot.waitSignal(tasks.finished, check_params_cb=lambda name: name == "late"):
        gate.set()
    assert not tasks.busy  # finished, and nothing was called on the deleted object


def test_the_mailbox_keeps_the_order_of_posts_from_threads(qtbot: Any) -> None:
    seen: list[tuple[str, int]] = []
    box = Mailbox(lambda kind, value: seen.append((kind, value)))

    def post(kind: str) -> None:
        for n in range(200):
            box.post(kind, n)

    threads = [threading.Thread(target=post, args=(k,)) for k in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    qtbot.waitUntil(lambda: len(seen) == 400, timeout=5000)
    for kind in ("a", "b"):
        assert [n for k, n in seen if k == kind] == list(range(200))

"""App tests: real widgets offscreen (QT_QPA_PLATFORM=offscreen from tests/conftest.py), a real
database per test, and any unexpected Qt warning fails the test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "qt_allow(*patterns): Qt warnings this test may print")


@pytest.fixture(autouse=True)
def _qt_warnings_fail(fail_on_qt_warnings: list[str]) -> list[str]:
    return fail_on_qt_warnings


# -- the app's pieces against a real database --------------------------------------------------


def make_note_fields(i: int, **over: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "platform": "youtube",
        "video_url": f"https://www.youtube.com/watch?v=vid{i % 3}",
        "video_title": f"Cut {i % 3}",
        "timestamp_seconds": 5 * i,
        "text": f"note {i}: the colour shifts here",
        "category": "visual" if i % 2 else "audio",
        "confidence": 0.5,
    }
    fields.update(over)
    return fields


@pytest.fixture
def add_notes(services: Any) -> Any:
    """add_notes(n, **fields) -> list[NoteView], stored through the real NoteService."""
    from lossy_desktop.core.notes import validate_note

    def add(count: int, start: int = 0, **over: Any) -> list[Any]:
        inputs = [
            validate_note(make_note_fields(i, **over), services.settings)
            for i in range(start, start + count)
        ]
        return services.notes.create_many(inputs)

    return add


class GateWorker:
    """A test-only post_note worker: reports the real steps, waits on a gate per job, then
    marks the note posted (or failed) through the real NoteService."""

    name = "post_note"
    queue = "automation"
    group_limit = 1

    def __init__(self, services: Any) -> None:
        self.services = services
        self.gate = threading.Event()
        self.started = threading.Event()
        self.fail_with: tuple[str, str] | None = None
        self.finish_when_stopping = False
        """Instead of the gate, a job finishes the moment the runner starts stopping."""

    def perform(self, jobs: list[Any], ctx: Any) -> dict[int, Any]:
        from lossy_desktop.queue.results import Discard, Ok

        results: dict[int, Any] = {}
        for job in jobs:
            note_id = job.args["note_id"]
            self.services.notes.mark_posting(note_id, job.attempt)
            for step in ("starting browser", "opening video", "seeking", "typing"):
                ctx.step(job.id, step)
            self.started.set()
            if self.finish_when_stopping:
                if not ctx.wait_stopping(30):
                    raise TimeoutError("the runner never stopped")
            elif not self.gate.wait(30):
                raise TimeoutError("the test never opened the gate")
            for step in ("submitting", "confirming"):
                ctx.step(job.id, step)
            if self.fail_with is not None:
                kind, message = self.fail_with
                self.services.notes.mark_failed(note_id, kind=kind, message=message)
                results[job.id] = Discard(message, kind)
            else:
                self.services.notes.mark_posted(
                    note_id,
                    permalink=f"https://www.youtube.com/watch?v=vid&lc=c{note_id}",
                    comment_id=f"c{note_id}",
                )
                results[job.id] = Ok()
        return results


@pytest.fixture
def gate_worker(services: Any) -> Iterator[GateWorker]:
    worker = GateWorker(services)
    yield worker
    worker.gate.set()


@pytest.fixture
def controller(qtbot: Any, services: Any) -> Iterator[Any]:
    """A QueueController with no workers (jobs wait)."""
    from lossy_desktop.app.controller import QueueController

    ctl = QueueController(services, workers=[])
    yield ctl
    ctl.stop(timeout=10)


@pytest.fixture
def running_window(qtbot: Any, services: Any) -> Iterator[Any]:
    """running_window(workers) -> (controller, window): a main window whose controller's
    queue runner has started with these workers (stopped after the test)."""
    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.app.views.main_window import MainWindow

    started: list[Any] = []

    def start(workers: list[Any]) -> tuple[Any, Any]:
        ctl = QueueController(services, workers=workers)
        started.append(ctl)
        win = MainWindow(ctl)
        qtbot.addWidget(win)
        win.model.load(ctl)
        qtbot.waitUntil(lambda: win.model.is_loaded, timeout=5000)
        with qtbot.waitSignal(ctl.runnerStarted, timeout=10000):
            ctl.start()
        return ctl, win

    yield start
    for ctl in started:
        ctl.stop(timeout=10)


@pytest.fixture
def window(qtbot: Any, controller: Any) -> Any:
    from lossy_desktop.app.views.main_window import MainWindow

    win = MainWindow(controller)
    qtbot.addWidget(win)
    win.model.load(controller)
    qtbot.waitUntil(lambda: win.model.is_loaded, timeout=5000)
    win.show()
    return win

"""The side panel keeps pace with the list (issue 12, finding 8): a batch of notes on one video
posts in one browser session and the queue reports its jobs only when the batch ends, yet each
card ends, and the progress counts, the moment its note is saved as posted. The step words come
from one table, and every finished entry leads to its note."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import Qt

from lossy_desktop.app.controller import QueueController
from lossy_desktop.app.models.notes_model import status_key
from lossy_desktop.app.notify import Notifier
from lossy_desktop.app.views.main_window import MainWindow
from lossy_desktop.core.wording import POSTING_STEPS, step_text

VIDEO = "https://www.youtube.com/watch?v=batch1"


class BatchWorker:
    """Posts a batch the way post_note does: one session, the notes saved as posted one by one
    as each is seen on the page, the queue results returned only after the session closes
    (here: after `closing` is set)."""

    name = "post_note"
    queue = "automation"
    group_limit = 10

    def __init__(self, services: Any) -> None:
        self.services = services
        self.closing = threading.Event()
        self.all_saved = threading.Event()

    def perform(self, jobs: list[Any], ctx: Any) -> dict[int, Any]:
        from lossy_desktop.queue.results import Ok

        notes = self.services.notes
        for job in jobs:
            notes.mark_posting(job.args["note_id"], job.attempt)
            ctx.step(job.id, "starting browser")
        for job in jobs:
            ctx.step(job.id, "opening video")
        for job in jobs:
            note_id = job.args["note_id"]
            for step in ("seeking", "typing", "submitting", "confirming"):
                ctx.step(job.id, step)
            notes.mark_posted(note_id, permalink=f"{VIDEO}&lc=c{note_id}", comment_id=f"c{note_id}")
        self.all_saved.set()
        if not self.closing.wait(30):
            raise TimeoutError("the test never let the session close")
        return {job.id: Ok() for job in jobs}


def shown(win: Any, note_id: int) -> str | None:
    note = win.model.note(note_id)
    return None if note is None else status_key(note)


@pytest.fixture
def batch(qtbot: Any, services: Any) -> Any:
    services.settings.set("comment_interval_s", 0)
    worker = BatchWorker(services)
    ctl = QueueController(services, workers=[worker])
    win = MainWindow(ctl)
    qtbot.addWidget(win)
    notifier = Notifier(ctl, win.model)
    win.shown = []  # type: ignore[attr-defined]
    notifier.notified.connect(lambda *args: win.shown.append(args))
    win.model.load(ctl)
    qtbot.waitUntil(lambda: win.model.is_loaded, timeout=5000)
    ctl.set_paused(True)  # the notes are all queued before the batch is claimed
    with qtbot.waitSignal(ctl.runnerStarted, timeout=10000):
        ctl.start()
    win.show()
    yield ctl, win, worker
    worker.closing.set()
    ctl.stop(timeout=10)


def test_cards_end_and_progress_counts_as_each_note_is_posted(
    qtbot: Any, batch: Any, add_notes: Any, services: Any
) -> None:
    ctl, win, worker = batch
    panel = win.side_panel
    notes = add_notes(7, confidence=0.95, video_url=VIDEO, video_title="One cut")
    qtbot.waitUntil(
        lambda: all(shown(win, n.id) == "queued" for n in notes),
        timeout=5000,
    )
    ctl.set_paused(False)
    assert worker.all_saved.wait(30)
    # The session is still open (no job result yet), but every note is posted in the list…
    qtbot.waitUntil(lambda: all(shown(win, n.id) == "posted" for n in notes), timeout=5000)
    # …and the panel says the same: no card left, the whole batch counted, 7 entries.
    qtbot.waitUntil(lambda: not panel.cards, timeout=5000)
    assert ctl.progress == (7, 7)
    assert not panel.state.text().startswith("Posting")
    assert panel.finished_list.count() == 7
    texts = [panel.finished_list.item(i).text() for i in range(7)]
    assert all(text.startswith("✓  Posted") for text in texts)
    # The session closes: the queue's results add nothing twice.
    worker.closing.set()
    qtbot.waitUntil(lambda: not ctl.running, timeout=10000)
    qtbot.waitUntil(lambda: panel.state.text() == "Idle", timeout=10000)
    assert panel.finished_list.count() == 7
    assert not panel.cards
    # One summary for the batch, once every job's result is in.
    qtbot.waitUntil(lambda: bool(win.shown), timeout=5000)
    assert [s[1] for s in win.shown] == ["Posted 7 note(s)"]


def test_step_words_come_from_one_table() -> None:
    from lossy_desktop.automation import agents
    from lossy_desktop.workers import post_note

    # Every step the agents and the posting worker report is a key of the one table.
    reported = {
        agents.STEP_OPENING,
        agents.STEP_SEEKING,
        agents.STEP_TYPING,
        agents.STEP_SUBMITTING,
        agents.STEP_CONFIRMING,
        post_note.STEP_STARTING,
        post_note.STEP_OPENING,
    }
    assert reported == set(POSTING_STEPS)
    assert step_text("opening video") == "Opening the video (2 of 6)"
    assert step_text("visiting youtube") == "Visiting youtube"


def test_a_finished_entry_selects_its_note(
    qtbot: Any, batch: Any, add_notes: Any, services: Any
) -> None:
    ctl, win, worker = batch
    worker.closing.set()
    notes = add_notes(2, confidence=0.95, video_url=VIDEO, video_title="One cut")
    ctl.set_paused(False)
    panel = win.side_panel
    qtbot.waitUntil(lambda: panel.finished_list.count() == 2, timeout=15000)
    # A filter that hides posted notes: following the entry clears it to show the note.
    win.status_filter.setCurrentIndex(
        win.status_filter.findText("queued", Qt.MatchFlag.MatchContains)
    )
    assert win.selected_notes() == []
    item = panel.finished_list.item(0)
    rect = panel.finished_list.visualItemRect(item)
    qtbot.mouseClick(panel.finished_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    selected = [note.id for note in win.selected_notes()]
    assert len(selected) == 1 and selected[0] in {n.id for n in notes}
    assert selected[0] == item.data(Qt.ItemDataRole.UserRole + 1)
    assert "posted" in item.text().lower() and item.toolTip()


def test_a_note_waiting_for_login_is_not_called_failed(
    qtbot: Any, services: Any, add_notes: Any, running_window: Any
) -> None:
    """Issue 12, finding 2: a confident note on a platform that is not connected waits for a
    login; the side panel says so in the list's words, not "✗ Failed … youtube is not
    connected"."""
    from lossy_desktop.workers.post_note import PostNoteWorker

    services.settings.set("comment_interval_s", 0)
    # Not connected: the worker holds the notes before it would ever start a browser.
    _ctl, win = running_window([PostNoteWorker(services, engine=None)])  # type: ignore[arg-type]
    note = add_notes(1, confidence=0.95)[0]
    panel = win.side_panel
    qtbot.waitUntil(lambda: panel.finished_list.count() == 1, timeout=10000)
    qtbot.waitUntil(lambda: shown(win, note.id) == "held", timeout=5000)
    text = panel.finished_list.item(0).text()
    assert text.startswith("⏸  Waiting for login · "), text
    assert "YouTube" in text and "youtube" not in text and "Failed" not in text
    assert panel.finished_list.item(0).data(Qt.ItemDataRole.UserRole) == "held"


def test_a_removal_given_up_reads_not_removed(qtbot: Any, window: Any, add_notes: Any) -> None:
    """A comment that could not be deleted stays on the platform and its note stays posted:
    the panel says "Not removed", not "Failed", nor "Waiting for login" for a lost login."""
    from lossy_desktop.queue import JobEvent

    note = add_notes(1)[0]
    qtbot.waitUntil(lambda: window.model.note(note.id) is not None, timeout=5000)
    panel = window.side_panel
    panel.on_job_event(
        JobEvent(
            "discarded",
            job_id=1,
            worker="retract_comment",
            queue="automation",
            args={"note_id": note.id},
            error_kind="not_logged_in",
            error="YouTube is not connected",
        )
    )
    text = panel.finished_list.item(0).text()
    assert text.startswith("✗  Not removed · "), text
    assert "YouTube" in text

"""The posting path live: a real Runner on the controller's QThreadPool (a test worker stands in
for the browser), the side panel, the tray and the notifications following its signals."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from lossy_desktop.app.controller import QueueController
from lossy_desktop.app.models.notes_model import status_key
from lossy_desktop.app.notify import Notifier
from lossy_desktop.app.tray import Tray
from lossy_desktop.app.views.main_window import MainWindow


@pytest.fixture
def live(qtbot: Any, services: Any, gate_worker: Any) -> Any:
    ctl = QueueController(services, workers=[gate_worker])
    win = MainWindow(ctl)
    qtbot.addWidget(win)
    tray = Tray(ctl, win.model)
    notifier = Notifier(ctl, win.model, tray)
    shown: list[tuple[str, str, str]] = []
    notifier.notified.connect(lambda *args: shown.append(args))
    win.model.load(ctl)
    qtbot.waitUntil(lambda: win.model.is_loaded, timeout=5000)
    with qtbot.waitSignal(ctl.runnerStarted, timeout=10000) as started:
        ctl.start()
    assert started.args == [""]
    win.show()

    class Live:
        controller, window, worker = ctl, win, gate_worker

    Live.tray, Live.notifier, Live.shown = tray, notifier, shown  # type: ignore[attr-defined]
    yield Live
    gate_worker.gate.set()
    ctl.stop(timeout=10)
    tray.hide()


def test_side_panel_follows_a_post_from_start_to_finish(qtbot, live, add_notes, services):
    note = add_notes(1, confidence=0.95)[0]  # auto-queued
    panel = live.window.side_panel
    qtbot.waitUntil(lambda: note and len(panel.cards) == 1, timeout=10000)
    card = next(iter(panel.cards.values()))
    qtbot.waitUntil(lambda: card.step.text().startswith("Typing"), timeout=5000)
    assert "note 0" in card.title.text()
    assert card.step.text() == "Typing the comment (4 of 6)"
    assert card.attempt.text() == "Attempt 1 of 3"
    assert panel.timer.isActive()
    # The 1 s timer ticks: the elapsed time moves past 0:00 and reads M:SS.
    qtbot.waitUntil(lambda: card.elapsed.text() not in ("", "0:00"), timeout=10000)
    assert re.fullmatch(r"\d+:\d\d", card.elapsed.text()), card.elapsed.text()
    qtbot.waitUntil(lambda: status_key(live.window.model.note(note.id)) == "posting", timeout=5000)
    assert live.tray.state == "posting"
    assert "Posting 1 of 1" in live.tray.icon.toolTip()
    assert live.window.progress_label.text() == "Posting 1 of 1"

    live.worker.gate.set()
    qtbot.waitUntil(lambda: not panel.cards, timeout=10000)
    assert not panel.timer.isActive()
    assert panel.finished_list.count() == 1
    assert panel.finished_list.item(0).text().startswith("✓  Posted")
    qtbot.waitUntil(lambda: status_key(live.window.model.note(note.id)) == "posted", timeout=5000)
    assert live.window.model.note(note.id).external_permalink.endswith(f"lc=c{note.id}")
    qtbot.waitUntil(lambda: live.tray.state == "idle", timeout=5000)
    live.tray.rebuild_menu()
    entries = live.tray.entries()
    assert entries[0] == "Open Lossy" and entries[-1] == "Quit"
    assert "Pause posting" in entries and "Recently posted" in entries
    assert any("note 0" in e for e in entries)
    qtbot.waitUntil(lambda: bool(live.shown), timeout=5000)  # once the job's result is in
    assert [s[0] for s in live.shown] == ["posted"]
    assert live.shown[0][1] == "Posted 1 note(s)"


def test_one_summary_per_batch_and_failures_named(qtbot, live, add_notes, services):
    live.worker.gate.set()
    notes = add_notes(3, confidence=0.95)
    qtbot.waitUntil(
        lambda: all(status_key(services.notes.get(n.id)) == "posted" for n in notes),
        timeout=15000,
    )
    qtbot.waitUntil(lambda: any(s[0] == "posted" for s in live.shown), timeout=5000)
    posted = [s for s in live.shown if s[0] == "posted"]
    assert len(posted) == 1 and posted[0][1] == "Posted 3 note(s) on 3 videos", live.shown

    live.worker.fail_with = ("selector_failed", "The comment box was not found")
    failing = add_notes(1, start=10, confidence=0.95)[0]
    qtbot.waitUntil(lambda: any(s[0] == "failed" for s in live.shown), timeout=10000)
    failed = next(s for s in live.shown if s[0] == "failed")
    assert "note 10" in failed[1] and failed[2] == "The comment box was not found"
    qtbot.waitUntil(lambda: live.tray.state == "attention", timeout=5000)
    assert "1 failed" in live.tray.icon.toolTip()
    assert status_key(live.window.model.note(failing.id)) == "failed"
    panel_texts = [
        live.window.side_panel.finished_list.item(i).text()
        for i in range(live.window.side_panel.finished_list.count())
    ]
    assert any(t.startswith("✗  Failed") and "comment box" in t for t in panel_texts)


def test_pause_holds_new_jobs_until_resume(qtbot, live, add_notes, services):
    live.worker.gate.set()
    with qtbot.waitSignal(live.controller.pausedChanged, timeout=2000):
        live.window.actions_by_name["pause"].trigger()
    assert live.window.actions_by_name["pause"].text() == "Resume posting"
    assert live.tray.state == "paused"
    assert live.window.side_panel.state.text().startswith("Paused")
    note = add_notes(1, confidence=0.95)[0]
    qtbot.waitUntil(
        lambda: status_key(live.window.model.note(note.id) or note) == "queued", timeout=5000
    )
    # The runner has looked at the queue since the note was queued, and started nothing.
    assert live.controller.runner.wait_for_pass(timeout=10)
    assert live.controller.runner.executing() == []
    assert not live.worker.started.is_set(), "a paused queue starts nothing"
    assert status_key(services.notes.get(note.id)) == "queued"
    live.tray.rebuild_menu()
    resume = next(a for a in live.tray.menu.actions() if a.text() == "Resume posting")
    resume.trigger()
    qtbot.waitUntil(lambda: status_key(services.notes.get(note.id)) == "posted", timeout=10000)
    assert not live.controller.paused


def test_notifications_off_means_none_shown(qtbot, live, add_notes, services):
    services.settings.set("notifications", False)
    live.worker.gate.set()
    note = add_notes(1, confidence=0.95)[0]
    qtbot.waitUntil(lambda: status_key(services.notes.get(note.id)) == "posted", timeout=10000)
    qtbot.waitUntil(
        lambda: live.controller.progress == (0, 0) or not live.controller.running, timeout=5000
    )
    assert live.shown == []


def test_login_expired_notifies_and_reconnect_opens_settings(qtbot, live, services):
    services.connections.ensure("youtube", "local")
    services.connections.mark_active("youtube", account_name="Reviewer")
    requested: list[str] = []
    live.notifier.reconnectRequested.connect(requested.append)
    live.tray.settingsRequested.connect(requested.append)
    services.connections.mark_expired("youtube", "The login expired")
    qtbot.waitUntil(lambda: any(s[0] == "login" for s in live.shown), timeout=5000)
    title = next(s for s in live.shown if s[0] == "login")[1]
    assert title == "YouTube login expired"
    assert live.tray.state == "attention"
    live.notifier._message_clicked()  # what a click on the bubble does
    live.tray.rebuild_menu()
    reconnect = next(a for a in live.tray.menu.actions() if a.text().startswith("Reconnect"))
    reconnect.trigger()
    assert requested == ["youtube", "youtube"]
    services.connections.mark_active("youtube")
    qtbot.waitUntil(lambda: live.tray.state != "attention", timeout=5000)


def test_quit_while_posting_stops_cleanly(qtbot, services, gate_worker, add_notes):
    ctl = QueueController(services, workers=[gate_worker])
    with qtbot.waitSignal(ctl.runnerStarted, timeout=10000):
        ctl.start()
    gate_worker.finish_when_stopping = True  # the job finishes while we stop
    add_notes(1, confidence=0.95)
    assert gate_worker.started.wait(10)
    ctl.stop(timeout=10)
    assert ctl.closed and ctl.pool.activeThreadCount() == 0
    assert not ctl.runner.running
    note = services.notes.list()[0]
    assert note.status == "posted"


class PacedWorker:
    """Stands in for post_note while its account's next comment is due: it waits (a "waiting"
    step with its end), then — the wait turned long — gives the browser up and snoozes."""

    name = "post_note"
    queue = "automation"
    group_limit = 1

    def __init__(self, services: Any) -> None:
        self.services = services
        self.gate = threading.Event()

    def perform(self, jobs: list[Any], ctx: Any) -> dict[int, Any]:
        from lossy_desktop.queue.pacing import PACED, STEP_WAITING
        from lossy_desktop.queue.results import Snooze

        job = jobs[0]
        note_id = job.args["note_id"]
        self.services.notes.mark_posting(note_id, job.attempt)
        ctx.step(job.id, STEP_WAITING, until=ctx.clock() + 30)
        if not self.gate.wait(30):
            raise TimeoutError("the test never opened the gate")
        self.services.notes.mark_waiting(note_id, next_attempt_at=ctx.clock() + 600)
        return {job.id: Snooze(600, PACED)}


def test_side_panel_shows_when_the_next_comment_goes(qtbot, services, add_notes, running_window):
    worker = PacedWorker(services)
    _ctl, win = running_window([worker])
    panel = win.side_panel
    try:
        note = add_notes(1, confidence=0.95)[0]
        qtbot.waitUntil(lambda: len(panel.cards) == 1, timeout=10000)
        card = next(iter(panel.cards.values()))
        qtbot.waitUntil(lambda: card.step.text().startswith("Next comment in"), timeout=5000)
        assert card.step.text() in ("Next comment in 30 s", "Next comment in 29 s")
        qtbot.waitUntil(lambda: card.step.text() != "Next comment in 30 s", timeout=4000)

        worker.gate.set()  # the wait became long: the browser is released, the job snoozed
        qtbot.waitUntil(lambda: not panel.cards, timeout=10000)
        qtbot.waitUntil(lambda: "next comment in" in panel.state.text(), timeout=5000)
        assert panel.state.text().startswith("Idle — next comment in 6")  # 600 s, or 599
        assert panel.finished_list.count() == 0  # not a failure, not finished
        qtbot.waitUntil(lambda: status_key(win.model.note(note.id)) == "queued", timeout=5000)
        assert panel.timer.isActive()  # the countdown ticks
    finally:
        worker.gate.set()

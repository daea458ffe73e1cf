""" "Delete from YouTube" on a posted note: a confirmation whose default button is Cancel, then
the note is `removing` with a retract_comment job queued, and a ghost (with its history) once
the worker reports the comment gone. The browser part is tested in test_workers_retract.py."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from lossy_desktop.app.models.notes_model import COL_ERROR, COL_STATUS
from lossy_desktop.workers.retract import WORKER_NAME, retract_key


def _cell(window, note_id: int, column: int) -> str:
    row = window.model.row_of(note_id)
    return str(window.model.index(row, column).data() or "")


def test_delete_from_youtube_confirms_with_cancel_as_default_and_ends_ghost(
    qtbot, window, add_notes, services
):
    notes = add_notes(2, confidence=1.0)
    note = notes[0]
    services.notes.mark_posting(note.id, 1)
    services.notes.mark_posted(
        note.id, permalink="https://www.youtube.com/watch?v=vid0&lc=Ugzabc", comment_id="Ugzabc"
    )
    act = window.actions_by_name["retract"]
    qtbot.waitUntil(
        lambda: getattr(window.model.note(note.id), "status", None) == "posted", timeout=5000
    )

    window.select_note_ids([notes[1].id])  # not posted: nothing to delete from the platform
    assert not act.isEnabled()
    window.select_note_ids([note.id])
    assert act.isEnabled() and act.text() == "Delete from YouTube…"
    window.table.setFocus()
    menu_texts = [a.text() for a in window.menuBar().actions()[1].menu().actions()]
    assert "Delete from YouTube…" in menu_texts  # in the Notes menu (and the context menu)

    act.trigger()
    box = window.retract_box
    assert box.text() == "Remove this comment from YouTube? The note stays here as a ghost."
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter takes the default: Cancel
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=2000)
    assert services.notes.get(note.id).state == "posted"
    assert services.queue.jobs_for(retract_key(note.id)) == []

    window.select_note_ids([note.id])
    act.trigger()
    window.retract_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: services.notes.get(note.id).state == "removing", timeout=5000)
    qtbot.waitUntil(lambda: _cell(window, note.id, COL_STATUS) == "removing", timeout=5000)
    jobs = services.queue.jobs_for(retract_key(note.id))
    assert [(j.worker, j.state) for j in jobs] == [(WORKER_NAME, "available")]
    qtbot.waitUntil(lambda: "removed from the platform" in window.message_bar.text(), timeout=2000)
    window.select_note_ids([note.id])
    assert not act.isEnabled()  # already being removed: once

    services.notes.mark_removed(note.id)  # what the worker records once the page shows it gone
    qtbot.waitUntil(lambda: _cell(window, note.id, COL_STATUS) == "ghost", timeout=5000)
    view = services.notes.get(note.id)
    assert view.external_comment_id is None and view.external_permalink is None
    history = _cell(window, note.id, COL_ERROR)
    assert "Posted at" in history and "removed from YouTube at" in history
    window.select_note_ids([note.id])
    assert window.actions_by_name["post_now"].isEnabled()  # a ghost again: it can be posted

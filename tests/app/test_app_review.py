"""Issue 12, the reviewer's experience: plain words, one word per state, safe editing, keyboard
review, review tools (open the video at the note's time, export), the Connect action."""

from __future__ import annotations

import csv
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from lossy_desktop.app.models.notes_model import (
    COL_ERROR,
    COL_LINK,
    COL_STATUS,
    status_key,
)


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def catcher() -> Any:
    catch = UrlCatcher()
    QDesktopServices.setUrlHandler("https", catch, "handle")
    yield catch
    QDesktopServices.unsetUrlHandler("https")


def _cell(window: Any, note_id: int, column: int, role: Any = Qt.ItemDataRole.DisplayRole) -> Any:
    row = window.model.row_of(note_id)
    return window.model.index(row, column).data(role)


def _fail(services: Any, note_id: int, kind: str, message: str) -> None:
    services.notes.post_now([note_id])
    services.notes.mark_posting(note_id, 1)
    services.notes.mark_failed(note_id, kind=kind, message=message)


# -- one word per state, plain messages --------------------------------------------------------
def test_failure_shows_a_plain_sentence_without_codes_or_call_logs(
    qtbot, window, add_notes, services
):
    notes = add_notes(2)
    _fail(
        services,
        notes[0].id,
        "comments_disabled",
        "Comments are turned off for this YouTube video (YouTube: comments are turned off)",
    )
    _fail(
        services,
        notes[1].id,
        "network_error",
        "Could not reach YouTube (network problem) — will try again (Page.goto: "
        "net::ERR_NAME_NOT_RESOLVED at https://x\nCall log:\n  - navigating to …)",
    )
    qtbot.waitUntil(lambda: window.model.counts()["failed"] == 2, timeout=5000)
    shown = _cell(window, notes[0].id, COL_ERROR)
    tip = _cell(window, notes[0].id, COL_ERROR, Qt.ItemDataRole.ToolTipRole)
    assert shown == "Comments are turned off for this YouTube video"
    assert "comments_disabled" not in tip and tip.count("turned off") == 1
    assert "edit the note first" in tip
    network = _cell(window, notes[1].id, COL_ERROR, Qt.ItemDataRole.ToolTipRole)
    assert network.startswith("Could not reach YouTube (network problem) — gave up")
    assert "Call log" not in network and "net::" not in network
    status_tip = _cell(window, notes[1].id, COL_STATUS, Qt.ItemDataRole.ToolTipRole)
    assert status_tip.startswith("Failed: the comment was not posted")


def test_ghost_is_explained_and_counted(qtbot, window, add_notes, services):
    notes = add_notes(3)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    assert _cell(window, notes[0].id, COL_STATUS) == "ghost"
    tip = _cell(window, notes[0].id, COL_STATUS, Qt.ItemDataRole.ToolTipRole)
    assert "not posted" in tip and "auto-post threshold" in tip
    assert "3 ghost" in window.counts_label.text()
    assert "Ghost:" in window.counts_label.toolTip()


def test_a_note_for_an_unconnected_platform_says_waiting_for_login_everywhere(
    qtbot, window, services
):
    window.actions_by_name["add"].trigger()
    dialog = window.add_dialog
    dialog.video_url.setText("https://www.youtube.com/watch?v=abcdefghijk")
    dialog.time.setText("1:05")
    dialog.text.setPlainText("Lower the music")
    with qtbot.waitSignal(dialog.created, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: "waiting for login" in window.message_bar.text(), timeout=2000)
    assert "queued for posting" not in window.message_bar.text()
    assert window.message_bar.action_button.text() == "Connect YouTube…"
    with qtbot.waitSignal(window.connectRequested, timeout=2000) as signal:
        window.message_bar.action_button.click()
    assert signal.args == ["youtube"]

    # the worker finds no login: the note waits, and the row, status bar and action agree
    note = window.model.notes()[0]
    services.notes.hold(note.id, kind="not_logged_in", message="You are not logged in")
    qtbot.waitUntil(lambda: status_key(window.model.note(note.id)) == "held", timeout=5000)
    assert _cell(window, note.id, COL_STATUS) == "waiting for login"
    assert "1 waiting for login" in window.counts_label.text()
    window.select_note_ids([note.id])
    connect = window.actions_by_name["connect"]
    assert connect.isVisible() and connect.isEnabled()
    assert connect.iconText() == "Connect YouTube"
    with qtbot.waitSignal(window.connectRequested, timeout=2000) as signal:
        connect.trigger()
    assert signal.args == ["youtube"]


def test_connected_platforms_are_marked_in_the_guide(qtbot, window, services):
    services.connections.ensure("vimeo", "local")
    services.connections.mark_active("vimeo", account_name="me")
    button = window.table.empty.connect_buttons["vimeo"]
    qtbot.waitUntil(lambda: button.text() == "✓ Vimeo connected", timeout=5000)
    assert window.table.empty.title.text() == "No notes yet"


# -- editing -----------------------------------------------------------------------------------
def test_a_failed_note_can_get_a_new_address_time_and_text(qtbot, window, add_notes, services):
    notes = add_notes(1)
    _fail(services, notes[0].id, "invalid_video", "The YouTube video could not be opened")
    qtbot.waitUntil(lambda: window.model.counts()["failed"] == 1, timeout=5000)
    window.show()
    window.select_note_ids([notes[0].id])
    assert window.actions_by_name["edit"].isEnabled()
    window.actions_by_name["edit"].trigger()
    dialog = window.edit_dialog
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=2000)
    dialog.video_url.setText("https://www.youtube.com/wa")
    dialog.time.setText("99:99")
    dialog.text.setPlainText("  ")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    shown = {f: e.text() for f, e in dialog.errors.items() if e.isVisible()}
    assert set(shown) == {"video_url", "timestamp_seconds", "text"}, "all problems at once"
    assert "not a time" in shown["timestamp_seconds"] and "59" in shown["timestamp_seconds"]
    assert "watch?v=" in shown["video_url"]
    assert "1:05" in dialog.time_hint.text() and dialog.time_hint.isVisible()

    dialog.video_url.setText("https://www.youtube.com/watch?v=fixed123")
    dialog.time.setText("1:02:03")
    dialog.text.setPlainText("Better words")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        qtbot.keyClick(dialog.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    stored = services.notes.get(notes[0].id)
    assert (stored.video_url, stored.timestamp_seconds, stored.text) == (
        "https://www.youtube.com/watch?v=fixed123",
        3723.0,
        "Better words",
    )
    assert stored.state == "failed"


def test_add_note_shows_it_reuses_the_selected_video_and_checks_the_address(
    qtbot, window, add_notes, services
):
    notes = add_notes(1)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.select_note_ids([notes[0].id])
    window.actions_by_name["add"].trigger()
    dialog = window.add_dialog
    assert dialog.reuse.isVisible() and "selected note's video" in dialog.reuse.text()
    dialog.video_url.setText("https://www.youtube.com/wahttps://vimeo.com/123tch?v=abcdefghijk")
    assert not dialog.reuse.isVisible()
    dialog.time.setText("5")
    dialog.text.setPlainText("typo in the address")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.errors["video_url"].isVisible()
    assert services.notes.count() == 1
    dialog.reject()


# -- keyboard review ---------------------------------------------------------------------------
def test_keyboard_review(qtbot, window, add_notes, services):
    notes = add_notes(3)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    window.show()
    qtbot.waitExposed(window)
    window.search.setFocus()
    qtbot.keyClick(window.search, Qt.Key.Key_Down)
    assert window.table.hasFocus()
    assert [n.id for n in window.selected_notes()] == [notes[0].id], "focus selects a row"
    assert window.actions_by_name["post_now"].isEnabled()
    qtbot.keyClick(window.table, Qt.Key.Key_J)
    assert [n.id for n in window.selected_notes()] == [notes[1].id]
    qtbot.keyClick(window.table, Qt.Key.Key_K)
    qtbot.keyClick(window.table, Qt.Key.Key_J)
    qtbot.keyClick(window.table, Qt.Key.Key_A)  # approve: Post now
    qtbot.waitUntil(lambda: services.notes.get(notes[1].id).queued, timeout=5000)
    qtbot.waitUntil(lambda: "YouTube is not connected" in window.message_bar.text(), timeout=2000)
    assert window.message_bar.action_button.text() == "Connect YouTube…"
    assert "\tA" in window.actions_by_name["post_now"].text()

    qtbot.keyClick(window.table, Qt.Key.Key_D)
    box = window.delete_box
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter takes the default: Cancel
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=2000)
    assert services.notes.count() == 3

    qtbot.keyClick(window.table, Qt.Key.Key_E)
    assert window.edit_dialog.isVisible()
    window.edit_dialog.reject()


def test_down_on_a_filter_opens_it_instead_of_changing_it(qtbot, window, add_notes):
    add_notes(3)
    qtbot.waitUntil(lambda: window.video_filter.count() == 4, timeout=5000)
    window.show()
    qtbot.waitExposed(window)
    window.video_filter.setFocus()
    qtbot.keyClick(window.video_filter, Qt.Key.Key_Down)
    assert window.video_filter.currentIndex() == 0
    assert window.proxy.rowCount() == 3
    qtbot.waitUntil(lambda: window.video_filter.view().isVisible(), timeout=2000)
    window.video_filter.hidePopup()


# -- posting choices ---------------------------------------------------------------------------
def test_retrying_a_permanent_failure_asks_for_an_edit_first(qtbot, window, add_notes, services):
    notes = add_notes(1)
    _fail(services, notes[0].id, "text_too_long", "The note is longer than YouTube allows")
    qtbot.waitUntil(lambda: window.model.counts()["failed"] == 1, timeout=5000)
    window.select_note_ids([notes[0].id])
    act = window.actions_by_name
    assert not act["post_now"].isEnabled(), "failed notes are retried, not posted now"
    assert act["retry"].isEnabled()
    act["retry"].trigger()
    box = window.retry_box
    assert "fail the same way" in box.informativeText()
    assert box.defaultButton().text() == "Edit note…"
    box.defaultButton().click()
    qtbot.waitUntil(lambda: window.edit_dialog.isVisible(), timeout=2000)
    window.edit_dialog.reject()
    assert services.notes.get(notes[0].id).state == "failed"


# -- links, video, export ----------------------------------------------------------------------
def test_permalink_label_open_video_at_time_and_browser_failure(
    qtbot, window, add_notes, services, catcher, monkeypatch
):
    notes = add_notes(2)
    link = "https://www.youtube.com/watch?v=vid0&lc=UgxLongCommentId"
    services.notes.post_now([notes[0].id])
    services.notes.mark_posting(notes[0].id, 1)
    services.notes.mark_posted(notes[0].id, permalink=link, comment_id="Ugx")
    qtbot.waitUntil(lambda: window.model.counts()["posted"] == 1, timeout=5000)
    assert _cell(window, notes[0].id, COL_LINK) == "View on YouTube"
    assert link in _cell(window, notes[0].id, COL_LINK, Qt.ItemDataRole.ToolTipRole)

    window.select_note_ids([notes[1].id])  # note 1 is at 0:05 on vid1
    window.actions_by_name["open_video"].trigger()
    assert catcher.urls == ["https://www.youtube.com/watch?v=vid1&t=5s"]

    from lossy_desktop.app.views import note_actions

    monkeypatch.setattr(note_actions, "open_in_browser", lambda _url: False)
    window.select_note_ids([notes[0].id])
    window.actions_by_name["open_link"].trigger()
    assert "No web browser could be opened" in window.message_bar.text()
    window.message_bar.action_button.click()
    assert QApplication.clipboard().text() == link


def test_export_in_the_file_menu_writes_the_cli_csv(qtbot, window, add_notes, tmp_path):
    from lossy_desktop.core.exporter import EXPORT_COLUMNS

    add_notes(3)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    file_menu = window.menuBar().actions()[0].menu()
    assert window.actions_by_name["export"] in file_menu.actions()
    target = tmp_path / "out.csv"
    window.export_notes(str(target))
    qtbot.waitUntil(lambda: "3 note(s) written" in window.message_bar.text(), timeout=5000)
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(EXPORT_COLUMNS) and len(rows) == 3


# -- grouped by video --------------------------------------------------------------------------
def test_group_by_video_with_counts_collapse_and_selection(qtbot, window, add_notes, services):
    notes = add_notes(6)  # three videos (Cut 0, Cut 1, Cut 2), two notes each
    qtbot.waitUntil(lambda: window.model.rowCount() == 6, timeout=5000)
    _fail(services, notes[1].id, "invalid_video", "The YouTube video could not be opened")
    qtbot.waitUntil(lambda: window.model.counts()["failed"] == 1, timeout=5000)
    window.select_note_ids([notes[4].id])
    group = window.grouping.action
    assert group in window.menuBar().actions()[3].menu().actions()  # View
    group.trigger()
    model = window.table.model()
    assert model is window.grouping.proxy and model.rowCount() == 9
    headers = [model.index(r, 0).data() for r in model.header_rows()]
    assert headers == [
        "▾ YouTube · Cut 0 — 2 note(s): 2 ghost",
        "▾ YouTube · Cut 1 — 2 note(s): 1 failed, 1 ghost",
        "▾ YouTube · Cut 2 — 2 note(s): 2 ghost",
    ]
    assert [n.id for n in window.selected_notes()] == [notes[4].id], "selection kept"
    assert window.table.columnSpan(model.header_rows()[1], 0) == model.columnCount()

    # a change to one note updates its header's counts in place
    services.notes.post_now([notes[4].id])
    qtbot.waitUntil(
        lambda: "1 queued" in model.index(model.header_rows()[1], 0).data(), timeout=5000
    )
    assert [n.id for n in window.selected_notes()] == [notes[4].id]

    header = model.header_rows()[0]
    window.table.clicked.emit(model.index(header, 0))
    assert model.rowCount() == 7 and model.index(header, 0).data().startswith("▸")
    window.table.clicked.emit(model.index(header, 0))
    assert model.rowCount() == 9

    window.search.setText("note 3")  # filters still apply, grouped
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=2000)
    window.search.clear()
    qtbot.waitUntil(lambda: model.rowCount() == 9, timeout=2000)

    window.show()
    qtbot.waitExposed(window)
    window.table.clearSelection()
    window.table.setCurrentIndex(model.index(0, 0))
    window.table.clearSelection()
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_J)  # j skips the header rows
    assert len(window.selected_notes()) == 1

    group.trigger()
    assert window.table.model() is window.proxy
    assert services.app_state.get("group_by_video") is False


def test_failure_notification_is_a_plain_sentence(qtbot, controller, window):
    from types import SimpleNamespace

    from lossy_desktop.app.notify import Notifier

    notifier = Notifier(controller, window.model, None)
    shown: list[tuple[str, str, str]] = []
    notifier.notified.connect(lambda *args: shown.append(args))
    event = SimpleNamespace(
        queue="automation",
        kind="discarded",
        args={"note_id": 99},
        error_kind="network_error",
        error="the page could not be loaded (Page.goto: net::ERR_NAME_NOT_RESOLVED\nCall log:)",
    )
    notifier.on_job_event(event)
    notifier._flush_failed()
    assert shown[-1][0] == "failed"
    assert shown[-1][2] == "Could not reach the platform (network problem) — gave up"


@pytest.mark.parametrize("kind", ["session_expired", "not_logged_in", "site_challenge"])
def test_a_note_held_for_a_login_is_not_notified_as_failed(qtbot, controller, window, kind):
    from types import SimpleNamespace

    from lossy_desktop.app.notify import Notifier

    notifier = Notifier(controller, window.model, None)
    shown: list[tuple[str, str, str]] = []
    notifier.notified.connect(lambda *args: shown.append(args))
    for error_kind in (kind, "network_error"):
        event = SimpleNamespace(
            queue="automation",
            kind="discarded",
            args={"note_id": 99},
            error_kind=error_kind,
            error="x",
        )
        notifier.on_job_event(event)
    notifier._flush_failed()
    assert [s[0] for s in shown] == ["failed"]  # one note failed; the held one waits
    assert shown[-1][1] == "A note failed to post"


def test_an_empty_grouped_list_takes_its_first_notes_in_place(qtbot, window, add_notes):
    window.grouping.action.trigger()
    model = window.table.model()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    add_notes(3)  # Cut 0, Cut 1, Cut 2
    qtbot.waitUntil(lambda: model.rowCount() == 6, timeout=5000)
    assert resets == []
    assert len(model.header_rows()) == 3
    assert all(window.table.columnSpan(r, 0) == model.columnCount() for r in model.header_rows())
    shown = [model.index(r, 0).data() for r in range(model.rowCount())]
    model.rebuild()
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == shown


def test_grouped_list_takes_new_notes_in_place(qtbot, window, add_notes):
    """Notes arriving while grouped go into their video's block (a new video gets its header in
    its place) without resetting the list: the selection stays, and the rows are the ones a
    full regrouping gives."""
    notes = add_notes(4)  # Cut 0, Cut 1, Cut 2, Cut 0
    qtbot.waitUntil(lambda: window.model.rowCount() == 4, timeout=5000)
    window.grouping.action.trigger()
    model = window.table.model()
    window.select_note_ids([notes[1].id])
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))

    def rows() -> list[str]:
        return [
            str(model.index(r, 2 if model.header_url(r) is None else 0).data())
            for r in range(model.rowCount())
        ]

    add_notes(1, start=5, video_title="Another", video_url="https://www.youtube.com/watch?v=new")
    add_notes(2, start=6)  # Cut 0, Cut 1
    qtbot.waitUntil(lambda: model.rowCount() == 11, timeout=5000)
    assert resets == [], "no reset per arriving note"
    assert [n.id for n in window.selected_notes()] == [notes[1].id], "selection kept"
    shown = rows()
    assert shown[0].startswith("▾ YouTube · Another — 1 note(s)")
    assert shown[2].startswith("▾ YouTube · Cut 0 — 3 note(s)")
    assert shown[3:6] == [
        "note 0: the colour shifts here",
        "note 3: the colour shifts here",
        "note 6: the colour shifts here",
    ]
    assert all(window.table.columnSpan(r, 0) == model.columnCount() for r in model.header_rows())
    model.rebuild()
    assert rows() == shown, "the same rows as a full regrouping"

    model.toggle(model.header_rows()[1])  # Cut 0 collapsed: a new note there only counts
    add_notes(1, start=9)  # Cut 0
    qtbot.waitUntil(lambda: "4 note(s)" in rows()[2], timeout=5000)
    assert model.rowCount() == 8

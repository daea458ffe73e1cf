"""The main window against a real database: model updates, filters, every note action,
the add/edit/import dialogs, tray-on-close."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QImage
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox, QToolButton

from lossy_desktop.app.models.notes_model import COL_STATUS, COL_TIME, NotesModel, status_key


class UrlCatcher(QObject):
    """Receives what QDesktopServices.openUrl would hand to the desktop."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def _states(window: Any) -> dict[int, str]:
    return {n.id: status_key(n) for n in window.model.notes()}


def test_model_loads_off_thread_then_changes_row_by_row(qtbot, controller, add_notes, services):
    notes = add_notes(6)
    model = NotesModel()
    resets: list[int] = []
    changed: list[tuple[int, int]] = []
    inserted: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b, *_: changed.append((a.row(), b.row())))
    model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    model.rowsRemoved.connect(lambda _p, a, b: removed.append((a, b)))
    controller.notesChanged.connect(model.apply)
    controller.notesDeleted.connect(model.remove_ids)
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.load(controller)
    assert model.rowCount() == 6 and resets == [1]
    assert model.index(1, COL_TIME).data() == "0:05"

    services.notes.post_now([notes[2].id])  # a change from this (non-GUI) call site
    qtbot.waitUntil(lambda: status_key(model.note(notes[2].id)) == "queued", timeout=5000)
    row = model.row_of(notes[2].id)
    assert (row, row) in changed
    assert model.index(row, COL_STATUS).data().startswith("queued")

    add_notes(2, start=10)
    qtbot.waitUntil(lambda: model.rowCount() == 8, timeout=5000)
    assert inserted == [(6, 7)]

    services.notes.delete(notes[0].id)
    qtbot.waitUntil(lambda: model.rowCount() == 7, timeout=5000)
    assert removed == [(0, 0)] and model.note(notes[0].id) is None
    assert model.row_of(notes[1].id) == 0
    assert resets == [1], "no full reset after the first load"


def test_changes_arriving_while_loading_are_kept(qtbot, controller, add_notes, services):
    notes = add_notes(3)
    model = NotesModel()
    controller.notesChanged.connect(model.apply)
    newer = services.notes.post_now([notes[0].id])[0]
    model.apply([newer])  # buffered: the model has not loaded yet
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.load(controller)
    assert status_key(model.note(notes[0].id)) == "queued"


def test_sorting_keeps_selection_and_filters_by_status_platform_video_search(
    qtbot, window, add_notes, services
):
    add_notes(6)
    add_notes(
        1, start=20, platform="vimeo", video_url="https://vimeo.com/123", video_title="Vimeo cut"
    )
    qtbot.waitUntil(lambda: window.model.rowCount() == 7, timeout=5000)
    target = next(n for n in window.model.notes() if n.platform == "vimeo")
    window.select_note_ids([target.id])
    window.table.sortByColumn(COL_TIME, Qt.SortOrder.DescendingOrder)
    first = window.proxy.index(0, 0).data(Qt.ItemDataRole.UserRole + 1)
    assert first.id == target.id  # 100 s is the latest time
    assert [n.id for n in window.selected_notes()] == [target.id]

    window.platform_filter.setCurrentIndex(window.platform_filter.findData("vimeo"))
    assert window.proxy.rowCount() == 1
    window.platform_filter.setCurrentIndex(0)
    window.video_filter.setCurrentIndex(window.video_filter.findData("https://vimeo.com/123"))
    assert window.proxy.rowCount() == 1
    window.video_filter.setCurrentIndex(0)
    services.notes.post_now([window.model.notes()[1].id])
    qtbot.waitUntil(lambda: window.model.counts()["queued"] == 1, timeout=5000)
    window.status_filter.setCurrentIndex(window.status_filter.findText("Queued"))
    assert window.proxy.rowCount() == 1
    window.status_filter.setCurrentIndex(0)
    qtbot.keyClicks(window.search, "note 3: colour")
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 1, timeout=2000)
    assert "1 of 7 shown" in window.shown_label.text()
    window.search.setText("no such words")
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 0, timeout=2000)
    assert window.table.empty.isVisible() and "match" in window.table.empty.title.text()
    window.table.empty.clear_button.click()
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 7, timeout=2000)


def test_empty_state_is_a_first_run_guide(qtbot, window):
    assert window.model.rowCount() == 0
    empty = window.table.empty
    assert empty.isVisible()
    assert empty.title.text() == "Welcome to Lossy Desktop"
    assert empty.step_connect.text() == "1. Connect a platform"
    assert [b.text() for b in empty.connect_buttons.values()] == [
        "Connect YouTube…",
        "Connect Vimeo…",
        "Connect Air…",
    ]
    assert all(b.isVisible() for b in empty.connect_buttons.values())
    assert empty.import_button.isVisible() and empty.add_button.isVisible()
    with qtbot.waitSignal(window.connectRequested, timeout=2000) as signal:
        empty.connect_buttons["vimeo"].click()
    assert signal.args == ["vimeo"]


def test_post_now_cancel_retry_delete_through_actions(qtbot, window, add_notes, services):
    notes = add_notes(3)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    act = window.actions_by_name
    window.select_note_ids([notes[0].id, notes[1].id])
    assert act["post_now"].isEnabled() and not act["retry"].isEnabled()
    act["post_now"].trigger()
    qtbot.waitUntil(
        lambda: [_states(window)[n.id] for n in notes[:2]] == ["queued", "queued"], timeout=5000
    )
    assert services.notes.get(notes[0].id).queued
    qtbot.waitUntil(lambda: "queued for posting" in window.message_bar.text(), timeout=2000)
    assert act["cancel"].isEnabled() and not act["post_now"].isEnabled()

    window.select_note_ids([notes[0].id])
    qtbot.keyClick(
        window.table,
        Qt.Key.Key_X,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: _states(window)[notes[0].id] == "ghost", timeout=5000)

    services.notes.mark_posting(notes[1].id, 1)
    services.notes.mark_failed(notes[1].id, kind="selector_failed", message="The page changed")
    qtbot.waitUntil(lambda: _states(window)[notes[1].id] == "failed", timeout=5000)
    window.select_note_ids([notes[1].id])
    assert act["retry"].isEnabled()
    row = window.proxy.mapFromSource(window.model.index(window.model.row_of(notes[1].id), 6))
    assert row.data() == "The page changed"
    act["retry"].trigger()
    qtbot.waitUntil(lambda: _states(window)[notes[1].id] == "queued", timeout=5000)

    window.select_note_ids([notes[2].id])
    act["delete"].trigger()
    box = window.delete_box
    assert "Delete 1 note" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    window.select_note_ids([notes[2].id])
    act["delete"].trigger()
    window.delete_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
    assert services.notes.count() == 2


def test_refused_action_says_why(qtbot, window, add_notes, services):
    """A note deleted behind the window's back (the window hears of it only on its next event
    loop turn): Retry, clicked in that moment, is refused and the window says why."""
    notes = add_notes(1)
    services.notes.post_now([notes[0].id])
    services.notes.mark_posting(notes[0].id, 1)
    services.notes.mark_failed(notes[0].id, kind="selector_failed", message="The page changed")
    qtbot.waitUntil(lambda: _states(window).get(notes[0].id) == "failed", timeout=5000)
    window.select_note_ids([notes[0].id])
    retry = window.actions_by_name["retry"]
    assert retry.isEnabled()
    services.notes.delete(notes[0].id)  # the removal reaches the window through its event queue
    assert window.model.rowCount() == 1  # so it still shows the note
    retry.trigger()
    qtbot.waitUntil(lambda: "Not possible" in window.message_bar.text(), timeout=5000)
    assert f"note {notes[0].id}" in window.message_bar.text()
    qtbot.waitUntil(lambda: window.model.rowCount() == 0, timeout=5000)


def test_permalink_copy_open_and_screenshot(qtbot, window, add_notes, services, tmp_path):
    notes = add_notes(2)
    services.notes.post_now([notes[0].id, notes[1].id])
    services.notes.mark_posting(notes[0].id, 1)
    services.notes.mark_posted(
        notes[0].id, permalink="https://www.youtube.com/watch?v=vid0&lc=abc", comment_id="abc"
    )
    shot = tmp_path / "failure.png"
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    assert image.save(str(shot))
    services.notes.mark_posting(notes[1].id, 1)
    services.notes.mark_failed(
        notes[1].id, kind="selector_failed", message="No comment box", artifact_path=str(shot)
    )
    qtbot.waitUntil(lambda: window.model.counts()["posted"] == 1, timeout=5000)
    qtbot.waitUntil(lambda: window.model.counts()["failed"] == 1, timeout=5000)
    catcher = UrlCatcher()
    for scheme in ("https", "file"):
        QDesktopServices.setUrlHandler(scheme, catcher, "handle")
    try:
        window.select_note_ids([notes[0].id])
        window.actions_by_name["copy_link"].trigger()
        assert QGuiApplication.clipboard().text() == "https://www.youtube.com/watch?v=vid0&lc=abc"
        window.actions_by_name["open_link"].trigger()
        assert catcher.urls == ["https://www.youtube.com/watch?v=vid0&lc=abc"]
        assert not window.actions_by_name["open_artifact"].isEnabled()
        window.select_note_ids([notes[1].id])
        assert window.actions_by_name["open_artifact"].isEnabled()
        window.actions_by_name["open_artifact"].trigger()
        dialog = window.screenshot_dialog  # shown inside the app, not by an external viewer
        assert dialog.isVisible() and dialog.loaded
        assert dialog.image.pixmap().width() == 40
        assert dialog.caption.text() == "No comment box."
        assert catcher.urls == ["https://www.youtube.com/watch?v=vid0&lc=abc"]
        dialog.close()
    finally:
        for scheme in ("https", "file"):
            QDesktopServices.unsetUrlHandler(scheme)


def test_context_menu_lists_the_actions(qtbot, window, add_notes):
    add_notes(1)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.table.selectRow(0)
    window._context_menu(window.table.visualRect(window.proxy.index(0, 0)).center())
    texts = [a.text().split("\t")[0] for a in window.context_menu.actions() if not a.isSeparator()]
    assert "&Post now" in texts and "&Delete" in texts and "Cop&y link" in texts
    window.context_menu.close()


def test_add_note_dialog_shows_the_refused_field_inline(qtbot, window, services):
    window.actions_by_name["add"].trigger()
    dialog = window.add_dialog
    dialog.video_url.setText("https://example.com/not-youtube")
    dialog.time.setText("1:05")
    dialog.text.setPlainText("Lower the music here")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.errors["video_url"].isVisible()
    assert dialog.errors["video_url"].text().startswith("The address is not a YouTube address")
    assert services.notes.count() == 0

    dialog.video_url.setText("https://www.youtube.com/watch?v=abc")
    dialog.text.setPlainText("   ")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.errors["text"].isVisible() and not dialog.errors["video_url"].isVisible()
    assert dialog.errors["text"].text() == "The text is empty"  # a sentence, not "is empty"

    dialog.text.setPlainText("Lower the music here")
    dialog.confidence.setValue(0.9)
    with qtbot.waitSignal(dialog.created, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    note = window.model.notes()[0]
    assert note.timestamp_seconds == 65 and note.text == "Lower the music here"
    assert status_key(note) == "queued"  # 0.9 >= the auto-post threshold


def test_pasting_another_platforms_address_chooses_that_platform(qtbot, window, services):
    window.actions_by_name["add"].trigger()
    dialog = window.add_dialog
    assert dialog.platform.currentData() == "youtube"
    dialog.video_url.setText("https://vimeo.com/123456789")
    assert dialog.platform.currentData() == "vimeo"
    assert "vimeo.com" in dialog.url_hint.text()
    dialog.video_url.setText("https://example.com/1")  # nobody's: the choice stays
    assert dialog.platform.currentData() == "vimeo"
    dialog.reject()


def test_edit_text_dialog(qtbot, window, add_notes, services):
    notes = add_notes(1)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.select_note_ids([notes[0].id])
    qtbot.keyClick(window.table, Qt.Key.Key_F2)
    dialog = window.edit_dialog
    dialog.text.setPlainText("x" * 10_001)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.error.isVisible() and "10,000" in dialog.error.text()
    dialog.text.setPlainText("Better words")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: window.model.notes()[0].text == "Better words", timeout=5000)
    assert services.notes.get(notes[0].id).text == "Better words"


def test_import_preview_lists_bad_rows_before_writing(qtbot, window, services, tmp_path):
    path = tmp_path / "notes.jsonl"
    good = {
        "platform": "youtube",
        "video_url": "https://www.youtube.com/watch?v=abc",
        "timestamp_seconds": 12,
        "text": "Nice cut",
        "confidence": 0.4,
    }
    lines = [good, {**good, "timestamp_seconds": -3}, {**good, "text": "Second", "confidence": 2}]
    lines.append({**good, "text": "Third"})
    path.write_text("\n".join(json.dumps(item) for item in lines) + "\n", encoding="utf-8")
    dialog = window.open_import(path)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=5000)
    assert services.notes.count() == 0, "nothing is written before the user confirms"
    errors = [
        tuple(dialog.errors.item(r, c).text() for c in range(3))
        for r in range(dialog.errors.rowCount())
    ]
    assert [(e[0], e[1]) for e in errors] == [("2", "timestamp_seconds"), ("3", "confidence")]
    assert dialog.rows.rowCount() == 2
    assert "2 valid" in dialog.import_button.text()
    with qtbot.waitSignal(dialog.imported, timeout=5000):
        dialog.import_button.click()
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
    assert "2 note(s) imported" in window.message_bar.text()


def test_import_of_unreadable_file_says_so(qtbot, window, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("[{", encoding="utf-8")
    dialog = window.open_import(path)
    qtbot.waitUntil(
        lambda: dialog.preview is not None or "can't" in dialog.summary.text(), timeout=5000
    )
    assert not dialog.import_button.isEnabled()
    dialog.reject()


def test_close_hides_to_tray_and_hint_can_be_silenced(qtbot, window, services):
    window.tray_available = True
    window.close()
    assert not window.isVisible()
    box = window.tray_hint_box
    assert "still running" in box.text()
    window.tray_hint_check.setChecked(True)
    box.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: services.app_state.get("tray_hint_hidden") is True, timeout=2000)
    window._hint_shown = False
    window.show()
    window.close()
    assert not window._hint_shown  # not shown again


def test_close_without_tray_asks_to_quit(qtbot, window):
    window.tray_available = False
    with qtbot.waitSignal(window.quitRequested, timeout=2000):
        window.close()


def test_shortcuts_are_set(window):
    act = window.actions_by_name
    assert act["retry"].shortcut().toString() == "Ctrl+R"
    assert act["import"].shortcut().toString() == "Ctrl+I"
    assert act["edit"].shortcut().toString() == "F2"
    assert act["post_now"].shortcut().toString() == "Ctrl+Return"


def test_geometry_is_remembered(qtbot, controller, services):
    from lossy_desktop.app.views.main_window import MainWindow

    first = MainWindow(controller)
    qtbot.addWidget(first)
    first.resize(760, 500)
    first.save_geometry()
    second = MainWindow(controller)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (760, 500)
    assert isinstance(services.app_state.get("main_window_geometry"), str)
    assert Path(services.data.database).exists()


def test_large_lists_load_in_two_steps_without_reset(qtbot, controller, add_notes, monkeypatch):
    monkeypatch.setattr(NotesModel, "FIRST_PAGE", 3)
    add_notes(7)
    model = NotesModel()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    at_first: list[int] = []  # rows shown when `loaded` fired
    model.loaded.connect(lambda: at_first.append(model.rowCount()))
    with qtbot.waitSignal(model.fullyLoaded, timeout=5000):
        model.load(controller)
    assert at_first == [3]  # the first page showed before the rest arrived
    assert model.rowCount() == 7 and resets == [1]
    assert [n.id for n in model.notes()] == sorted(n.id for n in model.notes())


# -- the toolbar at 1280x800 ------------------------------------------------------------------
TOOLBAR_ACTIONS = {
    "add",
    "import",
    "post_now",
    "retry",
    "cancel",
    "connect",
    "edit",
    "delete",
    "open_video",
    "open_link",
    "open_artifact",
    "pause",
    "settings",
}


def _toolbar_buttons(window: Any) -> dict[str, QToolButton]:
    """The toolbar's buttons of the actions shown in it, by action name."""
    toolbar = window.toolbar
    buttons = {}
    for action in toolbar.actions():
        widget = toolbar.widgetForAction(action)
        if action.isVisible() and isinstance(widget, QToolButton):
            buttons[action.objectName()] = widget
    return buttons


def _on_toolbar(window: Any, button: QToolButton) -> bool:
    toolbar = window.toolbar
    return (
        button.isVisible()
        and toolbar.rect().contains(button.geometry())
        and window.rect().contains(toolbar.geometry())
    )


def test_the_window_opens_inside_its_screen(qtbot, controller):
    """The default size (1360x820) on a smaller screen: the window is fitted to the screen, so
    the toolbar's right end (Settings) is on it, or behind the toolbar's overflow arrow, not
    beyond the screen's edge."""
    from lossy_desktop.app.views.main_window import MainWindow

    win = MainWindow(controller)
    qtbot.addWidget(win)
    win.show()
    room = win.screen().availableGeometry()
    assert room.width() < 1360, "the offscreen screen is smaller than the default size"
    assert win.width() <= room.width() and win.height() <= room.height()
    extension = win.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    settings = _toolbar_buttons(win)["settings"]
    qtbot.waitUntil(lambda: _on_toolbar(win, settings) or extension.isVisible(), timeout=2000)


def test_every_toolbar_action_is_visible_at_1280x800_or_reachable_when_narrower(
    qtbot, window, add_notes, services
):
    note = add_notes(1)[0]
    services.notes.hold(note.id, kind="not_logged_in", message="You are not logged in")
    shown = window.model.note
    qtbot.waitUntil(
        lambda: shown(note.id) is not None and status_key(shown(note.id)) == "held", timeout=5000
    )
    window.select_note_ids([note.id])  # Connect YouTube appears: the widest toolbar
    assert set(_toolbar_buttons(window)) == TOOLBAR_ACTIONS

    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.size().toTuple() == (1280, 800), timeout=2000)
    qtbot.waitUntil(
        lambda: all(_on_toolbar(window, b) for b in _toolbar_buttons(window).values()),
        timeout=2000,
    )
    extension = window.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert extension is not None and not extension.isVisible()

    # Narrower than the toolbar: the overflow arrow shows, and opens the rest.
    window.resize(window.minimumWidth(), 600)
    qtbot.waitUntil(extension.isVisible, timeout=2000)
    hidden = [n for n, b in _toolbar_buttons(window).items() if not _on_toolbar(window, b)]
    assert "settings" in hidden
    qtbot.mouseClick(extension, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: all(_toolbar_buttons(window)[name].isVisible() for name in hidden), timeout=2000
    )

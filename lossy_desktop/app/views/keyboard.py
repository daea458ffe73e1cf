"""Reviewing notes from the keyboard.

In the list: a row is selected as soon as the list gets focus; j/k (or the arrows) move; a
approves (Post now), e edits, d deletes (the confirmation defaults to Cancel), o opens the
video at the note's time. Down in the search box goes to the list. Up/Down on a closed filter
opens its list instead of silently changing the filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QLineEdit

if TYPE_CHECKING:
    from PySide6.QtCore import QAbstractItemModel

    from lossy_desktop.app.views.main_window import MainWindow

# key -> the main window action it triggers while the list has focus
REVIEW_KEYS: dict[int, str] = {
    Qt.Key.Key_A: "post_now",
    Qt.Key.Key_E: "edit",
    Qt.Key.Key_D: "delete",
    Qt.Key.Key_O: "open_video",
}
KEY_HINTS: dict[str, str] = {"post_now": "A", "edit": "E", "delete": "D", "open_video": "O"}


class ReviewKeys(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        window.table.installEventFilter(self)
        window.search.installEventFilter(self)
        for combo in (window.status_filter, window.platform_filter, window.video_filter):
            combo.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        window: MainWindow | None = getattr(self, "window", None)
        if window is None:  # Python is shutting down while Qt still delivers the list's events
            return False
        table = window.table
        if watched is table and event.type() == QEvent.Type.FocusIn:
            self.select_current_row()
            return False
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        plain = not (
            event.modifiers()
            & (
                Qt.KeyboardModifier.ControlModifier
                | Qt.KeyboardModifier.AltModifier
                | Qt.KeyboardModifier.MetaModifier
            )
        )
        if watched is table and plain:
            return self._table_key(key, event.modifiers())
        if isinstance(watched, QLineEdit) and key == Qt.Key.Key_Down:
            table.setFocus(Qt.FocusReason.TabFocusReason)
            return True
        if isinstance(watched, QComboBox) and plain and key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            watched.showPopup()
            return True
        return False

    def _table_key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        if key in (Qt.Key.Key_J, Qt.Key.Key_K):
            self.move(1 if key == Qt.Key.Key_J else -1)
            return True
        name = REVIEW_KEYS.get(key)
        if name is None or modifiers & Qt.KeyboardModifier.ShiftModifier:
            return False
        action = self.window.actions_by_name[name]
        if name == "post_now" and not action.isEnabled():
            action = self.window.actions_by_name["retry"]  # approving a failed note retries it
        if action.isEnabled():
            action.trigger()
        else:
            self.window.statusBar().showMessage(
                f"{action.iconText()} is not possible for the selected note(s)", 4000
            )
        return True

    def select_current_row(self) -> None:
        """Focus in the list selects a row: the current one, else the first."""
        table = self.window.table
        model = table.model()
        if model is None or model.rowCount() == 0 or table.selectionModel().hasSelection():
            return
        current = table.currentIndex()
        row = current.row() if current.isValid() else 0
        while row < model.rowCount() - 1 and _is_header(model, row):
            row += 1
        self._select(row)

    def move(self, step: int) -> None:
        table = self.window.table
        model = table.model()
        if model is None or model.rowCount() == 0:
            return
        current = table.currentIndex()
        row = current.row() + step if current.isValid() else 0
        row = max(0, min(row, model.rowCount() - 1))
        while 0 <= row < model.rowCount() and _is_header(model, row):  # grouped: skip videos
            row += step if step else 1
        if 0 <= row < model.rowCount():
            self._select(row)

    def _select(self, row: int) -> None:
        table = self.window.table
        index = table.model().index(row, 0)
        table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        table.scrollTo(index)


def _is_header(model: QAbstractItemModel, row: int) -> bool:
    """A video's header row in the grouped list (models/grouped.py)."""
    return model.index(row, 0).data(Qt.ItemDataRole.UserRole + 3) is not None

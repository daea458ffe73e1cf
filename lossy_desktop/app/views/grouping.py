"""View ▸ Group by video: switches the notes table between the flat list and the list grouped
by video (models/grouped.py), keeps the selection across regrouping, spans the header rows and
collapses a video when its header is clicked. The choice is remembered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence

from lossy_desktop.app.models.grouped import GroupedNotesProxy

if TYPE_CHECKING:
    from lossy_desktop.app.views.main_window import MainWindow

GROUP_KEY = "group_by_video"


class Grouping(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.table = window.table
        self.proxy = GroupedNotesProxy(self)
        self.proxy.setSourceModel(window.proxy)
        self.proxy.modelAboutToBeReset.connect(self._remember)
        self.proxy.regrouped.connect(self._regrouped)
        self.table.clicked.connect(self._clicked)
        self._kept: list[int] = []
        action = QAction("&Group by video", window)
        action.setObjectName("group")
        action.setCheckable(True)
        action.setShortcut(QKeySequence("Ctrl+G"))
        action.setToolTip("Show the notes under their video, with counts per video (Ctrl+G)")
        action.toggled.connect(self.set_enabled)
        window.addAction(action)
        self.action = action

    @property
    def enabled(self) -> bool:
        return self.table.model() is self.proxy

    def restore(self) -> None:
        try:
            saved = bool(self.window.services.app_state.get(GROUP_KEY, False))
        except Exception:
            saved = False
        self.action.setChecked(saved)

    @Slot(bool)
    def set_enabled(self, on: bool) -> None:
        if on == self.enabled:
            return
        kept = [n.id for n in self.window.selected_notes()]
        self.proxy.set_active(on)
        self.table.setModel(self.proxy if on else self.window.proxy)
        self.table.selectionModel().selectionChanged.connect(self.window._update_actions)
        self._respan()
        self.window.select_note_ids(kept)
        self.window._update_actions()
        self.table.update_empty_state()
        try:
            self.window.services.app_state.set(GROUP_KEY, on)
        except Exception:
            pass

    @Slot()
    def _remember(self) -> None:
        if self.enabled:
            self._kept = [n.id for n in self.window.selected_notes()]

    @Slot()
    def _regrouped(self) -> None:
        self._respan()
        if self.enabled and self._kept:
            kept, self._kept = self._kept, []
            self.window.select_note_ids(kept)

    def _respan(self) -> None:
        self.table.clearSpans()
        if not self.enabled:
            return
        columns = self.proxy.columnCount()
        for row in self.proxy.header_rows():
            self.table.setSpan(row, 0, 1, columns)

    @Slot(QModelIndex)
    def _clicked(self, index: QModelIndex) -> None:
        if self.enabled and index.data(Qt.ItemDataRole.UserRole + 3) is not None:
            self.proxy.toggle(index.row())

"""The main window: the notes table with filters and actions, and the posting side panel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.app.models.notes_model import (
    STATUS_KEYS as STATUS_ORDER,
)
from lossy_desktop.app.models.notes_model import (
    NoteRole,
    NotesFilterProxy,
    NotesModel,
    status_key,
)
from lossy_desktop.app.resources import app_icon
from lossy_desktop.app.views.grouping import Grouping
from lossy_desktop.app.views.keyboard import KEY_HINTS, ReviewKeys
from lossy_desktop.app.views.message_bar import MessageBar
from lossy_desktop.app.views.note_actions import EDITABLE, NoteActions
from lossy_desktop.app.views.notes_view import NotesTable
from lossy_desktop.app.views.retract_action import RETRACT_ACTION, RetractAction
from lossy_desktop.app.views.side_panel import SidePanel
from lossy_desktop.app.views.window_extras import WindowExtras
from lossy_desktop.core.platforms import PLATFORMS
from lossy_desktop.core.wording import state_help, state_word

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import QModelIndex, QPoint

    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.core.notes import NoteView

log = logging.getLogger("lossy.app")

STATUS_FILTERS = (
    ("All statuses", ()),
    ("Needs attention", ("failed", "held")),
    ("Ghost", ("ghost",)),
    ("Queued", ("queued",)),
    ("Waiting for login", ("held",)),
    ("Posting", ("posting",)),
    ("Posted", ("posted",)),
    ("Failed", ("failed",)),
)


class MainWindow(NoteActions, RetractAction, WindowExtras):
    quitRequested = Signal()
    settingsRequested = Signal(str)  # a platform key, or "" for the whole settings window
    connectRequested = Signal(str)  # a platform key: start the Settings window's connect flow

    def __init__(self, controller: QueueController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.services = controller.services
        self.tray_available = False  # the shell sets this; without a tray, closing quits
        self.setWindowTitle("Lossy Desktop")
        self.setWindowIcon(app_icon())
        self.resize(1360, 820)
        self.setMinimumSize(720, 440)

        self.model = NotesModel(self)
        self.proxy = NotesFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = NotesTable()
        self.table.setModel(self.proxy)
        self.side_panel = SidePanel(controller, self.model)
        self.side_panel.noteRequested.connect(self.reveal_note)
        self.message_bar = MessageBar()
        self.connections: dict[str, ConnectionView] = {}
        self.grouping = Grouping(self)

        self._build_filters()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_layout()
        self._build_status_bar()

        controller.notesChanged.connect(self.model.apply)
        controller.notesDeleted.connect(self.model.remove_ids)
        controller.pausedChanged.connect(self._on_paused)
        controller.progressChanged.connect(self._update_status)
        controller.runnerStarted.connect(self._on_runner_started)
        self.model.countsChanged.connect(self._update_status)
        self.model.videosChanged.connect(self._refresh_videos)
        self.model.loaded.connect(self._on_loaded)
        self.model.loadFailed.connect(self._on_load_failed)
        self.model.dataChanged.connect(self._update_actions)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.empty.importRequested.connect(self.import_notes)
        self.table.empty.addRequested.connect(self.add_note)
        self.table.empty.clearFiltersRequested.connect(self.clear_filters)
        self.table.empty.connectRequested.connect(self.connect_platform)
        controller.connectionChanged.connect(self._connection_changed)
        self.review_keys = ReviewKeys(self)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset):
            signal.connect(self._update_status)
        self._restore_geometry()
        self.grouping.restore()
        self._update_actions()
        self._on_paused(controller.paused)
        connections = self.services.connections
        controller.call(connections.list, self._connections_loaded, lambda _e: None)

    # -- construction ------------------------------------------
    def _build_filters(self) -> None:
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search notes  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(260)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)
        self._search_timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(self._search_timer.start)
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("statusFilter")
        for label, keys in STATUS_FILTERS:
            self.status_filter.addItem(label, keys)
        self.status_filter.currentIndexChanged.connect(self._apply_status)
        self.platform_filter = QComboBox()
        self.platform_filter.setObjectName("platformFilter")
        self.platform_filter.addItem("All platforms", "")
        for key, info in PLATFORMS.items():
            self.platform_filter.addItem(info.label, key)
        self.platform_filter.currentIndexChanged.connect(self._apply_platform)
        self.video_filter = QComboBox()
        self.video_filter.setObjectName("videoFilter")
        self.video_filter.setMinimumWidth(220)
        self.video_filter.setMaximumWidth(380)
        self.video_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.video_filter.addItem("All videos", "")
        self.video_filter.currentIndexChanged.connect(self._apply_video)

    def _action(
        self,
        name: str,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        tooltip = tip or text.replace("…", "")
        action.setToolTip(f"{tooltip} ({shown})" if shown else tooltip)
        action.triggered.connect(slot)
        self.addAction(action)
        self.actions_by_name[name] = action
        return action

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        a = self._action
        a("add", "&Add note…", self.add_note, QKeySequence.StandardKey.New)
        a("import", "&Import…", self.import_notes, "Ctrl+I", "Import notes from JSON, JSONL or CSV")
        a("export", "&Export…", self.export_notes, "Ctrl+E", "Write the notes shown to a CSV file")
        a(
            "post_now",
            "&Post now",
            self.post_now,
            "Ctrl+Return",
            "Post the selected ghost notes now",
        )
        a(
            "retry",
            "&Retry",
            self.retry,
            "Ctrl+R",
            "Try failed notes again, or post notes waiting for login now",
        )
        a("cancel", "&Cancel posting", self.cancel, "Ctrl+Shift+X", "Stop waiting to post")
        a("connect", "Co&nnect platform…", self.connect_selected, None, "Log in to the platform")
        a("edit", "&Edit…", self.edit_text, "F2", "Change the video address, time or text")
        a("delete", "&Delete", self.delete, QKeySequence.StandardKey.Delete)
        a(RETRACT_ACTION, "Delete from the platform…", self.retract, None)
        a("open_link", "&Open comment", self.open_permalink, "Ctrl+O", "Open the posted comment")
        a("copy_link", "Cop&y link", self.copy_permalink, "Ctrl+Shift+C", "Copy the permalink")
        a(
            "open_video",
            "Open &video at time",
            self.open_video,
            "Ctrl+Shift+V",
            "Open the video in the browser at the note's time",
        )
        a(
            "open_artifact",
            "Show &screenshot",
            self.open_artifact,
            "Ctrl+Shift+O",
            "Show the page as it was when posting failed",
        )
        a("pause", "Pause posting", self.controller.toggle_paused, "Ctrl+Shift+P")
        a("settings", "&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        a("find", "&Find", self.focus_search, QKeySequence.StandardKey.Find)
        a("select_all", "Select &all", self.table.selectAll, QKeySequence.StandardKey.SelectAll)
        a("toggle_panel", "Posting &panel", self.toggle_side_panel, "F9")
        a("close", "&Close window", self.close, QKeySequence.StandardKey.Close)
        a("quit", "&Quit", self.quitRequested.emit, QKeySequence.StandardKey.Quit)
        self.actions_by_name["toggle_panel"].setCheckable(True)
        self.actions_by_name["toggle_panel"].setChecked(True)
        self.actions_by_name["settings"].setShortcuts(
            [QKeySequence(QKeySequence.StandardKey.Preferences), QKeySequence("Ctrl+,")]
        )
        # The list's single keys (keyboard.py) are shown in the menus after a tab.
        for name, key in KEY_HINTS.items():
            action = self.actions_by_name[name]
            shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setIconText(action.text().replace("&", "").replace("…", ""))
            action.setText(f"{action.text()}\t{key}" + (f", {shown}" if shown else ""))
            action.setToolTip(f"{action.toolTip()[:-1]}, or {key} in the list)")
        self.actions_by_name["delete"].setToolTip("Delete the selected notes (Del, or D)")

    def _build_menus_and_toolbar(self) -> None:
        act = self.actions_by_name
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for name in ("add", "import", "export", None, "settings", None, "close", "quit"):
            file_menu.addSeparator() if name is None else file_menu.addAction(act[name])
        notes_menu = bar.addMenu("&Notes")
        for name in self.selection_action_names(with_separators=True):
            notes_menu.addSeparator() if name is None else notes_menu.addAction(act[name])
        notes_menu.addSeparator()
        notes_menu.addAction(act["select_all"])
        notes_menu.addAction(act["find"])
        posting = bar.addMenu("&Posting")
        posting.addAction(act["pause"])
        view = bar.addMenu("&View")
        view.addAction(act["toggle_panel"])
        view.addAction(self.grouping.action)
        help_menu = bar.addMenu("&Help")
        about = QAction("&About Lossy Desktop", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

        toolbar = QToolBar("Actions")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for name in (
            "add",
            "import",
            None,
            "post_now",
            "retry",
            "cancel",
            "connect",
            None,
            "edit",
            "delete",
            None,
            "open_video",
            "open_link",
            "open_artifact",
        ):
            toolbar.addSeparator() if name is None else toolbar.addAction(act[name])
        spacer = QWidget()
        spacer.setSizePolicy(
            spacer.sizePolicy().horizontalPolicy().Expanding,
            spacer.sizePolicy().verticalPolicy().Preferred,
        )
        toolbar.addWidget(spacer)
        toolbar.addAction(act["pause"])
        toolbar.addAction(act["settings"])
        self.toolbar = toolbar
        self.addToolBar(toolbar)

    def _build_layout(self) -> None:
        filters = QHBoxLayout()
        filters.setSpacing(8)
        filters.addWidget(self.search, 2)
        filters.addWidget(self.status_filter)
        filters.addWidget(self.platform_filter)
        filters.addWidget(self.video_filter, 1)
        self.shown_label = QLabel()
        self.shown_label.setObjectName("shownLabel")
        self.shown_label.setStyleSheet("color: palette(mid);")
        filters.addWidget(self.shown_label)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(10, 8, 4, 8)
        column.setSpacing(8)
        column.addLayout(filters)
        column.addWidget(self.message_bar)
        column.addWidget(self.table, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.side_panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([1060, 300])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

    def _build_status_bar(self) -> None:
        self.counts_label = QLabel()
        self.counts_label.setObjectName("countsLabel")
        self.progress_label = QLabel()
        self.progress_label.setObjectName("progressLabel")
        status = self.statusBar()
        status.addWidget(self.counts_label, 1)
        status.addPermanentWidget(self.progress_label)

    @staticmethod
    def selection_action_names(with_separators: bool = False) -> list[str | None]:
        names: list[str | None] = [
            "post_now",
            "retry",
            "cancel",
            "connect",
            None,
            "edit",
            "delete",
            RETRACT_ACTION,
            None,
            "open_video",
            "open_link",
            "copy_link",
            "open_artifact",
        ]
        return names if with_separators else [n for n in names if n is not None]

    # -- selection ------------------------------------------
    def selected_notes(self) -> list[NoteView]:
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda index: index.row())
        ids = dict.fromkeys(n.id for n in (i.data(NoteRole) for i in rows) if n is not None)
        return [note for note in (self.model.note(i) for i in ids) if note is not None]

    def select_note_ids(self, note_ids: list[int]) -> None:
        """Select these notes' rows (tests, and after an import)."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        for note_id in note_ids:
            row = self.model.row_of(note_id)
            if row is None:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if self.grouping.enabled:
                index = self.grouping.proxy.mapFromSource(index)
            if index.isValid():
                selection.select(index, index)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().select(selection, flags)
        if not selection.isEmpty():
            first = selection.indexes()[0]
            self.table.selectionModel().setCurrentIndex(
                first, QItemSelectionModel.SelectionFlag.NoUpdate
            )
            self.table.scrollTo(first)

    def _update_actions(self, *_args: Any) -> None:
        notes = self.selected_notes()
        states = [status_key(n) for n in notes]
        act = self.actions_by_name
        act["post_now"].setEnabled("ghost" in states)
        act["retry"].setEnabled(any(s in ("failed", "held") for s in states))
        act["cancel"].setEnabled(any(s in ("queued", "held") for s in states))
        held = [n for n in notes if status_key(n) == "held"]
        connect = act["connect"]
        connect.setEnabled(bool(held))
        connect.setVisible(bool(held))
        if held:
            label = PLATFORMS[held[0].platform].label if held[0].platform in PLATFORMS else ""
            connect.setText(f"Co&nnect {label}…")
            connect.setIconText(f"Connect {label}")
            connect.setToolTip(f"Log in to {label}; the notes waiting for it then post")
        act["edit"].setEnabled(len(notes) == 1 and states[0] in EDITABLE)
        act["delete"].setEnabled(any(s != "posting" for s in states))
        self._update_retract_action(notes)
        act["open_link"].setEnabled(any(n.external_permalink for n in notes))
        act["copy_link"].setEnabled(any(n.external_permalink for n in notes))
        act["open_video"].setEnabled(len(notes) == 1)
        shot = act["open_artifact"]
        shot.setEnabled(len(notes) == 1 and bool(notes[0].failure_artifact_path))
        shot.setToolTip(screenshot_reason(notes))

    def _connections_loaded(self, connections: object) -> None:
        for view in connections or []:  # type: ignore[attr-defined]
            self.connections[view.platform] = view
        self.table.empty.set_connections(self.connections)

    @Slot(object)
    def _connection_changed(self, view: ConnectionView) -> None:
        if view is None:
            return
        if getattr(view, "removed", False):
            self.connections.pop(view.platform, None)
        else:
            self.connections[view.platform] = view
        self.table.empty.set_connections(self.connections)

    @Slot(str)
    def connect_platform(self, platform: str) -> None:
        self.connectRequested.emit(platform)

    @Slot()
    def open_settings(self, platform: str = "") -> None:
        self.settingsRequested.emit(platform or "")

    @Slot()
    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    @Slot()
    def toggle_side_panel(self) -> None:
        visible = not self.side_panel.isVisible()
        self.side_panel.setVisible(visible)
        self.actions_by_name["toggle_panel"].setChecked(visible)

    @Slot()
    @Slot(int)
    def reveal_note(self, note_id: int) -> None:
        """Select this note and bring it into view (the side panel's history, the tray); the
        filters are cleared only when they hide it."""
        self.select_note_ids([note_id])
        if note_id not in {note.id for note in self.selected_notes()}:
            self.clear_filters()
            self.select_note_ids([note_id])
        self.table.setFocus()

    def clear_filters(self) -> None:
        self.search.clear()
        self.status_filter.setCurrentIndex(0)
        self.platform_filter.setCurrentIndex(0)
        self.video_filter.setCurrentIndex(0)
        self._apply_search()

    def _context_menu(self, position: QPoint) -> None:
        menu = QMenu(self)
        for name in self.selection_action_names(with_separators=True):
            menu.addSeparator() if name is None else menu.addAction(self.actions_by_name[name])
        menu.addSeparator()
        menu.addAction(self.actions_by_name["select_all"])
        self.context_menu = menu
        menu.popup(self.table.viewport().mapToGlobal(position))

    @Slot()
    def _double_clicked(self, _index: QModelIndex) -> None:
        notes = self.selected_notes()
        if len(notes) == 1 and notes[0].external_permalink:
            self.open_permalink()
        elif len(notes) == 1 and self.actions_by_name["edit"].isEnabled():
            self.edit_text()

    # -- filters ------------------------------------------
    @Slot()
    def _apply_search(self) -> None:
        self.proxy.set_search(self.search.text())
        self._update_status()

    @Slot()
    def _apply_status(self) -> None:
        self.proxy.set_statuses(self.status_filter.currentData() or ())
        self._update_status()

    @Slot()
    def _apply_platform(self) -> None:
        self.proxy.set_platform(self.platform_filter.currentData() or None)
        self._update_status()

    @Slot()
    def _apply_video(self) -> None:
        self.proxy.set_video(self.video_filter.currentData() or None)
        self._update_status()

    @Slot()
    def _refresh_videos(self) -> None:
        current = self.video_filter.currentData()
        self.video_filter.blockSignals(True)
        self.video_filter.clear()
        self.video_filter.addItem("All videos", "")
        for url, label in sorted(self.model.videos().items(), key=lambda item: item[1].lower()):
            self.video_filter.addItem(label, url)
            self.video_filter.setItemData(
                self.video_filter.count() - 1, url, Qt.ItemDataRole.ToolTipRole
            )
        index = self.video_filter.findData(current) if current else 0
        self.video_filter.setCurrentIndex(max(index, 0))
        self.video_filter.blockSignals(False)
        if current and index < 0:
            self._apply_video()

    # -- status ------------------------------------------
    def _update_status(self, *_args: Any) -> None:
        counts = self.model.counts()
        total = self.model.rowCount()
        parts = [f"{total:,} note(s)"]
        for key in ("ghost", "queued", "posting", "posted", "held", "failed"):
            if counts.get(key):
                parts.append(f"{counts[key]:,} {state_word(key)}")
        self.counts_label.setToolTip("\n".join(state_help(key) for key in STATUS_ORDER))
        self.counts_label.setText(" · ".join(parts))
        shown = self.proxy.rowCount()
        self.shown_label.setText(f"{shown:,} of {total:,} shown" if self.proxy.filtering else "")
        done, batch = self.controller.progress
        if self.controller.paused:
            self.progress_label.setText("Posting paused")
        elif batch and done < batch:
            self.progress_label.setText(f"Posting {min(done + 1, batch)} of {batch}")
        else:
            self.progress_label.setText("")
        self.table.update_empty_state()

    @Slot(bool)
    def _on_paused(self, paused: bool) -> None:
        action = self.actions_by_name["pause"]
        action.setText("Resume posting" if paused else "Pause posting")
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{action.text()} ({shortcut})")
        self._update_status()

    @Slot(str)
    def _on_runner_started(self, problem: str) -> None:
        if problem:
            self.message_bar.show_message(problem, "error")

    @Slot()
    def _on_loaded(self) -> None:
        self._update_status()
        self._update_actions()

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.message_bar.show_message(f"The notes could not be loaded: {message}", "error")


def screenshot_reason(notes: list[NoteView]) -> str:
    """Show screenshot's tooltip: what it shows, or why there is nothing to show."""
    if len(notes) != 1:
        return "Show the page as it was when posting failed (select one failed note)"
    note = notes[0]
    if note.failure_artifact_path:
        return "Show the page as it was when posting failed (Ctrl+Shift+O)"
    if status_key(note) != "failed":
        return "No screenshot: one is taken only when posting fails"
    return "No screenshot for this failure: the page could not be captured (no page was open)"

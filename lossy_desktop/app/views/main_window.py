"""The main window: the notes table with filters and actions, and the posting side panel."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.app.models.notes_model import NotesFilterProxy, NotesModel, status_key
from lossy_desktop.app.resources import app_icon
from lossy_desktop.app.views.notes_view import NotesTable
from lossy_desktop.app.views.side_panel import SidePanel
from lossy_desktop.core.platforms import PLATFORMS

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
TRAY_HINT_KEY = "tray_hint_hidden"
GEOMETRY_KEY = "main_window_geometry"


class MessageBar(QFrame):
    """A one-line message over the table (what an action did, or why it could not)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        colors = {
            "info": ("#e7f0ff", "#1f4f99", "#b6cdf5"),
            "success": ("#e6f6ea", "#1d6b35", "#b5e0c0"),
            "error": ("#fdecec", "#a61b1b", "#f2b8b8"),
        }
        background, foreground, border = colors.get(kind, colors["info"])
        self.setStyleSheet(
            f"#messageBar {{ background: {background}; border: 1px solid {border};"
            f" border-radius: 6px; }} #messageBar QLabel {{ color: {foreground}; }}"
        )
        self.label.setText(text)
        self.show()
        if kind == "error":
            self.timer.stop()
        else:
            self.timer.start(10_000)

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    quitRequested = Signal()
    settingsRequested = Signal(str)  # a platform key, or "" for the whole settings window

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
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
        self.message_bar = MessageBar()

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
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset):
            signal.connect(self._update_status)
        self._restore_geometry()
        self._update_actions()
        self._on_paused(controller.paused)

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
        slot: Any,
        shortcut: QKeySequence | str | None = None,
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
        a("post_now", "&Post now", self.post_now, "Ctrl+Return", "Post the selected notes now")
        a("retry", "&Retry", self.retry, "Ctrl+R", "Try the selected failed notes again")
        a("cancel", "&Cancel posting", self.cancel, "Ctrl+Shift+X", "Stop waiting to post")
        a("edit", "&Edit text…", self.edit_text, "F2")
        a("delete", "&Delete", self.delete, QKeySequence.StandardKey.Delete)
        a("open_link", "&Open comment", self.open_permalink, "Ctrl+O", "Open the posted comment")
        a("copy_link", "Cop&y link", self.copy_permalink, "Ctrl+Shift+C", "Copy the permalink")
        a(
            "open_artifact",
            "Show &screenshot",
            self.open_artifact,
            "Ctrl+Shift+O",
            "Open the screenshot taken when posting failed",
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

    def _build_menus_and_toolbar(self) -> None:
        act = self.actions_by_name
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for name in ("add", "import", None, "settings", None, "close", "quit"):
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
            None,
            "edit",
            "delete",
            None,
            "open_link",
            "copy_link",
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
            None,
            "edit",
            "delete",
            None,
            "open_link",
            "copy_link",
            "open_artifact",
        ]
        return names if with_separators else [n for n in names if n is not None]

    # -- selection ------------------------------------------
    def selected_notes(self) -> list[Any]:
        rows = self.table.selectionModel().selectedRows()
        ids = self.proxy.note_ids(sorted(rows, key=lambda index: index.row()))
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
            if index.isValid():
                selection.select(index, index)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().select(selection, flags)

    def _update_actions(self, *_args: Any) -> None:
        notes = self.selected_notes()
        states = [status_key(n) for n in notes]
        act = self.actions_by_name
        act["post_now"].setEnabled(any(s in ("ghost", "failed") for s in states))
        act["retry"].setEnabled(any(s in ("failed", "held") for s in states))
        act["cancel"].setEnabled(any(s in ("queued", "held") for s in states))
        act["edit"].setEnabled(
            len(notes) == 1 and states[0] in ("ghost", "failed", "queued", "held")
        )
        act["delete"].setEnabled(any(s != "posting" for s in states))
        act["open_link"].setEnabled(any(n.external_permalink for n in notes))
        act["copy_link"].setEnabled(any(n.external_permalink for n in notes))
        act["open_artifact"].setEnabled(len(notes) == 1 and bool(notes[0].failure_artifact_path))

    # -- note actions ------------------------------------------
    def _run(self, description: str, work: Any) -> None:
        """Run `work()` -> (done, problems) on the pool and report it in the message bar."""
        self._pending_description = description
        self.controller.call(work, self._action_done, self._action_failed)

    @Slot(object)
    def _action_done(self, outcome: object) -> None:
        done, problems = outcome  # type: ignore[misc]
        if problems:
            lines = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
            self.message_bar.show_message(f"{done} done. Not possible: {lines}", "error")
        elif done:
            self.message_bar.show_message(done_text(self._pending_description, done), "success")
        self._update_actions()

    @Slot(object)
    def _action_failed(self, error: object) -> None:
        self.message_bar.show_message(f"{self._pending_description} failed: {error}", "error")

    def _each(self, notes: list[Any], method: str) -> Any:
        service = self.services.notes
        ids = [n.id for n in notes]

        def work() -> tuple[int, list[str]]:
            done, problems = 0, []
            for note_id in ids:
                try:
                    getattr(service, method)(note_id)
                    done += 1
                except Exception as error:  # each note's own reason is shown
                    problems.append(f"note {note_id}: {error}")
            return done, problems

        return work

    @Slot()
    def post_now(self) -> None:
        notes = [n for n in self.selected_notes() if status_key(n) in ("ghost", "failed")]
        if not notes:
            return
        service, ids = self.services.notes, [n.id for n in notes]

        def work() -> tuple[int, list[str]]:
            return len(service.post_now(ids)), []

        self._run("post", work)

    @Slot()
    def retry(self) -> None:
        notes = [n for n in self.selected_notes() if status_key(n) in ("failed", "held")]
        if notes:
            self._run("retry", self._each(notes, "retry"))

    @Slot()
    def cancel(self) -> None:
        notes = [n for n in self.selected_notes() if status_key(n) in ("queued", "held")]
        if notes:
            self._run("cancel", self._each(notes, "cancel"))

    @Slot()
    def delete(self) -> None:
        notes = [n for n in self.selected_notes() if status_key(n) != "posting"]
        if not notes:
            return
        posted = sum(1 for n in notes if n.status == "posted")
        box = QMessageBox(self)
        box.setObjectName("confirmDelete")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Delete notes")
        box.setText(f"Delete {len(notes)} note(s)?")
        info = "They are removed from Lossy Desktop; this can't be undone."
        if posted:
            info += f" {posted} already posted comment(s) stay on the platform."
        box.setInformativeText(info)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        self._delete_targets = notes
        box.finished.connect(self._delete_confirmed)
        self.delete_box = box
        box.open()

    @Slot(int)
    def _delete_confirmed(self, result: int) -> None:
        notes, self._delete_targets = self._delete_targets, []
        if result == QMessageBox.StandardButton.Yes.value:
            self._run("delete", self._each(notes, "delete"))

    @Slot()
    def edit_text(self) -> None:
        from lossy_desktop.app.views.note_dialogs import EditTextDialog

        notes = self.selected_notes()
        if len(notes) != 1:
            return
        dialog = EditTextDialog(self.controller, notes[0], self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._edited)
        self.edit_dialog = dialog
        dialog.open()

    @Slot(object)
    def _edited(self, _view: object) -> None:
        self.message_bar.show_message("Note text saved.", "success")

    @Slot()
    def add_note(self) -> None:
        from lossy_desktop.app.views.note_dialogs import AddNoteDialog

        selected = self.selected_notes()
        dialog = AddNoteDialog(self.controller, self, defaults=selected[0] if selected else None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.created.connect(self._added)
        self.add_dialog = dialog
        dialog.open()

    @Slot(object)
    def _added(self, view: Any) -> None:
        queued = " It is queued for posting." if getattr(view, "queued", False) else ""
        self.message_bar.show_message(f"Note added.{queued}", "success")

    @Slot()
    def import_notes(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(
                self,
                "Import notes",
                str(Path.home()),
                "Notes (*.json *.jsonl *.ndjson *.csv);;All files (*)",
            )
            if not path:
                return
        self.open_import(path)

    def open_import(self, path: str | Path) -> Any:
        from lossy_desktop.app.views.note_dialogs import ImportDialog

        dialog = ImportDialog(self.controller, path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(self._imported)
        self.import_dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _imported(self, report: Any) -> None:
        self.message_bar.show_message(report.summary(), "success")

    @Slot()
    def open_permalink(self) -> None:
        links = [n.external_permalink for n in self.selected_notes() if n.external_permalink]
        for link in links[:10]:
            QDesktopServices.openUrl(QUrl(link))

    @Slot()
    def copy_permalink(self) -> None:
        links = [n.external_permalink for n in self.selected_notes() if n.external_permalink]
        if links:
            QGuiApplication.clipboard().setText("\n".join(links))
            self.statusBar().showMessage(f"Copied {len(links)} link(s)", 3000)

    @Slot()
    def open_artifact(self) -> None:
        notes = self.selected_notes()
        if len(notes) != 1 or not notes[0].failure_artifact_path:
            return
        path = Path(notes[0].failure_artifact_path)
        if not path.exists():
            self.message_bar.show_message(f"The screenshot {path.name} no longer exists.", "error")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

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
    def clear_filters(self) -> None:
        self.search.clear()
        self.status_filter.setCurrentIndex(0)
        self.platform_filter.setCurrentIndex(0)
        self.video_filter.setCurrentIndex(0)
        self._apply_search()

    def _context_menu(self, position: Any) -> None:
        menu = QMenu(self)
        for name in self.selection_action_names(with_separators=True):
            menu.addSeparator() if name is None else menu.addAction(self.actions_by_name[name])
        menu.addSeparator()
        menu.addAction(self.actions_by_name["select_all"])
        self.context_menu = menu
        menu.popup(self.table.viewport().mapToGlobal(position))

    @Slot()
    def _double_clicked(self, _index: Any) -> None:
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
        for key, label in (
            ("queued", "queued"),
            ("posting", "posting"),
            ("posted", "posted"),
            ("held", "waiting for login"),
            ("failed", "failed"),
        ):
            if counts.get(key):
                parts.append(f"{counts[key]:,} {label}")
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

    def _about(self) -> None:
        from lossy_desktop import __version__

        QMessageBox.about(
            self,
            "About Lossy Desktop",
            f"<b>Lossy Desktop {__version__}</b><p>Posts your confident video review notes as "
            "timestamped comments on YouTube, Vimeo and Air.</p>"
            f"<p>Data folder: {self.services.data.root}</p>",
        )

    # -- window ------------------------------------------
    def bring_forward(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def _restore_geometry(self) -> None:
        try:
            saved = self.services.app_state.get(GEOMETRY_KEY)
        except Exception:
            return
        if isinstance(saved, str) and saved:
            self.restoreGeometry(QByteArray.fromBase64(saved.encode("ascii")))

    def save_geometry(self) -> None:
        try:
            data = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
            self.services.app_state.set(GEOMETRY_KEY, data)
        except Exception:
            log.debug("window geometry not saved", exc_info=True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_geometry()
        if not self.tray_available:
            event.accept()
            self.quitRequested.emit()
            return
        event.ignore()
        self.hide()
        self._tray_hint()

    def _tray_hint(self) -> None:
        if getattr(self, "_hint_shown", False):
            return
        if self.services.app_state.get(TRAY_HINT_KEY, False):
            return
        self._hint_shown = True
        box = QMessageBox(self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setObjectName("trayHint")
        box.setWindowTitle("Lossy Desktop keeps running")
        box.setWindowIcon(app_icon())
        box.setIcon(QMessageBox.Icon.Information)
        box.setText("Lossy Desktop is still running in the system tray.")
        box.setInformativeText(
            "Notes keep posting in the background. Open the window from the tray icon; choose "
            "Quit there (or press Ctrl+Q) to stop Lossy Desktop."
        )
        self.tray_hint_check = QCheckBox("Don't show this again", box)
        box.setCheckBox(self.tray_hint_check)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.finished.connect(self._tray_hint_done)
        self.tray_hint_box = box
        box.open()

    @Slot(int)
    def _tray_hint_done(self, _result: int) -> None:
        if self.tray_hint_check.isChecked():
            self.services.app_state.set(TRAY_HINT_KEY, True)


def done_text(description: str, count: int) -> str:
    return {
        "post": f"{count} note(s) queued for posting now.",
        "retry": f"{count} note(s) queued to try again.",
        "cancel": f"{count} note(s) will not be posted.",
        "delete": f"{count} note(s) deleted.",
    }.get(description, f"{description}: {count} done.")

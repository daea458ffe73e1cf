"""Dialogs about notes: add a note, edit a note's text, and import a file with a preview.

Each validates with the core's one validator (core/notes.validate_note) and shows a refused
field's message right under that field. Writes run on the controller's pool."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.core.clock import format_timecode
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.platforms import PLATFORMS, platform_of_url

if TYPE_CHECKING:
    from collections.abc import Callable

    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.core.importer import ImportPreview
    from lossy_desktop.core.notes import NoteView

log = logging.getLogger("lossy.app")

ERROR_STYLE = "color: #b42318;"


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _message(error: object) -> str:
    if isinstance(error, ValidationError):
        return error.message
    return str(error) or type(error).__name__


TIME_HINT = "When in the video: 1:05 (M:SS), 1:02:03 (H:MM:SS) or 65 (seconds)"


def _time_field() -> QLineEdit:
    field = QLineEdit()
    field.setPlaceholderText("1:05")
    field.setToolTip(TIME_HINT)
    return field


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(mid);")
    return label


def _save_on_ctrl_enter(dialog: QDialog, slot: Callable[[], object]) -> None:
    """Ctrl+Enter (and Ctrl+Return) saves, even from inside the text box."""
    for key in ("Ctrl+Return", "Ctrl+Enter"):
        shortcut = QShortcut(QKeySequence(key), dialog)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)


def _sentence(name: str, message: str) -> str:
    """ "is empty" under the Text box reads "Text is empty"; a message that is already a
    sentence ("'99:99' is not a time…") is kept."""
    if name and message[:1].islower():
        return f"{name} {message}"
    return message


class _FieldErrors:
    """A refused field's message right under it; every refused field at once."""

    errors: dict[str, QLabel]
    general_error: QLabel
    # The names the messages start with (core's messages follow a field's name: "is empty").
    field_names = {
        "platform": "The platform",
        "video_url": "The address",
        "video_title": "The title",
        "timestamp_seconds": "The time",
        "text": "The text",
        "category": "The category",
        "confidence": "The confidence",
    }

    def _field_box(self, field: str, *widgets: QWidget) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        for widget in widgets:
            column.addWidget(widget)
        error = _error_label()
        error.setObjectName(f"error_{field}")
        column.addWidget(error)
        self.errors[field] = error
        return box

    def show_errors(self, problems: dict[str, str]) -> None:
        for label in (*self.errors.values(), self.general_error):
            label.hide()
        general: list[str] = []
        for field, message in problems.items():
            field_label = self.errors.get(field)
            if field_label is None:
                general.append(_sentence(self.field_names.get(field, ""), message))
                continue
            field_label.setText(_sentence(self.field_names.get(field, ""), message))
            field_label.show()
        if general:
            self.general_error.setText("\n".join(general))
            self.general_error.show()

    def show_error(self, field: str, message: str) -> None:
        self.show_errors({field: message})


class AddNoteDialog(_FieldErrors, QDialog):
    """A note typed by hand. Emits `created(NoteView)` once stored."""

    created = Signal(object)

    def __init__(
        self,
        controller: QueueController,
        parent: QWidget | None = None,
        defaults: NoteView | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Add a note")
        self.setMinimumWidth(620)
        self.platform = QComboBox()
        for key, info in PLATFORMS.items():
            self.platform.addItem(info.label, key)
        self.video_url = QLineEdit()
        self.video_url.setPlaceholderText("https://www.youtube.com/watch?v=…")
        self.video_title = QLineEdit()
        self.video_title.setPlaceholderText("optional")
        self.time = _time_field()
        self.time_hint = _hint(TIME_HINT)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("What should the comment say?")
        self.text.setTabChangesFocus(True)
        self.text.setMinimumHeight(90)
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.addItems(["", "feedback", "bug", "praise", "question", "audio", "visual"])
        self.confidence = QDoubleSpinBox()
        self.confidence.setRange(0.0, 1.0)
        self.confidence.setSingleStep(0.05)
        self.confidence.setDecimals(2)
        self.confidence.setValue(1.0)
        self.confidence.setToolTip(
            "Notes at least as confident as the auto-post threshold are posted by themselves"
        )
        self.reuse = QLabel()
        self.reuse.setWordWrap(True)
        self.reuse.setObjectName("reuseNotice")
        self.reuse.setStyleSheet(
            "#reuseNotice { background: #e7f0ff; color: #1f4f99; border: 1px solid #b6cdf5;"
            " border-radius: 6px; padding: 6px 8px; }"
        )
        self.reuse.hide()
        self.defaults = defaults
        if defaults is not None:
            index = self.platform.findData(defaults.platform)
            if index >= 0:
                self.platform.setCurrentIndex(index)
            self.video_url.setText(defaults.video_url)
            self.video_title.setText(defaults.video_title or "")
            self.video_url.textChanged.connect(self._update_reuse)
            self._update_reuse()
        self.url_hint = _hint("")
        self.platform.currentIndexChanged.connect(self._update_url_hint)
        self._update_url_hint()
        self.video_url.textChanged.connect(self._follow_address)

        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for field, label, widgets in (
            ("platform", "&Platform", (self.platform,)),
            ("video_url", "Video &URL", (self.video_url, self.url_hint)),
            ("video_title", "Video t&itle", (self.video_title,)),
            ("timestamp_seconds", "&Time", (self.time, self.time_hint)),
            ("text", "T&ext", (self.text,)),
            ("category", "&Category", (self.category,)),
            ("confidence", "C&onfidence", (self.confidence,)),
        ):
            form.addRow(label, self._field_box(field, *widgets))
        self.general_error = _error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add note")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reuse)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        _save_on_ctrl_enter(self, self.submit)

    @Slot()
    def _update_reuse(self) -> None:
        note = self.defaults
        same = note is not None and self.video_url.text().strip() == note.video_url
        if note is not None and same:
            self.reuse.setText(
                f"Adding to the selected note's video: {note.video_title or note.video_url}. "
                "To add it to another video, change the Video URL."
            )
        self.reuse.setVisible(same)

    @Slot(str)
    def _follow_address(self, url: str) -> None:
        """A pasted address of another platform's site chooses that platform."""
        found = platform_of_url(url)
        if found is not None and found != self.platform.currentData():
            self.platform.setCurrentIndex(self.platform.findData(found))

    @Slot()
    def _update_url_hint(self) -> None:
        from lossy_desktop.core.platforms import VIDEO_FORMS

        key = self.platform.currentData()
        example = VIDEO_FORMS.get(key, ((), ""))[1]
        self.url_hint.setText(f"Like {example}")
        self.video_url.setPlaceholderText(example)

    def fields(self) -> dict[str, Any]:
        return {
            "platform": self.platform.currentData(),
            "video_url": self.video_url.text().strip(),
            "video_title": self.video_title.text().strip() or None,
            "timestamp_seconds": self.time.text().strip(),
            "text": self.text.toPlainText(),
            "category": self.category.currentText().strip() or None,
            "confidence": round(self.confidence.value(), 4),
        }

    @Slot()
    def submit(self) -> None:
        from lossy_desktop.core.notes import note_problems, validate_note

        if not self.buttons.isEnabled():
            return
        fields = self.fields()
        settings = self.controller.services.settings
        problems = note_problems(fields, settings)
        if not fields["timestamp_seconds"]:
            problems["timestamp_seconds"] = "is empty: when in the video is this note?"
        if problems:
            self.show_errors(problems)
            return
        self.show_errors({})
        note = validate_note(fields, settings)
        self.buttons.setEnabled(False)
        notes = self.controller.services.notes
        self.controller.call(lambda: notes.create(note), self._stored, self._refused)

    @Slot(object)
    def _stored(self, view: object) -> None:
        self.created.emit(view)
        self.accept()

    @Slot(object)
    def _refused(self, error: object) -> None:
        self.buttons.setEnabled(True)
        field = error.field if isinstance(error, ValidationError) else "note"
        self.show_error(field, _message(error))


class EditNoteDialog(_FieldErrors, QDialog):
    """Change a note's video address, time and text whenever it is not posted or posting."""

    saved = Signal(object)

    def __init__(
        self, controller: QueueController, note: NoteView, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.note = note
        self.limit = PLATFORMS[note.platform].comment_limit if note.platform in PLATFORMS else 0
        label = PLATFORMS[note.platform].label if note.platform in PLATFORMS else note.platform
        self.setWindowTitle("Edit note")
        self.setMinimumSize(620, 380)
        where = _hint(
            f"{label} · {note.video_title or note.video_url}. Saved changes are what gets "
            "posted; a failed note is tried again only when you choose Retry."
        )
        self.video_url = QLineEdit(note.video_url)
        self.time = _time_field()
        self.time.setText(format_timecode(note.timestamp_seconds))
        self.time_hint = _hint(TIME_HINT)
        self.text = QPlainTextEdit(note.text)
        self.text.setTabChangesFocus(True)
        self.counter = QLabel()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.errors: dict[str, QLabel] = {}
        self.general_error = _error_label()
        self.general_error.setObjectName("error_general")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Video &URL", self._field_box("video_url", self.video_url))
        form.addRow("&Time", self._field_box("timestamp_seconds", self.time, self.time_hint))
        form.addRow("T&ext", self._field_box("text", self.text, self.counter))
        self.error = self.errors["text"]  # the text's error label (older tests)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setToolTip("Save (Ctrl+Enter)")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.text.textChanged.connect(self._count)
        layout = QVBoxLayout(self)
        layout.addWidget(where)
        layout.addLayout(form, 1)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        _save_on_ctrl_enter(self, self.submit)
        self._count()
        self.text.setFocus()

    @Slot()
    def _count(self) -> None:
        length = len(self.text.toPlainText().strip())
        self.counter.setText(f"{length:,} / {self.limit:,}" if self.limit else f"{length:,}")
        over = bool(self.limit) and length > self.limit
        self.counter.setStyleSheet(ERROR_STYLE if over else "color: palette(mid);")

    def fields(self) -> dict[str, Any]:
        note = self.note
        return {
            "platform": note.platform,
            "video_url": self.video_url.text().strip(),
            "video_duration": note.video_duration if self._same_video() else None,
            "timestamp_seconds": self.time.text().strip(),
            "text": self.text.toPlainText(),
            "confidence": note.confidence,
        }

    def _same_video(self) -> bool:
        return self.video_url.text().strip() == self.note.video_url

    @Slot()
    def submit(self) -> None:
        from lossy_desktop.core.notes import note_problems

        if not self.buttons.isEnabled():
            return
        fields = self.fields()
        problems = note_problems(fields, self.controller.services.settings)
        if not fields["timestamp_seconds"]:
            problems["timestamp_seconds"] = "is empty: when in the video is this note?"
        if problems:
            self.show_errors(problems)
            return
        self.show_errors({})
        self.buttons.setEnabled(False)
        notes = self.controller.services.notes
        note_id = self.note.id
        url = None if self._same_video() else fields["video_url"]
        time, text = fields["timestamp_seconds"], fields["text"]

        def save() -> NoteView:
            return notes.edit(note_id, video_url=url, timestamp_seconds=time, text=text)

        self.controller.call(save, self._stored, self._refused)

    @Slot(object)
    def _stored(self, view: object) -> None:
        self.saved.emit(view)
        self.accept()

    @Slot(object)
    def _refused(self, error: object) -> None:
        self.buttons.setEnabled(True)
        field = error.field if isinstance(error, ValidationError) else "note"
        if field not in self.errors:
            self.general_error.setText(_message(error))
            self.general_error.show()
            return
        self.show_error(field, _message(error))


EditTextDialog = EditNoteDialog  # the older name


class ImportDialog(QDialog):
    """Reads and validates a file off the GUI thread, lists every invalid row (line, field,
    message) and the valid notes, and writes nothing until the user confirms."""

    imported = Signal(object)  # ImportReport

    def __init__(
        self, controller: QueueController, path: str | Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.path = Path(path)
        self.preview: ImportPreview | None = None
        self.setWindowTitle(f"Import {self.path.name}")
        self.resize(760, 520)
        self.summary = QLabel("Reading the file…")
        self.summary.setWordWrap(True)
        self.summary.setObjectName("importSummary")
        self.errors_title = QLabel("Invalid rows (they will not be imported)")
        bold = self.errors_title.font()
        bold.setBold(True)
        self.errors_title.setFont(bold)
        self.errors = _table(("Line", "Field", "Problem"))
        self.errors.setObjectName("importErrors")
        self.rows_title = QLabel("Notes to import")
        self.rows_title.setFont(bold)
        self.rows = _table(("Line", "Video", "Time", "Text", "Confidence"))
        self.rows.setObjectName("importRows")
        self.failure = _error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.import_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setEnabled(False)
        self.import_button.setText("Import")
        self.buttons.accepted.connect(self.confirm)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.errors_title)
        layout.addWidget(self.errors, 1)
        layout.addWidget(self.rows_title)
        layout.addWidget(self.rows, 2)
        layout.addWidget(self.failure)
        layout.addWidget(self.buttons)
        for widget in (self.errors_title, self.errors, self.rows_title, self.rows):
            widget.hide()
        self._parse()

    def _parse(self) -> None:
        from lossy_desktop.core.importer import parse_file

        settings = self.controller.services.settings
        path = self.path
        self.controller.call(lambda: parse_file(path, settings), self._parsed, self._unreadable)

    @Slot(object)
    def _parsed(self, preview: ImportPreview) -> None:
        self.preview = preview
        valid, invalid = len(preview.rows), len(preview.errors)
        self.errors.setRowCount(invalid)
        for row, error in enumerate(preview.errors):
            for column, value in enumerate((str(error.line or ""), error.field, error.message)):
                self.errors.setItem(row, column, QTableWidgetItem(value))
        shown = preview.rows[:500]
        self.rows.setRowCount(len(shown))
        for row, (line, note) in enumerate(shown):
            values = (
                str(line),
                note.video_title or note.video_url,
                format_timecode(note.timestamp_seconds),
                " ".join(note.text.split()),
                f"{note.confidence:.2f}",
            )
            for column, value in enumerate(values):
                self.rows.setItem(row, column, QTableWidgetItem(value))
        self.errors_title.setVisible(invalid > 0)
        self.errors.setVisible(invalid > 0)
        self.rows_title.setVisible(valid > 0)
        self.rows.setVisible(valid > 0)
        threshold = self.controller.services.settings.get("auto_post_threshold")
        auto = sum(1 for _line, note in preview.rows if note.confidence >= threshold)
        fmt = preview.format.upper()
        if valid and invalid:
            self.summary.setText(
                f"{self.path.name} ({fmt}): {valid} valid note(s), {invalid} invalid row(s). "
                f"Nothing has been written yet. Import the valid ones and skip the rest, or "
                f"fix the file and import it again. {auto} will be posted automatically."
            )
            self.import_button.setText(f"Import {valid} valid, skip {invalid}")
        elif valid:
            self.summary.setText(
                f"{self.path.name} ({fmt}): {valid} note(s) ready; {auto} will be posted "
                f"automatically (confidence ≥ {threshold:g}). Nothing has been written yet."
            )
            self.import_button.setText(f"Import {valid} note(s)")
        else:
            self.summary.setText(
                f"{self.path.name} ({fmt}): no valid notes — nothing can be imported."
            )
        self.import_button.setEnabled(valid > 0)
        if valid:
            self.import_button.setFocus()

    @Slot(object)
    def _unreadable(self, error: object) -> None:
        self.summary.setText(f"{self.path.name} can't be imported: {_message(error)}")
        self.summary.setStyleSheet(ERROR_STYLE)

    @Slot()
    def confirm(self) -> None:
        from lossy_desktop.core.importer import import_file

        if self.preview is None or not self.preview.rows:
            return
        self.import_button.setEnabled(False)
        self.summary.setText("Importing…")
        notes = self.controller.services.notes
        path, skip = self.path, bool(self.preview.errors)
        self.controller.call(
            lambda: import_file(notes, path, skip_invalid=skip), self._done, self._failed
        )

    @Slot(object)
    def _done(self, report: object) -> None:
        self.imported.emit(report)
        self.accept()

    @Slot(object)
    def _failed(self, error: object) -> None:
        self.import_button.setEnabled(True)
        self.failure.setText(f"Nothing was imported: {_message(error)}")
        self.failure.show()


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table

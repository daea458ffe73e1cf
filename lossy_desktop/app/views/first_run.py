"""What the notes list shows when it has no rows: a first-run guide (connect a platform, then
import or add notes), "loading", "preparing" (the demo's sandbox, with its progress), or
"nothing matches" with a way out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.core.platforms import PLATFORMS

if TYPE_CHECKING:
    from lossy_desktop.core.connections import ConnectionView


def _bold(label: QLabel, scale: float = 1.0) -> QLabel:
    font = label.font()
    font.setBold(True)
    if scale != 1.0:
        font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


class EmptyState(QWidget):
    """Shown over the table when there is nothing to show."""

    importRequested = Signal()
    addRequested = Signal()
    clearFiltersRequested = Signal()
    connectRequested = Signal(str)  # a platform key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self.connections: dict[str, ConnectionView] = {}
        self.title = _bold(QLabel(), 1.35)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = QLabel()
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(mid);")
        self.progress = QProgressBar()
        self.progress.setObjectName("preparingProgress")
        self.progress.setMaximumWidth(420)
        self.progress.hide()
        # (title, what is happening, steps done, steps in all) while something is prepared
        self.preparing: tuple[str, str, int, int] | None = None

        # The guide: step 1 connect, step 2 import or add.
        self.guide = QWidget()
        self.guide.setObjectName("firstRunGuide")
        grid = QGridLayout(self.guide)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(6)
        self.step_connect = _bold(QLabel("1. Connect a platform"))
        self.connect_hint = QLabel(
            "Log in once, inside Lossy Desktop, to each platform you post to. Your login is "
            "kept on this computer."
        )
        self.connect_hint.setWordWrap(True)
        self.connect_hint.setStyleSheet("color: palette(mid);")
        self.connect_buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, info in PLATFORMS.items():
            button = QPushButton(f"Connect {info.label}…")
            button.setObjectName(f"connect_{key}")
            button.setProperty("platform", key)
            button.clicked.connect(self._connect_clicked)
            self.connect_buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        self.step_notes = _bold(QLabel("2. Import or add notes"))
        self.notes_hint = QLabel(
            "Import the notes your recorder saved (JSON, JSON Lines or CSV), or add one by "
            "hand. Confident notes are posted as timestamped comments by themselves."
        )
        self.notes_hint.setWordWrap(True)
        self.notes_hint.setStyleSheet("color: palette(mid);")
        self.import_button = QPushButton("Import notes…")
        self.add_button = QPushButton("Add a note…")
        self.import_button.clicked.connect(self.importRequested)
        self.add_button.clicked.connect(self.addRequested)
        notes_row = QHBoxLayout()
        notes_row.addWidget(self.import_button)
        notes_row.addWidget(self.add_button)
        notes_row.addStretch(1)
        grid.addWidget(self.step_connect, 0, 0)
        grid.addWidget(self.connect_hint, 1, 0)
        grid.addLayout(row, 2, 0)
        grid.setRowMinimumHeight(3, 12)
        grid.addWidget(self.step_notes, 4, 0)
        grid.addWidget(self.notes_hint, 5, 0)
        grid.addLayout(notes_row, 6, 0)
        self.guide.setMaximumWidth(620)

        self.clear_button = QPushButton("Clear filters")
        self.clear_button.clicked.connect(self.clearFiltersRequested)
        clear_row = QHBoxLayout()
        clear_row.addStretch(1)
        clear_row.addWidget(self.clear_button)
        clear_row.addStretch(1)
        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(self.guide, 10)
        centre.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        bar_row = QHBoxLayout()
        bar_row.addStretch(1)
        bar_row.addWidget(self.progress, 10)
        bar_row.addStretch(1)
        layout.addLayout(bar_row)
        layout.addSpacing(12)
        layout.addLayout(centre)
        layout.addLayout(clear_row)
        layout.addStretch(2)
        self.mode = ""
        self.show_no_notes()

    def _connect_clicked(self) -> None:
        button = self.sender()
        if isinstance(button, QPushButton):
            self.connectRequested.emit(str(button.property("platform")))

    def set_connections(self, connections: dict[str, ConnectionView]) -> None:
        """platform -> ConnectionView (or absent): marks connected platforms in the guide."""
        self.connections = dict(connections)
        for key, button in self.connect_buttons.items():
            connection = self.connections.get(key)
            label = PLATFORMS[key].label
            if connection is not None and connection.active:
                button.setText(f"✓ {label} connected")
                button.setToolTip(f"{label} is connected; click to connect again")
            else:
                button.setText(f"Connect {label}…")
                button.setToolTip(f"Log in to {label} once, in a browser window")
        if self.mode == "no_notes":
            self.show_no_notes()

    def set_preparing(
        self, title: str | None, text: str = "", done: int = 0, total: int = 0
    ) -> None:
        """Say that the notes are being prepared (title None: no longer). Shown instead of the
        guide while the list is empty."""
        self.preparing = None if title is None else (title, text, done, total)
        if self.preparing is not None:
            self.show_preparing()
        elif self.mode == "preparing":
            self.progress.hide()
            self.show_no_notes()

    def show_preparing(self) -> None:
        if self.preparing is None:
            return
        title, text, done, total = self.preparing
        self.mode = "preparing"
        self.title.setText(title)
        self.hint.setText(text)
        self.progress.setRange(0, max(total, 0))  # 0..0: a busy bar until the steps are known
        self.progress.setValue(done)
        self.progress.setVisible(total >= 0)  # total -1: no bar (it stopped)
        self.guide.hide()
        self.clear_button.hide()

    def show_loading(self) -> None:
        self.progress.hide()
        self.mode = "loading"
        self.title.setText("Loading notes…")
        self.hint.setText("")
        self.guide.hide()
        self.clear_button.hide()

    def show_no_notes(self) -> None:
        self.progress.hide()
        self.mode = "no_notes"
        connected = [k for k, c in self.connections.items() if c is not None and c.active]
        if connected:
            self.title.setText("No notes yet")
            self.hint.setText("Import or add notes; connect more platforms any time.")
        else:
            self.title.setText("Welcome to Lossy Desktop")
            self.hint.setText("Two steps and your review notes become timestamped comments.")
        self.guide.show()
        self.clear_button.hide()

    def show_no_match(self) -> None:
        self.progress.hide()
        self.mode = "no_match"
        self.title.setText("No notes match")
        self.hint.setText("Nothing matches the search and filters above.")
        self.guide.hide()
        self.clear_button.show()

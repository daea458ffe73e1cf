"""A one-line message over the notes table: what an action did, or why it could not, with an
optional button for the next step (e.g. "Connect YouTube…")."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

COLORS = {
    "info": ("#e7f0ff", "#1f4f99", "#b6cdf5"),
    "success": ("#e6f6ea", "#1d6b35", "#b5e0c0"),
    "error": ("#fdecec", "#a61b1b", "#f2b8b8"),
}


class MessageBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.setObjectName("messageAction")
        self.action_button.hide()
        self.action_button.clicked.connect(self._act)
        self._action: Callable[[], None] | None = None
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(close)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.hide)
        self.hide()

    def show_message(
        self,
        text: str,
        kind: str = "info",
        action: tuple[str, Callable[[], None]] | None = None,
    ) -> None:
        background, foreground, border = COLORS.get(kind, COLORS["info"])
        self.setStyleSheet(
            f"#messageBar {{ background: {background}; border: 1px solid {border};"
            f" border-radius: 6px; }} #messageBar QLabel {{ color: {foreground}; }}"
        )
        self.label.setText(text)
        self._action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self.show()
        if kind == "error" or action is not None:
            self.timer.stop()
        else:
            self.timer.start(10_000)

    def _act(self) -> None:
        action = self._action
        self.hide()
        if action is not None:
            action()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

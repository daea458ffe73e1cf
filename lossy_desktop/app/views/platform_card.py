"""One platform's card in the settings window: its connection status and what can be done."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.automation.errors import is_technical
from lossy_desktop.core.platforms import get_platform

if TYPE_CHECKING:
    from lossy_desktop.core.connections import ConnectionView

# status -> (chip text, chip background, chip text colour)
STATUS_CHIPS: dict[str | None, tuple[str, str, str]] = {
    None: ("Not connected", "#e5e7eb", "#374151"),
    "awaiting_auth": ("Awaiting login", "#fef3c7", "#92400e"),
    "active": ("Connected", "#d1fae5", "#065f46"),
    "expired": ("Expired", "#fee2e2", "#991b1b"),
    "logged_out": ("Logged out", "#fee2e2", "#991b1b"),
}

PROVIDER_LABELS = {"local": "this computer's Chromium", "browserbase": "Browserbase"}

# Which buttons each status offers, in the order they appear.
BUTTONS_FOR: dict[str | None, tuple[str, ...]] = {
    None: ("connect",),
    "awaiting_auth": ("verify", "disconnect", "connect"),
    "active": ("verify", "disconnect"),
    "expired": ("verify", "disconnect", "reconnect"),
    "logged_out": ("verify", "disconnect", "reconnect"),
}


def relative_time(ts: float | None, now: float | None = None) -> str:
    """'just now', '5 minutes ago', '3 hours ago', 'yesterday', '12 days ago' (or 'never')."""
    if ts is None:
        return "never"
    seconds = max(0.0, (time.time() if now is None else now) - ts)
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            if unit == "day" and count == 1:
                return "yesterday"
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"  # pragma: no cover - unreachable


class PlatformCard(QFrame):
    """Shows a ConnectionView (or None: not connected); emits the user's requests."""

    connectRequested = Signal(str)
    verifyRequested = Signal(str)
    disconnectRequested = Signal(str)
    reconnectRequested = Signal(str)

    def __init__(self, platform: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.platform = platform
        self.setObjectName(f"card_{platform}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            f"QFrame#card_{platform} {{ border: 1px solid palette(mid); border-radius: 8px;"
            " background: palette(base); }"
        )
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._connection: ConnectionView | None = None

        self.title = QLabel(get_platform(platform).label)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.chip = QLabel()
        self.chip.setObjectName("chip")
        self.chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b91c1c;")
        self.problem.hide()
        self.busy = QLabel()
        self.busy.setStyleSheet("color: palette(dark); font-style: italic;")
        self.busy.hide()

        self.buttons: dict[str, QPushButton] = {
            "verify": QPushButton("Verify"),
            "disconnect": QPushButton("Disconnect"),
            "reconnect": QPushButton("Reconnect"),
            "connect": QPushButton("Connect"),
        }
        self.buttons["verify"].setToolTip("Open the platform in the background and check the login")
        self.buttons["disconnect"].setToolTip("Forget the login saved for this platform")
        self.buttons["connect"].setToolTip("Log in to the platform in an embedded browser")
        self.buttons["reconnect"].setToolTip("Log in again")
        for name, button in self.buttons.items():
            button.setProperty("action", name)
            button.clicked.connect(self._clicked)

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.chip)
        row = QHBoxLayout()
        row.addWidget(self.busy)
        row.addStretch(1)
        for name in ("verify", "disconnect", "reconnect", "connect"):
            row.addWidget(self.buttons[name])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.detail)
        layout.addWidget(self.problem)
        layout.addLayout(row)
        self.set_connection(None)

    @property
    def connection(self) -> ConnectionView | None:
        return self._connection

    @property
    def status(self) -> str | None:
        return None if self._connection is None else str(self._connection.status)

    def status_text(self) -> str:
        return self.chip.text()

    @Slot()
    def _clicked(self) -> None:
        name = self.sender().property("action")
        {
            "connect": self.connectRequested,
            "verify": self.verifyRequested,
            "disconnect": self.disconnectRequested,
            "reconnect": self.reconnectRequested,
        }[name].emit(self.platform)

    def set_connection(self, connection: ConnectionView | None, now: float | None = None) -> None:
        """Show a ConnectionView (fields status, provider, account_name, last_used_at,
        verified_at, error) or None."""
        self._connection = connection
        status = None if connection is None else connection.status
        text, background, colour = STATUS_CHIPS.get(status, (str(status), "#e5e7eb", "#374151"))
        if connection is not None and status == "active":
            last = connection.last_used_at or connection.verified_at
            text = f"Connected, last used {relative_time(last, now)}"
        self.chip.setText(text)
        self.chip.setStyleSheet(
            f"QLabel#chip {{ background: {background}; color: {colour}; border-radius: 10px;"
            " padding: 3px 10px; font-weight: 600; }"
        )
        self.detail.setText(self._detail(connection, now))
        error = getattr(connection, "error", None) if connection is not None else None
        if error:
            error = error.strip().splitlines()[0]
            error = None if is_technical(error) else error  # the status line says it plainly
        self.problem.setText(error or "")
        self.problem.setVisible(bool(error) and status != "active")
        wanted = BUTTONS_FOR.get(status, ("verify", "disconnect", "reconnect"))
        for name, button in self.buttons.items():
            button.setVisible(name in wanted)
        if status == "awaiting_auth":
            self.buttons["connect"].setText("Continue login")
        else:
            self.buttons["connect"].setText("Connect")

    def _detail(self, connection: ConnectionView | None, now: float | None) -> str:
        label = get_platform(self.platform).label
        if connection is None:
            return f"Log in to {label} once; Lossy keeps the login and posts your notes for you."
        via = PROVIDER_LABELS.get(connection.provider, connection.provider)
        account = connection.account_name
        status = connection.status
        if status == "active":
            who = f"Logged in as {account}" if account else "Logged in"
            checked = relative_time(connection.verified_at, now)
            return f"{who} · checked {checked} · via {via}"
        if status == "awaiting_auth":
            return f"Waiting for you to log in to {label} (via {via})."
        if status == "expired":
            return f"The {label} login has expired. Notes wait until you reconnect."
        if status == "logged_out":
            return f"{label} logged this account out. Notes wait until you reconnect."
        return f"Status: {status} (via {via})"

    def set_busy(self, text: str | None) -> None:
        """Show what is happening ("Checking the login…") and disable the buttons meanwhile."""
        self.busy.setText(text or "")
        self.busy.setVisible(bool(text))
        for button in self.buttons.values():
            button.setEnabled(not text)

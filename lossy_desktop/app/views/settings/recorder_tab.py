"""The Recorder tab: the note recorder's intake (port, allowed web origin, its state) and its
token (kept in the system keyring; shown, copied or made anew only on the user's click)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from lossy_desktop.app.views.settings.page import SettingsPage
from lossy_desktop.core import secrets

if TYPE_CHECKING:
    from lossy_desktop.app.concurrency import BackgroundTasks
    from lossy_desktop.app.views.settings.binder import SettingField
    from lossy_desktop.services import Services


class RecorderTab(SettingsPage):
    """`intake`: the IntakeController (restarted when its port changes; its state is shown)."""

    def __init__(
        self,
        services: Services,
        tasks: BackgroundTasks,
        fields: dict[str, SettingField],
        *,
        intake: Any = None,
    ) -> None:
        super().__init__(services, tasks, fields)
        self._intake = intake
        self._keyring_ok = False
        self._token: str | None = None
        layout = QVBoxLayout(self)
        box = QGroupBox("Note recorder intake")
        form = QFormLayout(box)
        form.addRow(
            self.hint(
                "The note recorder sends notes to this computer only (127.0.0.1), with the "
                "token below. Port 0 turns the intake off."
            )
        )
        port = QSpinBox()
        port.setSpecialValueText("off")
        form.addRow("Port", self.field("intake_port", port))
        origin = QLineEdit()
        origin.setPlaceholderText("https://recorder.example (empty: no browser page may send)")
        form.addRow("Allowed web origin", self.field("recorder_origin", origin))
        self.intake_status = QLabel("—")
        self.intake_status.setWordWrap(True)
        form.addRow("Status", self.intake_status)
        token_row = QHBoxLayout()
        self.token_edit = QLineEdit()
        self.token_edit.setReadOnly(True)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_token_button = QPushButton("Show")
        self.show_token_button.setCheckable(True)
        self.show_token_button.toggled.connect(self._toggle_token)
        self.copy_token_button = QPushButton("Copy")
        self.copy_token_button.clicked.connect(self.copy_token)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.clicked.connect(self.regenerate_token)
        token_row.addWidget(self.token_edit, 1)
        token_row.addWidget(self.show_token_button)
        token_row.addWidget(self.copy_token_button)
        token_row.addWidget(self.regenerate_button)
        form.addRow("Token", token_row)
        self.token_message = QLabel()
        self.token_message.setWordWrap(True)
        form.addRow("", self.token_message)
        layout.addWidget(box)
        layout.addStretch(1)
        if intake is not None:
            intake.stateChanged.connect(self._intake_state)
            self._intake_state(intake.state)

    def show_token(self, token: str | None, keyring_ok: bool) -> None:
        """The token as read from the keyring (None: no keyring to keep one in)."""
        self._keyring_ok = keyring_ok
        self._token = token
        self.token_edit.setText(token or "")
        for widget in (self.copy_token_button, self.show_token_button):
            widget.setEnabled(bool(token))
        self.regenerate_button.setEnabled(self._keyring_ok)
        if token is None:
            self.token_edit.setPlaceholderText("no keyring: the intake cannot accept notes")
            self.token_message.setText(secrets.NO_BACKEND_FOR_TOKEN)

    @Slot(bool)
    def _toggle_token(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.token_edit.setEchoMode(mode)
        self.show_token_button.setText("Hide" if shown else "Show")

    @Slot()
    def copy_token(self) -> None:
        """On the user's explicit click only: the recorder needs it pasted in."""
        if self._token:
            QGuiApplication.clipboard().setText(self._token)
            self.token_message.setText("Token copied. Paste it into the note recorder.")

    @Slot()
    def regenerate_token(self) -> None:
        answer = QMessageBox.question(
            self.window(),
            "Regenerate the token?",
            "The note recorder will be refused until you give it the new token.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.do_regenerate_token()

    def do_regenerate_token(self) -> None:
        def done(token: str) -> None:
            self.show_token(token, self._keyring_ok)
            self.token_message.setText("New token made. Give it to the note recorder.")
            if self._intake is not None:
                self._intake.reload_token()

        self.tasks.run(
            "regenerate_token",
            secrets.new_intake_token,
            done,
            lambda e: self.token_message.setText(str(e)),
        )

    @Slot(str)
    def _intake_state(self, text: str) -> None:
        self.intake_status.setText(text)

    def committed(self, key: str, value: object) -> None:
        if key in ("intake_port", "recorder_origin") and self._intake is not None:
            self._intake.apply()

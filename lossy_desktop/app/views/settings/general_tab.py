"""The General tab: notifications, starting in the tray, starting at login."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QGroupBox, QVBoxLayout

from lossy_desktop.app.views.settings.page import SettingsPage


class GeneralTab(SettingsPage):
    def build(self) -> None:
        layout = QVBoxLayout(self)
        box = QGroupBox("General")
        form = QVBoxLayout(box)
        for key, text in (
            (
                "notifications",
                "Show desktop notifications (a login expired, a note failed, a batch posted)",
            ),
            ("start_minimized", "Start in the tray, without the window"),
            ("autostart", "Start Lossy Desktop when I log in"),
        ):
            form.addWidget(self.field(key, QCheckBox(text)))
        layout.addWidget(box)
        layout.addStretch(1)

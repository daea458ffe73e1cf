"""The General tab: notifications, starting in the tray, starting at login."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QGroupBox, QVBoxLayout

from lossy_desktop.app.views.settings.page import SettingsPage

if TYPE_CHECKING:
    from lossy_desktop.app.concurrency import BackgroundTasks
    from lossy_desktop.app.views.settings.binder import SettingField
    from lossy_desktop.services import Services


class GeneralTab(SettingsPage):
    def __init__(
        self,
        services: Services,
        tasks: BackgroundTasks,
        fields: dict[str, SettingField],
    ) -> None:
        super().__init__(services, tasks, fields)
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

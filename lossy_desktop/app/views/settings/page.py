"""What every settings tab shares: its fields bound to settings, the window's background tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QWidget

from lossy_desktop.app.views.settings.binder import SettingField

if TYPE_CHECKING:
    from lossy_desktop.app.concurrency import BackgroundTasks
    from lossy_desktop.services import Services


class SettingsPage(QWidget):
    """One tab. `field(key, widget)` binds a widget to a setting (the window's `fields[key]`);
    a stored value is first handed to `committed(key, value)` (the tab reacts), then emitted
    as `settingCommitted`."""

    settingCommitted = Signal(str, object)  # key, new value (GUI thread only)

    def __init__(
        self,
        services: Services,
        tasks: BackgroundTasks,
        fields: dict[str, SettingField],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.tasks = tasks
        self.fields = fields
        self.build()

    def build(self) -> None:
        """Lay out the tab's widgets (override; tabs with their own arguments build in their
        `__init__` after this one)."""

    def field(self, key: str, widget: QWidget) -> QWidget:
        bound = SettingField(self.services, key, widget)
        bound.committed.connect(self._field_committed)
        self.fields[key] = bound
        return bound.container

    @Slot(str, object)
    def _field_committed(self, key: str, value: object) -> None:
        self.committed(key, value)
        self.settingCommitted.emit(key, value)

    def committed(self, key: str, value: object) -> None:
        """A setting of this tab was stored: react to it (override)."""

    @staticmethod
    def hint(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: palette(dark);")
        return label

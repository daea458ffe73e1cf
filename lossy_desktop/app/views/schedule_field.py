"""A time of day picker for a cron setting ("Check logins every day at 03:00").

The setting stays a cron expression (e.g. `keepalive_cron` = "0 3 * * *"): the picker reads
and writes the daily form "M H * * *". A schedule set another way (the command line, a
settings file) is shown as it is, in words, and picking a time replaces it with a daily one.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QTime, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTimeEdit, QWidget

_DAILY = re.compile(r"^\s*(\d{1,2})\s+(\d{1,2})\s+\*\s+\*\s+\*\s*$")


def daily_time(cron: str) -> QTime | None:
    """The time of day of a daily cron expression ("30 4 * * *" → 04:30), else None."""
    match = _DAILY.match(cron)
    if match is None:
        return None
    minute, hour = int(match.group(1)), int(match.group(2))
    if minute > 59 or hour > 23:
        return None
    return QTime(hour, minute)


def daily_cron(time: QTime) -> str:
    """The cron expression running every day at `time`."""
    return f"{time.minute()} {time.hour()} * * *"


class DailyTimeField(QWidget):
    """ "every day at [HH:MM]" for a cron setting. Implements the setting-widget protocol
    SettingField uses: `setting_value()`, `load_setting(value)` and the `edited` signal."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._custom: str | None = None
        self._touched = False
        self.time_edit = QTimeEdit()
        self.time_edit.setDisplayFormat("HH:mm")
        self.time_edit.setKeyboardTracking(False)
        self.time_edit.timeChanged.connect(self._changed)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(dark);")
        self.note.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.lead = QLabel("every day at")
        row.addWidget(self.note)
        row.addWidget(self.lead)
        row.addWidget(self.time_edit)
        row.addStretch(1)

    def setting_value(self) -> str:
        if self._custom is not None and not self._touched:
            return self._custom
        return daily_cron(self.time_edit.time())

    def load_setting(self, value: object) -> None:
        cron = str(value)
        time = daily_time(cron)
        self._touched = False
        blocked = self.time_edit.blockSignals(True)
        try:
            self.time_edit.setTime(time if time is not None else QTime(3, 0))
        finally:
            self.time_edit.blockSignals(blocked)
        self._custom = None if time is not None else cron
        self.note.setText(
            f"on a schedule set elsewhere (“{cron}” in cron form)" if self._custom else ""
        )
        self.note.setVisible(self._custom is not None)
        self.lead.setText("— or pick a time: every day at" if self._custom else "every day at")

    @Slot()
    def _changed(self) -> None:
        self._touched = True
        self.edited.emit()

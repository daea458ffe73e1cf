"""One setting bound to one widget: the widget shows the stored value and commits through
`Settings.set` (which validates); a refused value shows its message under the field and the
widget goes back to the stored value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.app.views.schedule_field import DailyTimeField
from lossy_desktop.core.errors import ValidationError

if TYPE_CHECKING:
    from lossy_desktop.services import Services


class SettingField(QObject):
    """Binds a widget to a setting: commits through Settings.set; a refused value shows the
    message (in `error_label`) and the widget goes back to the stored value."""

    committed = Signal(str, object)  # key, new value
    refused = Signal(str, str)  # key, message

    def __init__(self, services: Services, key: str, widget: QWidget) -> None:
        super().__init__(widget)
        self.key = key
        self.widget = widget
        self._settings = services.settings
        self.error_label = QLabel()
        self.error_label.setObjectName(f"error_{key}")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b91c1c;")
        self.error_label.hide()
        self.container = QWidget()
        box = QVBoxLayout(self.container)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(widget)
        box.addWidget(self.error_label)
        spec = self._settings.spec(key)
        widget.setToolTip(spec.description)
        if isinstance(widget, QSpinBox):
            if spec.minimum is not None:
                widget.setMinimum(int(spec.minimum))
            if spec.maximum is not None:
                widget.setMaximum(int(spec.maximum))
            widget.setKeyboardTracking(False)
        elif isinstance(widget, QDoubleSpinBox):
            if spec.minimum is not None:
                widget.setMinimum(spec.minimum)
            if spec.maximum is not None:
                widget.setMaximum(spec.maximum)
            widget.setKeyboardTracking(False)
        self.load()
        if isinstance(widget, DailyTimeField):
            widget.edited.connect(self._commit)
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(self._commit)
        elif isinstance(widget, QSpinBox | QDoubleSpinBox):
            widget.valueChanged.connect(self._commit)
        elif isinstance(widget, QComboBox):
            widget.activated.connect(self._commit)
        elif isinstance(widget, QLineEdit):
            widget.editingFinished.connect(self._commit)

    def value(self) -> Any:
        w = self.widget
        if isinstance(w, DailyTimeField):
            return w.setting_value()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QSpinBox | QDoubleSpinBox):
            return w.value()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QLineEdit):
            return w.text()
        raise TypeError(type(w))

    def load(self) -> None:
        """Show the stored value (without committing it again)."""
        value = self._settings.get(self.key)
        w = self.widget
        blocked = w.blockSignals(True)
        try:
            if isinstance(w, DailyTimeField):
                w.load_setting(value)
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QSpinBox):
                w.setValue(int(value))
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(float(value))
            elif isinstance(w, QComboBox):
                index = w.findData(value)
                w.setCurrentIndex(max(index, 0))
            elif isinstance(w, QLineEdit):
                w.setText(str(value))
        finally:
            w.blockSignals(blocked)

    @Slot()
    def _commit(self) -> None:
        raw = self.value()
        if raw == self._settings.get(self.key):
            self.error_label.hide()
            return
        try:
            value = self._settings.set(self.key, raw)
        except ValidationError as error:
            self.error_label.setText(f"{error.message} — kept {self._settings.get(self.key)!r}")
            self.error_label.show()
            self.load()
            self.refused.emit(self.key, error.message)
            return
        self.error_label.hide()
        self.load()
        self.committed.emit(self.key, value)

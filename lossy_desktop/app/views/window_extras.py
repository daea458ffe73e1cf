"""The main window's window-level behaviour: geometry kept across runs, closing to the tray
(with a one-time hint), About. A mixin of MainWindow."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QCheckBox, QMainWindow, QMessageBox

from lossy_desktop.app.resources import app_icon

if TYPE_CHECKING:
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.app")

TRAY_HINT_KEY = "tray_hint_hidden"
GEOMETRY_KEY = "main_window_geometry"
FIT_SHARE = 0.92  # of the screen's free area, for a window that would not fit on it


class WindowExtras(QMainWindow):
    services: Services
    tray_available: bool
    quitRequested: Signal

    def _about(self) -> None:
        from lossy_desktop import __version__

        QMessageBox.about(
            self,
            "About Lossy Desktop",
            f"<b>Lossy Desktop {__version__}</b><p>Posts your confident video review notes as "
            "timestamped comments on YouTube, Vimeo and Air.</p>"
            f"<p>Data folder: {self.services.data.root}</p>",
        )

    # -- window ------------------------------------------
    def bring_forward(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def _restore_geometry(self) -> None:
        try:
            saved = self.services.app_state.get(GEOMETRY_KEY)
        except Exception:
            return
        if isinstance(saved, str) and saved:
            self.restoreGeometry(QByteArray.fromBase64(saved.encode("ascii")))
        self._fit_to_screen()

    def _fit_to_screen(self) -> None:
        """Open no larger than the screen's free area. A window wider than the screen (the
        default 1360 px on a 1280 px screen) hid the toolbar's right end, Settings, with no
        overflow arrow (the toolbar itself had room), and the status bar below the edge."""
        screen = self.screen()
        if screen is None:
            return
        room = screen.availableGeometry()
        if self.width() <= room.width() and self.height() <= room.height():
            return
        # Leave room for the window frame and title bar the window manager adds.
        width = min(self.width(), int(room.width() * FIT_SHARE))
        height = min(self.height(), int(room.height() * FIT_SHARE))
        self.resize(max(width, self.minimumWidth()), max(height, self.minimumHeight()))

    def save_geometry(self) -> None:
        try:
            data = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
            self.services.app_state.set(GEOMETRY_KEY, data)
        except Exception:
            log.debug("window geometry not saved", exc_info=True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_geometry()
        if not self.tray_available:
            event.accept()
            self.quitRequested.emit()
            return
        event.ignore()
        self.hide()
        self._tray_hint()

    def _tray_hint(self) -> None:
        if getattr(self, "_hint_shown", False):
            return
        if self.services.app_state.get(TRAY_HINT_KEY, False):
            return
        self._hint_shown = True
        box = QMessageBox(self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setObjectName("trayHint")
        box.setWindowTitle("Lossy Desktop keeps running")
        box.setWindowIcon(app_icon())
        box.setIcon(QMessageBox.Icon.Information)
        box.setText("Lossy Desktop is still running in the system tray.")
        box.setInformativeText(
            "Notes keep posting in the background. Open the window from the tray icon; choose "
            "Quit there (or press Ctrl+Q) to stop Lossy Desktop."
        )
        self.tray_hint_check = QCheckBox("Don't show this again", box)
        box.setCheckBox(self.tray_hint_check)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.finished.connect(self._tray_hint_done)
        self.tray_hint_box = box
        box.open()

    @Slot(int)
    def _tray_hint_done(self, _result: int) -> None:
        if self.tray_hint_check.isChecked():
            self.services.app_state.set(TRAY_HINT_KEY, True)

"""The settings window: assembles the tabs (Connections, Browser, Posting, Recorder, General).

Every setting goes through core/settings (`Settings.set` validates; a refused value shows the
message under its field and the field goes back to the stored value). Secrets go through
core/secrets to the OS keyring only. Anything slow runs on the window's one BackgroundTasks,
its result coming back on the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.app.concurrency import BackgroundTasks
from lossy_desktop.app.views.settings.browser_tab import BrowserTab
from lossy_desktop.app.views.settings.connections_tab import ConnectionsTab
from lossy_desktop.app.views.settings.general_tab import GeneralTab
from lossy_desktop.app.views.settings.posting_tab import PostingTab
from lossy_desktop.app.views.settings.recorder_tab import RecorderTab
from lossy_desktop.core import secrets

if TYPE_CHECKING:
    from lossy_desktop.app.views.settings.binder import SettingField
    from lossy_desktop.app.views.settings.page import SettingsPage
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.services import Services


class SettingsWindow(QDialog):
    """Settings. `services` is the app's Services; optional collaborators:

    - `controller`: the QueueController (its connectionChanged signal refreshes the cards; its
      `ensure_engine()` is the app's one AutomationEngine);
    - `engine`: that AutomationEngine, when given directly;
    - `intake`: the IntakeController (restarted when its port changes; its state is shown);
    - `verify`: callable(platform) -> an object with `logged_in` and `account` (runs off the
      GUI thread); default: lossy_desktop.workers.connect.verify_connection;
    - `disconnect`: callable(platform) (off the GUI thread); default:
      lossy_desktop.workers.connect.remove_connection;
    - `open_connect`: callable(platform) opening the connect dialog; default: ConnectDialog.
    """

    settingChanged = Signal(str, object)  # key, new value (GUI thread only)

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        controller: Any = None,
        intake: Any = None,
        engine: AutomationEngine | None = None,
        verify: Callable[[str], Any] | None = None,
        disconnect: Callable[[str], object] | None = None,
        open_connect: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Lossy Desktop — Settings")
        self.setObjectName("SettingsWindow")
        self.resize(760, 640)
        self.services = services
        self.engine = engine
        self._controller = controller
        self.tasks = BackgroundTasks(self)
        self.fields: dict[str, SettingField] = {}

        self.connections = ConnectionsTab(
            services,
            self.tasks,
            self.fields,
            engine=self._engine,
            controller=controller,
            verify=verify,
            disconnect=disconnect,
            open_connect=open_connect,
        )
        self.browser = BrowserTab(
            services, self.tasks, self.fields, refresh_secrets=self.refresh_secrets
        )
        self.posting = PostingTab(services, self.tasks, self.fields)
        self.recorder = RecorderTab(services, self.tasks, self.fields, intake=intake)
        self.general = GeneralTab(services, self.tasks, self.fields)
        self.tabs = QTabWidget()
        pages: list[tuple[SettingsPage, str]] = [
            (self.connections, "Connections"),
            (self.browser, "Browser"),
            (self.posting, "Posting"),
            (self.recorder, "Recorder"),
            (self.general, "General"),
        ]
        for page, title in pages:
            self.tabs.addTab(_scroll(page), title)
            page.settingCommitted.connect(self._committed)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addLayout(bottom)
        QShortcut(QKeySequence.StandardKey.Close, self, self.close)

        self.connections.refresh_connections()
        self.refresh_secrets()
        self.browser.refresh_usage()

    def _engine(self) -> AutomationEngine:
        """The app's one AutomationEngine: given, or the controller's."""
        if self.engine is None and self._controller is not None:
            self.engine = self._controller.ensure_engine()
        if self.engine is None:
            raise RuntimeError("the settings window was opened without the app's engine")
        return self.engine

    def refresh_secrets(self) -> None:
        """Read the keyring off the GUI thread (a locked keyring may prompt): once, for the
        Browserbase key (Browser tab) and the intake token (Recorder tab)."""

        def read() -> dict[str, Any]:
            return {
                "available": secrets.keyring_available(),
                "backend": secrets.backend_name(),
                "key_set": secrets.get_secret(secrets.BROWSERBASE_API_KEY) is not None,
                "project": secrets.get_secret(secrets.BROWSERBASE_PROJECT_ID) or "",
                "env": bool(os.environ.get("BROWSERBASE_API_KEY")),
                "token": secrets.intake_token(create=True),
            }

        self.tasks.run("secrets", read, self._show_secrets, self._secrets_failed)

    def _show_secrets(self, info: dict[str, Any]) -> None:
        self.browser.show_secrets(info)
        self.recorder.show_token(info["token"], bool(info["available"]))

    def _secrets_failed(self, error: Exception) -> None:
        self.browser.secrets_failed(error)
        self.recorder.show_token(None, False)

    @Slot(str, object)
    def _committed(self, key: str, value: object) -> None:
        """The app shell listens to settingChanged (it writes the autostart file, etc.)."""
        self.settingChanged.emit(key, value)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.connections.stop()
        super().closeEvent(event)


def _scroll(page: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(page)
    return area

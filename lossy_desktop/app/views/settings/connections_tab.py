"""The Connections tab: a card per platform (connect, verify, disconnect)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QMessageBox, QVBoxLayout

from lossy_desktop.app.concurrency import Mailbox
from lossy_desktop.app.views.platform_card import PlatformCard
from lossy_desktop.app.views.settings.page import SettingsPage
from lossy_desktop.core.platforms import PLATFORMS

if TYPE_CHECKING:
    from lossy_desktop.app.concurrency import BackgroundTasks
    from lossy_desktop.app.views.settings.binder import SettingField
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.app")

RETICK_MS = 60_000  # "last used 3 minutes ago" stays true


class ConnectionsTab(SettingsPage):
    """Optional collaborators (see SettingsWindow): `controller` (its connectionChanged signal
    refreshes the cards; without it the tab listens to the connection service itself),
    `verify(platform)`, `disconnect(platform)` (both run off the GUI thread), `open_connect`."""

    connectionsRefreshed = Signal()

    def __init__(
        self,
        services: Services,
        tasks: BackgroundTasks,
        fields: dict[str, SettingField],
        *,
        engine: Callable[[], AutomationEngine],
        controller: Any = None,
        verify: Callable[[str], Any] | None = None,
        disconnect: Callable[[str], object] | None = None,
        open_connect: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__(services, tasks, fields)
        self._engine = engine
        self._verify = verify
        self._disconnect = disconnect
        self._open_connect = open_connect
        self.cards: dict[str, PlatformCard] = {}
        self.connect_dialog: Any = None

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(
            self.hint(
                "Log in to each platform once. Lossy keeps the login in its own browser "
                "profile and checks it now and then, so posting keeps working for weeks."
            )
        )
        for platform in PLATFORMS:
            card = PlatformCard(platform)
            card.connectRequested.connect(self.start_connect)
            card.reconnectRequested.connect(self.start_connect)
            card.verifyRequested.connect(self.start_verify)
            card.disconnectRequested.connect(self.start_disconnect)
            self.cards[platform] = card
            layout.addWidget(card)
        self.connections_message = QLabel()
        self.connections_message.setWordWrap(True)
        layout.addWidget(self.connections_message)
        layout.addStretch(1)

        if controller is not None and hasattr(controller, "connectionChanged"):
            controller.connectionChanged.connect(self._connection_changed)
        else:  # the service calls its listeners on any thread: through a mailbox
            self._box = Mailbox(self._from_mailbox, self)
            services.connections.add_listener(self._changed_on_any_thread)
        self._clock = QTimer(self)
        self._clock.setInterval(RETICK_MS)
        self._clock.timeout.connect(self._retick)
        self._clock.start()

    def stop(self) -> None:
        self._clock.stop()

    # -- the cards ----------------------------------------------------------------------------

    def refresh_connections(self) -> None:
        """Read the connections off the GUI thread, then update the cards."""
        self.tasks.run(
            "connections", self.services.connections.list, self._show_connections, self._problem
        )

    def _show_connections(self, connections: list[Any]) -> None:
        by_platform = {c.platform: c for c in connections}
        for platform, card in self.cards.items():
            card.set_connection(by_platform.get(platform))
        self.connectionsRefreshed.emit()

    def _changed_on_any_thread(self, view: Any) -> None:
        self._box.post("connection", view)

    def _from_mailbox(self, _kind: str, view: Any) -> None:
        self._connection_changed(view)

    @Slot(object)
    def _connection_changed(self, connection: Any) -> None:
        card = self.cards.get(getattr(connection, "platform", ""))
        if card is None:
            return
        card.set_connection(None if getattr(connection, "removed", False) else connection)

    @Slot()
    def _retick(self) -> None:
        for card in self.cards.values():
            card.set_connection(card.connection)

    def _problem(self, error: Exception, platform: str | None = None) -> None:
        """One plain sentence under the platform cards; the technical text goes to the log."""
        from lossy_desktop.automation.errors import classify, connect_problem

        log.warning("settings: %s", classify(error))
        self.connections_message.setText(connect_problem(error, platform))

    # -- connect ------------------------------------------------------------------------------

    @Slot(str)
    def start_connect(self, platform: str) -> None:
        if self._open_connect is not None:
            self.connect_dialog = self._open_connect(platform)
            return
        from lossy_desktop.app.views.connect_dialog import ConnectDialog

        dialog = ConnectDialog(
            self.services,
            platform,
            provider=str(self.services.settings.get("provider")),
            engine=self._engine(),
            parent=self.window(),
        )
        dialog.finished.connect(self._connect_closed)
        self.connect_dialog = dialog
        dialog.open()
        dialog.start()

    @Slot(int)
    def _connect_closed(self, _result: int) -> None:
        self.refresh_connections()

    # -- verify -------------------------------------------------------------------------------

    @Slot(str)
    def start_verify(self, platform: str) -> None:
        card = self.cards[platform]
        card.set_busy("Checking the login…")
        verify = self._verify or self._default_verify

        def done(state: Any) -> None:
            card.set_busy(None)
            who = getattr(state, "account", None)
            if getattr(state, "logged_in", False):
                self.connections_message.setText(
                    f"{PLATFORMS[platform].label}: logged in" + (f" as {who}." if who else ".")
                )
            else:
                self.connections_message.setText(
                    f"{PLATFORMS[platform].label}: not logged in. Use Reconnect to log in again."
                )
            self.refresh_connections()

        def failed(error: Exception) -> None:
            card.set_busy(None)
            self._problem(error, platform)
            self.refresh_connections()

        self.tasks.run(f"verify:{platform}", lambda: verify(platform), done, failed)

    def _default_verify(self, platform: str) -> Any:
        from lossy_desktop.workers.connect import verify_connection

        return verify_connection(self.services, self._engine(), platform)

    # -- disconnect ---------------------------------------------------------------------------

    @Slot(str)
    def start_disconnect(self, platform: str) -> None:
        label = PLATFORMS[platform].label
        connection = self.cards[platform].connection
        where = (
            "in Browserbase"
            if getattr(connection, "provider", None) == "browserbase"
            else "on this computer"
        )
        answer = QMessageBox.question(
            self.window(),
            f"Disconnect {label}?",
            f"Lossy will forget the login saved for {label} {where}. "
            f"Notes for {label} wait until you connect again.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.disconnect_platform(platform)

    def disconnect_platform(self, platform: str) -> None:
        card = self.cards[platform]
        card.set_busy("Disconnecting…")
        disconnect = self._disconnect or self._default_disconnect

        def done(_: object) -> None:
            card.set_busy(None)
            self.connections_message.setText(f"{PLATFORMS[platform].label} disconnected.")
            self.refresh_connections()

        def failed(error: Exception) -> None:
            card.set_busy(None)
            self._problem(error, platform)
            self.refresh_connections()

        self.tasks.run(f"disconnect:{platform}", lambda: disconnect(platform), done, failed)

    def _default_disconnect(self, platform: str) -> object:
        """On a pool thread: end the login browser, delete the stored login, forget the
        connection (lossy_desktop.workers.connect.remove_connection, as the CLI does)."""
        from lossy_desktop.workers.connect import remove_connection

        return remove_connection(self.services, self._engine(), platform)

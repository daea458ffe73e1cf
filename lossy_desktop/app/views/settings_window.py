"""The settings window: platform connections, browser provider, Browserbase key, posting limits,
the recorder intake, and general options.

Every setting goes through core/settings (`Settings.set` validates; a refused value shows the
message under its field and the field goes back to the stored value). Secrets go through
core/secrets to the OS keyring only. Anything slow — the keyring (it may prompt to unlock), the
Browserbase API, checking a login, usage totals — runs on a QThreadPool, and its result comes back
through a signal to a slot of this window.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.app.views.platform_card import PlatformCard
from lossy_desktop.app.views.schedule_field import DailyTimeField
from lossy_desktop.core import secrets
from lossy_desktop.core.errors import LossyError, ValidationError
from lossy_desktop.core.platforms import PLATFORMS

if TYPE_CHECKING:
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.app")

DEFAULT_BROWSERBASE_URL = "https://api.browserbase.com"


# -- running slow calls off the GUI thread ----------------------------------------------------


class _Relay(QObject):
    """Carries a task's outcome from a pool thread to the main thread (queued signal)."""

    done = Signal(int, bool, object)  # task id, ok, result or exception


class _Task(QRunnable):
    def __init__(self, task_id: int, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._id, self._fn, self._relay = task_id, fn, relay

    def run(self) -> None:
        try:
            result, ok = self._fn(), True
        except Exception as error:
            result, ok = error, False
        try:
            self._relay.done.emit(self._id, ok, result)
        except RuntimeError:  # the window went away meanwhile
            pass


class TaskRunner(QObject):
    """`run(name, fn, on_ok, on_error)`: fn on the pool; the callbacks on the main thread.

    `finished(name)` is emitted after a callback ran (tests wait on it)."""

    finished = Signal(str)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._relay = _Relay()
        self._relay.done.connect(self._done)
        self._next = 0
        self._pending: dict[int, tuple[str, Callable[[Any], None], Callable[[Exception], None]]]
        self._pending = {}

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def run(
        self,
        name: str,
        fn: Callable[[], Any],
        on_ok: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        self._next += 1
        self._pending[self._next] = (name, on_ok, on_error)
        self._pool.start(_Task(self._next, fn, self._relay))

    @Slot(int, bool, object)
    def _done(self, task_id: int, ok: bool, result: object) -> None:
        entry = self._pending.pop(task_id, None)
        if entry is None:
            return
        name, on_ok, on_error = entry
        try:
            if ok:
                on_ok(result)
            else:
                assert isinstance(result, Exception)
                on_error(result)
        finally:
            self.finished.emit(name)


# -- Browserbase key check ----------------------------------------------------------------------


def check_browserbase_key(api_key: str, project_id: str | None, *, timeout: float = 15.0) -> str:
    """Ask Browserbase whether the key works, creating nothing billable: GET the project (or
    the project list). Returns a sentence; raises LossyError with a plain reason. The key goes
    only into the X-BB-API-Key header, never into a message."""
    base = (os.environ.get("BROWSERBASE_BASE_URL") or DEFAULT_BROWSERBASE_URL).rstrip("/")
    path = f"/v1/projects/{project_id}" if project_id else "/v1/projects"
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.get(base + path, headers={"X-BB-API-Key": api_key})
    except httpx.TimeoutException:
        raise LossyError("Browserbase did not answer in time. Check your internet connection.")
    except httpx.HTTPError as error:
        raise LossyError(f"Could not reach Browserbase ({type(error).__name__}).")
    status = response.status_code
    if status in (401, 403):
        raise LossyError(
            f"Browserbase refused this API key (HTTP {status}). Copy it again from your "
            "Browserbase dashboard (Settings → API keys)."
        )
    if status == 404 and project_id:
        raise LossyError(
            "The key works, but Browserbase knows no project with this id. Check the project id."
        )
    if status == 429:
        raise LossyError("Browserbase is rate limiting requests; try again in a minute.")
    if status >= 400:
        raise LossyError(f"Browserbase answered HTTP {status}; try again later.")
    try:
        data = response.json()
    except ValueError:
        data = None
    if project_id and isinstance(data, dict):
        name = data.get("name")
        return f"The key works (project “{name}”)." if name else "The key works."
    if isinstance(data, list):
        count = len(data)
        return f"The key works ({count} project{'s' if count != 1 else ''})."
    return "The key works."


# -- one setting bound to one widget -----------------------------------------------------------


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
        if isinstance(widget, QSpinBox | QDoubleSpinBox):
            if spec.minimum is not None:
                widget.setMinimum(
                    int(spec.minimum) if isinstance(widget, QSpinBox) else spec.minimum
                )
            if spec.maximum is not None:
                widget.setMaximum(
                    int(spec.maximum) if isinstance(widget, QSpinBox) else spec.maximum
                )
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


# -- the window ---------------------------------------------------------------------------------


class SettingsWindow(QDialog):
    """Settings. `services` is the app's Services; optional collaborators:

    - `controller`: the QueueController (its connectionChanged signal refreshes the cards);
    - `intake`: the IntakeController (restarted when its port changes; its state is shown);
    - `verify`: callable(platform) -> an object with `logged_in` and `account` (runs off the
      GUI thread); default: lossy_desktop.workers.connect.verify_connection;
    - `open_connect`: callable(platform) opening the connect dialog; default: ConnectDialog.
    """

    settingChanged = Signal(str, object)
    connectionsRefreshed = Signal()

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        controller: Any = None,
        intake: Any = None,
        engine: Any = None,
        verify: Callable[[str], Any] | None = None,
        disconnect: Callable[[str], None] | None = None,
        open_connect: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Lossy Desktop — Settings")
        self.setObjectName("SettingsWindow")
        self.resize(760, 640)
        self.services = services
        self.engine = engine
        self._controller = controller
        self._intake = intake
        self._verify = verify
        self._disconnect = disconnect
        self._open_connect = open_connect
        self.tasks = TaskRunner(self)
        self.fields: dict[str, SettingField] = {}
        self.cards: dict[str, PlatformCard] = {}
        self.connect_dialog: Any = None
        self._keyring_ok = False
        self._token: str | None = None

        self.tabs = QTabWidget()
        self.tabs.addTab(self._scroll(self._connections_page()), "Connections")
        self.tabs.addTab(self._scroll(self._browser_page()), "Browser")
        self.tabs.addTab(self._scroll(self._posting_page()), "Posting")
        self.tabs.addTab(self._scroll(self._recorder_page()), "Recorder")
        self.tabs.addTab(self._scroll(self._general_page()), "General")
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addLayout(bottom)
        QShortcut(QKeySequence.StandardKey.Close, self, activated=self.close)

        if controller is not None and hasattr(controller, "connectionChanged"):
            controller.connectionChanged.connect(self._connection_changed)
        else:
            self._relay = _ConnectionRelay(self)
            self._relay.changed.connect(self._connection_changed)
            services.connections.add_listener(self._relay)
        if intake is not None:
            intake.stateChanged.connect(self._intake_state)
            self._intake_state(intake.state)
        self.refresh_connections()
        self.refresh_secrets()
        self.refresh_usage()
        self._clock = QTimer(self)  # "last used 3 minutes ago" stays true
        self._clock.setInterval(60_000)
        self._clock.timeout.connect(self._retick)
        self._clock.start()

    # -- layout helpers ---------------------------------------------------------------------

    @staticmethod
    def _scroll(page: QWidget) -> QScrollArea:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setWidget(page)
        return area

    def _field(self, key: str, widget: QWidget) -> QWidget:
        field = SettingField(self.services, key, widget)
        field.committed.connect(self._committed)
        self.fields[key] = field
        return field.container

    @staticmethod
    def _hint(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: palette(dark);")
        return label

    # -- Connections ------------------------------------------------------------------------

    def _connections_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(12)
        layout.addWidget(
            self._hint(
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
        return page

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
            parent=self,
        )
        dialog.finished.connect(self._connect_closed)
        self.connect_dialog = dialog
        dialog.open()
        dialog.start()

    @Slot(int)
    def _connect_closed(self, _result: int) -> None:
        self.refresh_connections()

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

    def _engine(self) -> Any:
        if self.engine is None:
            from lossy_desktop.automation.engine import AutomationEngine

            self.engine = AutomationEngine()
        return self.engine

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
            self,
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

        def done(_: Any) -> None:
            card.set_busy(None)
            self.connections_message.setText(f"{PLATFORMS[platform].label} disconnected.")
            self.refresh_connections()

        def failed(error: Exception) -> None:
            card.set_busy(None)
            self._problem(error, platform)
            self.refresh_connections()

        self.tasks.run(f"disconnect:{platform}", lambda: disconnect(platform), done, failed)

    def _default_disconnect(self, platform: str) -> None:
        """Runs on a pool thread: end a login browser, delete the Browserbase context or the
        local profile (on the automation engine), then forget the connection."""
        from lossy_desktop.automation.providers import provider_for

        connection = self.services.connections.get(platform)
        if connection is None:
            return
        provider = provider_for(
            connection, self.services.settings, self.services.data, clock=self.services.clock
        )

        async def forget(_pw: Any) -> None:
            try:
                await provider.release_login(connection)
            except Exception as error:
                log.warning("ending the %s login browser: %s", platform, type(error).__name__)
            await provider.forget(connection)

        try:
            self._engine().run(forget, timeout=60)
        except Exception as error:
            # The connection goes anyway: the user asked to forget the login.
            log.warning("forgetting the %s login: %s", platform, type(error).__name__)
        self.services.connections.remove(platform)

    # -- Browser (provider, Browserbase key, usage) -----------------------------------------

    def _browser_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(12)

        provider_box = QGroupBox("Browser for new connections")
        form = QFormLayout(provider_box)
        combo = QComboBox()
        combo.addItem("This computer's Chromium", "local")
        combo.addItem("Browserbase (cloud browser)", "browserbase")
        form.addRow("Provider", self._field("provider", combo))
        path_edit = QLineEdit()
        path_edit.setPlaceholderText("found automatically")
        form.addRow("Browser path", self._field("browser_path", path_edit))
        self.browser_found = QLabel()
        self.browser_found.setWordWrap(True)
        self.browser_found.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("", self.browser_found)
        layout.addWidget(provider_box)

        key_box = QGroupBox("Browserbase")
        key_form = QFormLayout(key_box)
        self.keyring_banner = QLabel()
        self.keyring_banner.setWordWrap(True)
        self.keyring_banner.setStyleSheet(
            "background: #fef3c7; color: #92400e; border-radius: 6px; padding: 8px;"
        )
        self.keyring_banner.hide()
        key_form.addRow(self.keyring_banner)
        self.api_key_edit = QLineEdit()
        self.api_key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key_edit.setPlaceholderText("bb_live_…")
        key_form.addRow("API key", self.api_key_edit)
        self.project_edit = QLineEdit()
        self.project_edit.setPlaceholderText("optional: your project's id")
        key_form.addRow("Project id", self.project_edit)
        buttons = QHBoxLayout()
        self.save_key_button = QPushButton("Save to keyring")
        self.save_key_button.clicked.connect(self.save_key)
        self.test_key_button = QPushButton("Test key")
        self.test_key_button.clicked.connect(self.test_key)
        self.forget_key_button = QPushButton("Forget")
        self.forget_key_button.clicked.connect(self.forget_key)
        buttons.addWidget(self.save_key_button)
        buttons.addWidget(self.test_key_button)
        buttons.addWidget(self.forget_key_button)
        buttons.addStretch(1)
        key_form.addRow("", buttons)
        self.key_status = QLabel()
        self.key_status.setWordWrap(True)
        key_form.addRow("", self.key_status)
        region = QComboBox()
        for value, text in (
            ("", "Project default"),
            ("us-west-2", "US West (Oregon)"),
            ("us-east-1", "US East (Virginia)"),
            ("eu-central-1", "Europe (Frankfurt)"),
            ("ap-southeast-1", "Asia Pacific (Singapore)"),
        ):
            region.addItem(text, value)
        key_form.addRow("Region", self._field("browserbase_region", region))
        plan = QComboBox()
        for value, text in (
            ("", "Learn it from Browserbase"),
            ("free", "Free (15-minute sessions, no keepAlive)"),
            ("developer", "Developer"),
            ("startup", "Startup"),
            ("scale", "Scale"),
        ):
            plan.addItem(text, value)
        key_form.addRow("Plan", self._field("browserbase_plan", plan))
        key_form.addRow(
            "",
            self._field(
                "browserbase_record_sessions",
                QCheckBox("Record sessions (a failed note links to its replay)"),
            ),
        )
        layout.addWidget(key_box)

        usage_box = QGroupBox("Usage this month")
        usage_form = QFormLayout(usage_box)
        self.usage_label = QLabel("…")
        self.usage_label.setWordWrap(True)
        usage_form.addRow(self.usage_label)
        price = QDoubleSpinBox()
        price.setDecimals(3)
        price.setSingleStep(0.01)
        price.setPrefix("$ ")
        price.setSuffix(" / browser hour")
        usage_form.addRow("Price estimate", self._field("browserbase_price_per_hour", price))
        layout.addWidget(usage_box)
        layout.addStretch(1)
        self._show_browser_found()
        return page

    def _show_browser_found(self) -> None:
        from lossy_desktop.automation.chromium import BrowserNotFound, find_browser

        try:
            path = find_browser(str(self.services.settings.get("browser_path")) or None)
        except BrowserNotFound as error:
            self.browser_found.setText(f"⚠ {error}")
            self.browser_found.setStyleSheet("color: #b91c1c;")
        else:
            self.browser_found.setText(f"Using {path}")
            self.browser_found.setStyleSheet("color: palette(dark);")

    def refresh_secrets(self) -> None:
        """Read the keyring off the GUI thread (a locked keyring may prompt)."""

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
        self._keyring_ok = bool(info["available"])
        env = bool(info["env"])
        if env:
            self.keyring_banner.setText(
                "Using the BROWSERBASE_API_KEY environment variable. Unset it to keep the key "
                "in the system keyring instead."
            )
            self.keyring_banner.show()
        elif not self._keyring_ok:
            self.keyring_banner.setText(secrets.NO_BACKEND)
            self.keyring_banner.show()
        else:
            self.keyring_banner.hide()
        editable = self._keyring_ok and not env
        for widget in (self.api_key_edit, self.project_edit, self.save_key_button):
            widget.setEnabled(editable)
        self.forget_key_button.setEnabled(editable and bool(info["key_set"]))
        self.api_key_edit.clear()
        if info["key_set"]:
            where = "the environment" if env else f"the system keyring ({info['backend']})"
            self.api_key_edit.setPlaceholderText(f"saved in {where} — type to replace")
        else:
            self.api_key_edit.setPlaceholderText("bb_live_…")
        self.project_edit.setText(str(info["project"]))
        self.test_key_button.setEnabled(bool(info["key_set"]))
        self._show_token(info["token"])

    def _secrets_failed(self, error: Exception) -> None:
        self._keyring_ok = False
        self.keyring_banner.setText(
            str(error) if isinstance(error, LossyError) else secrets.NO_BACKEND
        )
        self.keyring_banner.show()
        self._show_token(None)

    @Slot()
    def save_key(self) -> None:
        key = self.api_key_edit.text().strip()
        project = self.project_edit.text().strip()
        if not key and not project:
            self.key_status.setText("Type the API key (and optionally the project id) first.")
            return
        if key and (len(key) < 10 or any(ch.isspace() for ch in key)):
            self.key_status.setText("That does not look like a Browserbase API key.")
            return

        def store() -> None:
            if key:
                secrets.set_secret(secrets.BROWSERBASE_API_KEY, key)
            if project:
                secrets.set_secret(secrets.BROWSERBASE_PROJECT_ID, project)
            else:
                secrets.delete_secret(secrets.BROWSERBASE_PROJECT_ID)

        def done(_: Any) -> None:
            self.key_status.setText("Saved in the system keyring.")
            self.refresh_secrets()

        def failed(error: Exception) -> None:
            self.key_status.setText(str(error))

        self.api_key_edit.clear()
        self.tasks.run("save_key", store, done, failed)

    @Slot()
    def forget_key(self) -> None:
        def forget() -> None:
            secrets.delete_secret(secrets.BROWSERBASE_API_KEY)
            secrets.delete_secret(secrets.BROWSERBASE_PROJECT_ID)

        def done(_: Any) -> None:
            self.key_status.setText("The Browserbase key was removed from the keyring.")
            self.refresh_secrets()

        self.tasks.run("forget_key", forget, done, lambda e: self.key_status.setText(str(e)))

    @Slot()
    def test_key(self) -> None:
        typed = self.api_key_edit.text().strip()
        project = self.project_edit.text().strip() or None
        self.test_key_button.setEnabled(False)
        self.key_status.setText("Asking Browserbase…")

        def check() -> str:
            key = typed or secrets.get_secret(secrets.BROWSERBASE_API_KEY)
            if not key:
                raise LossyError("No API key saved yet.")
            return check_browserbase_key(key, project)

        def done(message: str) -> None:
            self.test_key_button.setEnabled(True)
            self.key_status.setText(f"✓ {message}")
            self.key_status.setStyleSheet("color: #065f46;")

        def failed(error: Exception) -> None:
            self.test_key_button.setEnabled(True)
            text = str(error) if isinstance(error, LossyError) else "The check failed."
            self.key_status.setText(f"✗ {text}")
            self.key_status.setStyleSheet("color: #b91c1c;")

        self.tasks.run("test_key", check, done, failed)

    def refresh_usage(self) -> None:
        def read() -> tuple[Any, Any]:
            from lossy_desktop.core.usage import UsageService

            usage = UsageService(self.services.db, self.services.settings, self.services.clock)
            now = self.services.clock()
            return (
                usage.month_summary(now),
                usage.month_summary(now, provider="browserbase"),
                usage.plan_usage(now),
            )

        self.tasks.run("usage", read, self._show_usage, self._usage_failed)

    def _show_usage(self, summaries: tuple[Any, Any, Any]) -> None:
        every, cloud, plan = summaries
        minutes = every.seconds / 60.0
        text = (
            f"<b>{minutes:.1f}</b> browser minute{'s' if round(minutes, 1) != 1 else ''} "
            f"in {every.sessions} session{'s' if every.sessions != 1 else ''} this month, "
            f"{every.notes_posted} note{'s' if every.notes_posted != 1 else ''} posted."
        )
        if cloud.sessions:
            text += (
                f"<br>Browserbase: {cloud.billed_seconds / 60.0:.1f} billed minutes — "
                f"about <b>${cloud.estimated_cost:.2f}</b>."
            )
        else:
            text += "<br>Browserbase: nothing this month ($0.00)."
        if plan.included_hours is not None:
            text += (
                f"<br>{plan.used_hours:.2f} of {plan.included_hours:g} browser hours included "
                f"in the {plan.plan_name} plan"
            )
            text += (
                f" — {plan.overage_hours:.2f} h over: estimated overage "
                f"<b>${plan.estimated_overage:.2f}</b> (at ${plan.price_per_hour:g}/h)."
                if plan.overage_hours > 0
                else " — no overage."
            )
        else:
            text += (
                f"<br>{plan.used_hours:.2f} browser hours. Choose your Browserbase plan above "
                "to compare them with its included hours."
            )
        text += "<br><span style='color: gray'>Minutes on this computer's Chromium are free.</span>"
        self.usage_label.setText(text)

    def _usage_failed(self, error: Exception) -> None:
        self.usage_label.setText(
            "Usage is not available yet."
            if isinstance(error, ImportError)
            else f"Usage could not be read ({type(error).__name__})."
        )

    # -- Posting ----------------------------------------------------------------------------

    def _posting_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        auto = QGroupBox("Automatic posting")
        form = QFormLayout(auto)
        threshold = QDoubleSpinBox()
        threshold.setDecimals(2)
        threshold.setSingleStep(0.05)
        form.addRow(
            "Post notes at least this confident", self._field("auto_post_threshold", threshold)
        )
        form.addRow(
            "",
            self._hint("Notes below it stay as ghosts until you post them yourself (Post now)."),
        )
        layout.addWidget(auto)

        queue = QGroupBox("Queue limits")
        qform = QFormLayout(queue)
        qform.addRow("Posts at once", self._field("automation_concurrency", QSpinBox()))
        allowed = QSpinBox()
        allowed.setSuffix(" comments")
        period = QSpinBox()
        period.setPrefix("every ")
        period.setSuffix(" s")
        rate = QHBoxLayout()
        rate.addWidget(self._field("automation_rate_allowed", allowed))
        rate.addWidget(self._field("automation_rate_period_s", period))
        rate.addStretch(1)
        qform.addRow("Each account posts at most", rate)
        gap = QDoubleSpinBox()
        gap.setDecimals(1)
        gap.setSuffix(" s")
        gap.setSpecialValueText("no gap")
        qform.addRow("Least gap between comments", self._field("comment_interval_s", gap))
        qform.addRow("Attempts before giving up", self._field("max_attempts", QSpinBox()))
        timeout = QSpinBox()
        timeout.setSuffix(" s")
        qform.addRow(
            "Longest Browserbase posting session",
            self._field("browserbase_session_timeout_s", timeout),
        )
        qform.addRow(
            "",
            self._hint(
                "Platforms punish bursts of comments: the defaults (3 at once; for each "
                "account at most 10 comments a minute, at least 6 s apart plus a random extra) "
                "are on the safe side."
            ),
        )
        layout.addWidget(queue)

        keep = QGroupBox("Keeping logins alive")
        kform = QFormLayout(keep)
        daily = DailyTimeField()
        kform.addRow("Check logins", self._field("keepalive_cron", daily))
        daily.setToolTip("Lossy opens each platform in the background so its login stays alive")
        days = QSpinBox()
        days.setSuffix(" days")
        kform.addRow("…unused for at least", self._field("keepalive_idle_days", days))
        layout.addWidget(keep)
        layout.addStretch(1)
        return page

    # -- Recorder ---------------------------------------------------------------------------

    def _recorder_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        box = QGroupBox("Note recorder intake")
        form = QFormLayout(box)
        form.addRow(
            self._hint(
                "The note recorder sends notes to this computer only (127.0.0.1), with the "
                "token below. Port 0 turns the intake off."
            )
        )
        port = QSpinBox()
        port.setSpecialValueText("off")
        form.addRow("Port", self._field("intake_port", port))
        origin = QLineEdit()
        origin.setPlaceholderText("https://recorder.example (empty: no browser page may send)")
        form.addRow("Allowed web origin", self._field("recorder_origin", origin))
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
        return page

    def _show_token(self, token: str | None) -> None:
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
            self,
            "Regenerate the token?",
            "The note recorder will be refused until you give it the new token.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.do_regenerate_token()

    def do_regenerate_token(self) -> None:
        import secrets as stdlib_secrets

        def regenerate() -> str:
            token = stdlib_secrets.token_urlsafe(32)
            secrets.set_secret(secrets.INTAKE_TOKEN, token)
            return token

        def done(token: str) -> None:
            self._show_token(token)
            self.token_message.setText("New token made. Give it to the note recorder.")
            if self._intake is not None:
                self._intake.reload_token()

        self.tasks.run(
            "regenerate_token", regenerate, done, lambda e: self.token_message.setText(str(e))
        )

    @Slot(str)
    def _intake_state(self, text: str) -> None:
        self.intake_status.setText(text)

    # -- General ----------------------------------------------------------------------------

    def _general_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
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
            form.addWidget(self._field(key, QCheckBox(text)))
        layout.addWidget(box)
        layout.addStretch(1)
        return page

    # -- reacting to committed settings -----------------------------------------------------

    @Slot(str, object)
    def _committed(self, key: str, value: object) -> None:
        """The app shell listens to settingChanged (it writes the autostart file, etc.)."""
        if key == "browser_path":
            self._show_browser_found()
        if key in ("browserbase_plan", "browserbase_price_per_hour"):
            self.refresh_usage()
        if key in ("intake_port", "recorder_origin") and self._intake is not None:
            self._intake.apply()
        self.settingChanged.emit(key, value)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._clock.stop()
        super().closeEvent(event)


class _ConnectionRelay(QObject):
    """Carries ConnectionService listener calls (any thread) to the window (main thread)."""

    changed = Signal(object)

    def __call__(self, view: Any) -> None:
        try:
            self.changed.emit(view)
        except RuntimeError:  # the window (and this relay) is gone
            pass

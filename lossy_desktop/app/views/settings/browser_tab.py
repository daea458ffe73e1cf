"""The Browser tab: where browsers run (this computer's Chromium or Browserbase), the
Browserbase API key (kept in the system keyring only; checked by the Browserbase provider), and
this month's browser usage (services.usage)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from lossy_desktop.app.views.settings.page import SettingsPage
from lossy_desktop.core import secrets
from lossy_desktop.core.errors import LossyError

if TYPE_CHECKING:
    from lossy_desktop.app.concurrency import BackgroundTasks
    from lossy_desktop.app.views.settings.binder import SettingField
    from lossy_desktop.services import Services


class BrowserTab(SettingsPage):
    """`refresh_secrets()` asks the window to read the keyring again (after a save)."""

    def __init__(
        self,
        services: Services,
        tasks: BackgroundTasks,
        fields: dict[str, SettingField],
        *,
        refresh_secrets: Callable[[], None],
    ) -> None:
        super().__init__(services, tasks, fields)
        self._refresh_secrets = refresh_secrets
        self._keyring_ok = False
        layout = QVBoxLayout(self)
        layout.setSpacing(12)

        provider_box = QGroupBox("Browser for new connections")
        form = QFormLayout(provider_box)
        combo = QComboBox()
        combo.addItem("This computer's Chromium", "local")
        combo.addItem("Browserbase (cloud browser)", "browserbase")
        form.addRow("Provider", self.field("provider", combo))
        path_edit = QLineEdit()
        path_edit.setPlaceholderText("found automatically")
        form.addRow("Browser path", self.field("browser_path", path_edit))
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
        key_form.addRow("Region", self.field("browserbase_region", region))
        plan = QComboBox()
        for value, text in (
            ("", "Learn it from Browserbase"),
            ("free", "Free (15-minute sessions, no keepAlive)"),
            ("developer", "Developer"),
            ("startup", "Startup"),
            ("scale", "Scale"),
        ):
            plan.addItem(text, value)
        key_form.addRow("Plan", self.field("browserbase_plan", plan))
        key_form.addRow(
            "",
            self.field(
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
        usage_form.addRow("Price estimate", self.field("browserbase_price_per_hour", price))
        layout.addWidget(usage_box)
        layout.addStretch(1)
        self._show_browser_found()

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

    def show_secrets(self, info: dict[str, Any]) -> None:
        """What the window read from the keyring (see SettingsWindow.refresh_secrets)."""
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

    def secrets_failed(self, error: Exception) -> None:
        self._keyring_ok = False
        self.keyring_banner.setText(
            str(error) if isinstance(error, LossyError) else secrets.NO_BACKEND
        )
        self.keyring_banner.show()

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
            self._refresh_secrets()

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
            self._refresh_secrets()

        self.tasks.run("forget_key", forget, done, lambda e: self.key_status.setText(str(e)))

    @Slot()
    def test_key(self) -> None:
        typed = self.api_key_edit.text().strip()
        project = self.project_edit.text().strip() or None
        self.test_key_button.setEnabled(False)
        self.key_status.setText("Asking Browserbase…")

        def check() -> str:
            from lossy_desktop.automation.providers.browserbase import check_api_key

            key = typed or secrets.get_secret(secrets.BROWSERBASE_API_KEY)
            if not key:
                raise LossyError("No API key saved yet.")
            return check_api_key(key, project)

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
        def read() -> tuple[Any, Any, Any]:
            usage = self.services.usage
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
        elif cloud.sessions:  # (nothing to compare before Browserbase is used)
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

    def committed(self, key: str, value: object) -> None:
        if key == "browser_path":
            self._show_browser_found()
        if key in ("browserbase_plan", "browserbase_price_per_hour"):
            self.refresh_usage()

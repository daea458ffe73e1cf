"""The settings window: real widgets, a real database, the keyring (failing or in-memory)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fixtures import MemoryKeyring
from PySide6.QtCore import Qt, QTime
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMessageBox

from lossy_desktop.app.views.platform_card import PlatformCard, relative_time
from lossy_desktop.app.views.settings.window import SettingsWindow
from lossy_desktop.automation.agents.base import LoginState
from lossy_desktop.core import secrets
from lossy_desktop.core.usage import UsageRecord, UsageService
from lossy_desktop.services import Services

SECRET_KEY = "bb_live_ThisIsTheSecretKey123"


def open_window(qtbot: Any, services: Services, **kwargs: Any) -> SettingsWindow:
    window = SettingsWindow(services, **kwargs)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=5000)
    return window


# -- platform cards -------------------------------------------------------------------------


def test_cards_show_each_connection_status(qtbot: Any, services: Services) -> None:
    conns = services.connections
    conns.ensure("youtube", "local")
    conns.mark_active("youtube", account_name="Reviewer Ann")
    conns.ensure("vimeo", "local")
    conns.mark_expired("vimeo", "The Vimeo login expired")
    window = open_window(qtbot, services)
    yt, vimeo, air = (window.connections.cards[p] for p in ("youtube", "vimeo", "air"))
    assert yt.status_text().startswith("Connected, last used")
    assert "Reviewer Ann" in yt.detail.text()
    assert vimeo.status_text() == "Expired"
    assert vimeo.problem.text() == "The Vimeo login expired"
    assert air.status_text() == "Not connected"
    visible = {
        p: {n for n, b in c.buttons.items() if b.isVisibleTo(c)}
        for p, c in window.connections.cards.items()
    }
    assert visible == {
        "youtube": {"verify", "disconnect"},
        "vimeo": {"verify", "disconnect", "reconnect"},
        "air": {"connect"},
    }
    # A change made elsewhere (a worker thread) reaches the card by itself.
    threading.Thread(target=conns.mark_logged_out, args=("youtube", "Signed out")).start()
    qtbot.waitUntil(lambda: yt.status_text() == "Logged out", timeout=5000)
    conns.ensure("air", "local")
    qtbot.waitUntil(lambda: air.status_text() == "Awaiting login", timeout=5000)
    assert air.buttons["connect"].text() == "Continue login"


def test_relative_time_reads_naturally() -> None:
    now = 1_000_000.0
    assert relative_time(None, now) == "never"
    assert relative_time(now - 10, now) == "just now"
    assert relative_time(now - 120, now) == "2 minutes ago"
    assert relative_time(now - 3600, now) == "1 hour ago"
    assert relative_time(now - 86400 * 1.5, now) == "yesterday"
    assert relative_time(now - 86400 * 12, now) == "12 days ago"


def test_card_buttons_emit_requests(qtbot: Any) -> None:
    card = PlatformCard("vimeo")
    qtbot.addWidget(card)
    with qtbot.waitSignal(card.connectRequested) as blocker:
        qtbot.mouseClick(card.buttons["connect"], Qt.MouseButton.LeftButton)
    assert blocker.args == ["vimeo"]
    card.set_busy("Checking…")
    assert not card.buttons["connect"].isEnabled()
    card.set_busy(None)
    assert card.buttons["connect"].isEnabled()


def test_verify_runs_off_the_gui_thread_and_reports(qtbot: Any, services: Services) -> None:
    services.connections.ensure("youtube", "local")
    threads: list[str] = []

    def verify(platform: str) -> LoginState:
        threads.append(threading.current_thread().name)
        services.connections.mark_active(platform, account_name="Ann")
        return LoginState(True, "Ann")

    window = open_window(qtbot, services, verify=verify)
    card = window.connections.cards["youtube"]
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "verify:youtube"):
        qtbot.mouseClick(card.buttons["verify"], Qt.MouseButton.LeftButton)
    assert threads and threads[0] != threading.main_thread().name
    assert "logged in as Ann" in window.connections.connections_message.text()
    qtbot.waitUntil(lambda: card.status_text().startswith("Connected"), timeout=5000)
    assert card.buttons["verify"].isEnabled()


def test_verify_failure_is_shown_in_plain_words(qtbot: Any, services: Services) -> None:
    from lossy_desktop.automation.errors import AutomationError

    services.connections.ensure("air", "local")

    def verify(platform: str) -> LoginState:
        raise AutomationError("browser_unavailable", "No Chromium was found. Install chromium.")

    window = open_window(qtbot, services, verify=verify)
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "verify:air"):
        window.connections.start_verify("air")
    assert "Install chromium" in window.connections.connections_message.text()


def test_a_check_without_network_says_one_plain_sentence(
    qtbot: Any, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    from playwright.async_api import Error as PlaywrightError

    services.connections.ensure("youtube", "local")

    def verify(platform: str) -> LoginState:
        raise PlaywrightError(
            "Page.goto: net::ERR_NAME_NOT_RESOLVED at https://www.youtube.com/\n"
            'Call log:\n  - navigating to "https://www.youtube.com/", waiting until "load"'
        )

    window = open_window(qtbot, services, verify=verify)
    with (
        caplog.at_level("WARNING", logger="lossy.app"),
        qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "verify:youtube"),
    ):
        window.connections.start_verify("youtube")
    assert window.connections.connections_message.text() == (
        "Could not reach YouTube — check this computer's internet connection, then try again."
    )
    card = window.connections.cards["youtube"]
    assert not card.problem.isVisibleTo(card)  # said once, under the cards
    assert "ERR_NAME_NOT_RESOLVED" in caplog.text


def test_the_card_never_shows_a_technical_stored_error(qtbot: Any, services: Services) -> None:
    services.connections.ensure("vimeo", "local")
    services.connections.mark_expired(
        "vimeo", "the page could not be loaded (Error: Page.goto: net::ERR_FAILED)"
    )
    window = open_window(qtbot, services)
    card = window.connections.cards["vimeo"]
    assert not card.problem.isVisibleTo(card)
    assert "Notes wait until you reconnect" in card.detail.text()


def test_disconnect_asks_in_plain_words(
    qtbot: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.connections.ensure("youtube", "browserbase")
    services.connections.ensure("vimeo", "local")
    window = open_window(qtbot, services, disconnect=lambda p: None)
    asked: list[str] = []

    def question(_parent: Any, _title: str, text: str, *a: Any) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", question)
    window.connections.start_disconnect("youtube")
    window.connections.start_disconnect("vimeo")
    assert asked[0].startswith("Lossy will forget the login saved for YouTube in Browserbase.")
    assert asked[1].startswith("Lossy will forget the login saved for Vimeo on this computer.")
    assert not any("context" in text or "profile" in text for text in asked)


def test_disconnect_asks_first_then_removes(
    qtbot: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.connections.ensure("vimeo", "local")
    services.connections.mark_active("vimeo", account_name="Bo")
    removed: list[str] = []

    def disconnect(platform: str) -> None:
        removed.append(platform)
        services.connections.remove(platform)

    window = open_window(qtbot, services, disconnect=disconnect)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    window.connections.start_disconnect("vimeo")
    assert removed == []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "disconnect:vimeo"):
        window.connections.start_disconnect("vimeo")
    assert removed == ["vimeo"]
    qtbot.waitUntil(
        lambda: window.connections.cards["vimeo"].status_text() == "Not connected", timeout=5000
    )
    assert services.connections.get("vimeo") is None


def test_connect_runs_on_the_apps_one_engine(qtbot: Any, services: Services) -> None:
    """The window makes no engine of its own: the connect dialog gets the controller's."""
    from lossy_desktop.automation.engine import AutomationEngine

    class Controller:  # the part of the QueueController the window uses
        def __init__(self) -> None:
            self.engine = AutomationEngine()
            self.asked = 0

        def ensure_engine(self) -> AutomationEngine:
            self.asked += 1
            return self.engine

    controller = Controller()
    services.settings.set("provider", "browserbase")  # no key: refused before any browser
    try:
        window = open_window(qtbot, services, controller=controller)
        tab = window.connections
        tab.start_connect("youtube")
        dialog = tab.connect_dialog
        qtbot.waitUntil(lambda: dialog.state == "error", timeout=30_000)
        assert controller.asked >= 1
        assert dialog.flow.engine is controller.engine
        dialog.close()
    finally:
        controller.engine.close()


# -- settings fields --------------------------------------------------------------------------


def test_a_bad_value_shows_the_message_and_keeps_the_old_one(
    qtbot: Any, services: Services
) -> None:
    services.settings.set("recorder_origin", "https://recorder.example")
    window = open_window(qtbot, services)
    field = window.fields["recorder_origin"]
    field.widget.setText("ftp://nope")
    with qtbot.waitSignal(field.refused):
        field.widget.editingFinished.emit()
    assert services.settings.get("recorder_origin") == "https://recorder.example"
    assert field.widget.text() == "https://recorder.example"
    assert not field.error_label.isHidden()
    assert "http(s) URL" in field.error_label.text()
    # A good value is stored and the message goes away.
    field.widget.setText("https://other.example")
    with qtbot.waitSignal(field.committed):
        field.widget.editingFinished.emit()
    assert services.settings.get("recorder_origin") == "https://other.example"
    assert field.error_label.isHidden()


def test_login_checks_are_a_time_of_day_kept_as_cron(qtbot: Any, services: Services) -> None:
    window = open_window(qtbot, services)
    daily = window.fields["keepalive_cron"].widget
    assert daily.time_edit.time() == QTime(3, 0)
    assert not daily.note.isVisibleTo(daily)
    daily.time_edit.setTime(QTime(4, 30))
    assert services.settings.get("keepalive_cron") == "30 4 * * *"
    # A schedule set elsewhere (command line, settings file) is said, and kept until a time is
    # picked.
    services.settings.set("keepalive_cron", "0 */6 * * *")
    window.fields["keepalive_cron"].load()
    assert daily.note.isVisibleTo(daily) and "0 */6 * * *" in daily.note.text()
    assert daily.setting_value() == "0 */6 * * *"
    daily.time_edit.setTime(QTime(22, 5))
    assert services.settings.get("keepalive_cron") == "5 22 * * *"
    assert not daily.note.isVisibleTo(daily)


def test_posting_limits_speak_of_comments_per_account(qtbot: Any, services: Services) -> None:
    window = open_window(qtbot, services)
    page = window.fields["comment_interval_s"].widget.window()
    labels = " | ".join(label.text() for label in page.findChildren(QLabel))
    assert "Each account posts at most" in labels and "Least gap between comments" in labels
    assert "(cron)" not in labels and "At most …" not in labels and "… per" not in labels
    allowed = window.fields["automation_rate_allowed"].widget
    period = window.fields["automation_rate_period_s"].widget
    assert (allowed.text(), period.text()) == ("10 comments", "every 60 s")
    gap = window.fields["comment_interval_s"].widget
    gap.setValue(12.5)
    assert services.settings.get("comment_interval_s") == pytest.approx(12.5)
    gap.setValue(0)
    assert gap.text() == "no gap"


def test_recorder_tab_says_the_keyring_problem_once_with_the_right_advice(
    qtbot: Any, services: Services
) -> None:
    # The test keyring is the failing backend: no token can be kept.
    window = open_window(qtbot, services)
    recorder = window.recorder.token_message.parentWidget()
    texts = [label.text() for label in recorder.findChildren(QLabel) if label.isVisibleTo(recorder)]
    assert sum(text.count("No system keyring") for text in texts) == 1
    assert "BROWSERBASE_API_KEY" not in window.recorder.token_message.text()
    assert "no environment variable" in window.recorder.token_message.text()


def test_numbers_and_switches_are_stored(qtbot: Any, services: Services) -> None:
    window = open_window(qtbot, services)
    threshold = window.fields["auto_post_threshold"].widget
    assert threshold.value() == pytest.approx(0.7)
    assert threshold.maximum() == 1.0
    threshold.setValue(0.85)
    assert services.settings.get("auto_post_threshold") == pytest.approx(0.85)
    concurrency = window.fields["automation_concurrency"].widget
    assert (concurrency.minimum(), concurrency.maximum()) == (1, 10)
    concurrency.setValue(2)
    assert services.settings.get("automation_concurrency") == 2
    notifications = window.fields["notifications"].widget
    qtbot.mouseClick(notifications, Qt.MouseButton.LeftButton)
    assert services.settings.get("notifications") is False
    provider = window.fields["provider"].widget
    provider.setCurrentIndex(provider.findData("browserbase"))
    provider.activated.emit(provider.currentIndex())
    assert services.settings.get("provider") == "browserbase"


def test_browser_path_found_or_what_to_install(
    qtbot: Any, services: Services, tmp_path: Any
) -> None:
    window = open_window(qtbot, services)
    assert window.browser.browser_found.text().startswith("Using ")
    path = window.fields["browser_path"]
    path.widget.setText(str(tmp_path / "no-such-browser"))
    path.widget.editingFinished.emit()
    assert "no file at" in path.error_label.text()
    assert services.settings.get("browser_path") == ""


# -- secrets ----------------------------------------------------------------------------------


def test_no_keyring_says_so_and_stores_nothing(qtbot: Any, services: Services) -> None:
    window = open_window(qtbot, services)
    assert not window.browser.keyring_banner.isHidden()
    assert "BROWSERBASE_API_KEY" in window.browser.keyring_banner.text()
    assert not window.browser.save_key_button.isEnabled()
    assert not window.recorder.copy_token_button.isEnabled()
    assert "keyring" in window.recorder.token_message.text()


def test_environment_key_is_used_and_said(
    qtbot: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSERBASE_API_KEY", SECRET_KEY)
    window = open_window(qtbot, services)
    assert "environment variable" in window.browser.keyring_banner.text()
    assert window.browser.test_key_button.isEnabled()
    assert SECRET_KEY not in window.browser.api_key_edit.text()


def test_key_goes_to_the_keyring_only(
    qtbot: Any, services: Services, memory_keyring: MemoryKeyring
) -> None:
    window = open_window(qtbot, services)
    assert window.browser.keyring_banner.isHidden()
    window.browser.api_key_edit.setText(SECRET_KEY)
    window.browser.project_edit.setText("proj-123")
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "secrets"):
        qtbot.mouseClick(window.browser.save_key_button, Qt.MouseButton.LeftButton)
    assert memory_keyring.store[(secrets.SERVICE, secrets.BROWSERBASE_API_KEY)] == SECRET_KEY
    assert memory_keyring.store[(secrets.SERVICE, secrets.BROWSERBASE_PROJECT_ID)] == "proj-123"
    assert window.browser.api_key_edit.text() == ""
    assert "saved in the system keyring" in window.browser.api_key_edit.placeholderText()
    services.db.dispose()
    for path in services.data.root.rglob("*"):
        if path.is_file():
            assert SECRET_KEY.encode() not in path.read_bytes(), path
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "secrets"):
        window.browser.forget_key()
    assert (secrets.SERVICE, secrets.BROWSERBASE_API_KEY) not in memory_keyring.store


class _FakeBrowserbase(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, str | None]] = []

    def do_GET(self) -> None:
        key = self.headers.get("X-BB-API-Key")
        type(self).calls.append((self.command, self.path, key))
        if key != SECRET_KEY:
            self._reply(401, {"error": "Unauthorized"})
        elif self.path == "/v1/projects":
            self._reply(200, [{"id": "proj-123", "name": "Reviews"}])
        elif self.path == "/v1/projects/proj-123":
            self._reply(200, {"id": "proj-123", "name": "Reviews"})
        else:
            self._reply(404, {"error": "Not found"})

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_browserbase(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FakeBrowserbase]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeBrowserbase)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("BROWSERBASE_BASE_URL", f"http://127.0.0.1:{server.server_port}")
    _FakeBrowserbase.calls = []
    yield _FakeBrowserbase
    server.shutdown()
    server.server_close()
    thread.join()


def test_test_key_asks_browserbase_off_the_gui_thread(
    qtbot: Any, services: Services, memory_keyring: MemoryKeyring, fake_browserbase: Any
) -> None:
    secrets.set_secret(secrets.BROWSERBASE_API_KEY, SECRET_KEY)
    window = open_window(qtbot, services)
    assert window.browser.test_key_button.isEnabled()
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "test_key"):
        qtbot.mouseClick(window.browser.test_key_button, Qt.MouseButton.LeftButton)
    assert window.browser.key_status.text() == "✓ The key works (1 project)."
    assert fake_browserbase.calls == [("GET", "/v1/projects", SECRET_KEY)]
    # The project id, when given, is checked too.
    window.browser.project_edit.setText("proj-123")
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "test_key"):
        window.browser.test_key()
    assert window.browser.key_status.text() == "✓ The key works (project “Reviews”)."
    window.browser.project_edit.setText("proj-nope")
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "test_key"):
        window.browser.test_key()
    assert "no project with this id" in window.browser.key_status.text()
    # A wrong typed key: refused, in plain words, without echoing it.
    window.browser.project_edit.setText("")
    window.browser.api_key_edit.setText("bb_live_wrong_key_000")
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "test_key"):
        window.browser.test_key()
    assert "refused this API key" in window.browser.key_status.text()
    assert "bb_live_wrong_key_000" not in window.browser.key_status.text()


def test_test_key_says_when_browserbase_is_unreachable(
    qtbot: Any, services: Services, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("BROWSERBASE_BASE_URL", f"http://127.0.0.1:{port}")
    secrets.set_secret(secrets.BROWSERBASE_API_KEY, SECRET_KEY)
    window = open_window(qtbot, services)
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "test_key"):
        window.browser.test_key()
    assert "Could not reach Browserbase" in window.browser.key_status.text()


def test_intake_token_copy_and_regenerate(
    qtbot: Any, services: Services, memory_keyring: MemoryKeyring
) -> None:
    class IntakeDouble:
        """Records what the window asks of the IntakeController (tested on its own)."""

        from PySide6.QtCore import QObject, Signal

        state = "Listening on 127.0.0.1:8765"

        def __init__(self) -> None:
            self.reloads = 0
            self.applies = 0

            class _S(self.QObject):  # type: ignore[name-defined,misc]
                stateChanged = self.Signal(str)  # type: ignore[attr-defined]

            self._s = _S()
            self.stateChanged = self._s.stateChanged

        def reload_token(self) -> None:
            self.reloads += 1

        def apply(self) -> None:
            self.applies += 1

    intake = IntakeDouble()
    window = open_window(qtbot, services, intake=intake)
    token = memory_keyring.store[(secrets.SERVICE, secrets.INTAKE_TOKEN)]
    assert window.recorder.token_edit.text() == token
    assert window.recorder.token_edit.echoMode() == window.recorder.token_edit.EchoMode.Password
    assert window.recorder.intake_status.text() == "Listening on 127.0.0.1:8765"
    qtbot.mouseClick(window.recorder.copy_token_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == token
    QGuiApplication.clipboard().clear()
    with qtbot.waitSignal(window.tasks.finished, check_params_cb=lambda n: n == "regenerate_token"):
        window.recorder.do_regenerate_token()
    new = memory_keyring.store[(secrets.SERVICE, secrets.INTAKE_TOKEN)]
    assert new != token and window.recorder.token_edit.text() == new
    assert intake.reloads == 1
    port = window.fields["intake_port"].widget
    port.setValue(9123)
    assert services.settings.get("intake_port") == 9123
    assert intake.applies == 1


def test_usage_shows_minutes_and_estimated_cost(qtbot: Any, services: Services) -> None:
    usage = UsageService(services.db, services.settings, services.clock)
    now = services.clock()
    for provider, seconds in (("browserbase", 300.0), ("local", 90.0)):
        usage.record(
            UsageRecord.build(
                provider=provider,
                platform="youtube",
                purpose="post",
                session_id=None,
                started_at=now - seconds,
                ended_at=now,
                notes_posted=2,
            )
        )
    window = open_window(qtbot, services)
    text = window.browser.usage_label.text()
    assert "<b>6.5</b> browser minutes in 2 sessions" in text
    assert "4 notes posted" in text
    assert "Browserbase: 5.0 billed minutes" in text
    assert "$0.01" in text


def test_usage_without_browserbase_does_not_ask_for_a_plan(qtbot: Any, services: Services):
    window = open_window(qtbot, services)
    qtbot.waitUntil(lambda: "this month" in window.browser.usage_label.text())
    text = window.browser.usage_label.text()
    assert "Browserbase: nothing this month" in text
    assert "browser hours" not in text and "Choose your Browserbase plan" not in text


def test_usage_shows_plan_hours_and_estimated_overage(qtbot: Any, services: Services) -> None:
    usage = UsageService(services.db, services.settings, services.clock)
    now = services.clock()
    usage.record(  # 90 minutes of Browserbase this month
        UsageRecord.build(
            provider="browserbase",
            platform="vimeo",
            purpose="post",
            session_id="s1",
            started_at=now - 5400,
            ended_at=now,
        )
    )
    window = open_window(qtbot, services)
    qtbot.waitUntil(lambda: "Choose your Browserbase plan" in window.browser.usage_label.text())
    assert "1.50 browser hours" in window.browser.usage_label.text()
    plan_box = window.fields["browserbase_plan"].widget
    plan_box.setCurrentIndex(plan_box.findData("free"))
    plan_box.activated.emit(plan_box.currentIndex())
    assert services.settings.get("browserbase_plan") == "free"
    # Free includes 1 browser hour: 0.5 h over at the price setting (0.12 $/h) is $0.06
    qtbot.waitUntil(lambda: "of 1 browser hours included" in window.browser.usage_label.text())
    text = window.browser.usage_label.text()
    assert "Free plan" in text and "0.50 h over" in text and "$0.06" in text
    plan_box.setCurrentIndex(plan_box.findData("developer"))
    plan_box.activated.emit(plan_box.currentIndex())
    qtbot.waitUntil(lambda: "of 100 browser hours included" in window.browser.usage_label.text())
    assert "no overage" in window.browser.usage_label.text()
    record = window.fields["browserbase_record_sessions"].widget
    assert record.isChecked() is False
    record.setChecked(True)
    assert services.settings.get("browserbase_record_sessions") is True

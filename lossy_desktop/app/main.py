"""The application shell: QApplication on a qasync event loop, one instance per user and data
folder, the main window, the tray, notifications, the recorder intake, and a clean quit.

    run_app(services, *, demo=False, start_minimized=None, autostarted=False, prepare=None) -> int
"""

from __future__ import annotations

import asyncio
import gc
import getpass
import hashlib
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication, QMessageBox

if TYPE_CHECKING:
    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.app.demo_start import DemoPreparation, Prepare
    from lossy_desktop.app.intake import IntakeController
    from lossy_desktop.app.views.settings.window import SettingsWindow
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.app")

AUTOSTART_FILE = "lossy-desktop.desktop"
TRAY_RETRIES = 6
TRAY_RETRY_MS = 2000


# -- single instance -------------------------------------------------------------------------------
def instance_key(data_dir: Path) -> str:
    """One name per user and data folder (a second data folder may run side by side)."""
    digest = hashlib.sha256(f"{getpass.getuser()}\0{Path(data_dir).resolve()}".encode())
    return f"lossy-desktop-{digest.hexdigest()[:20]}"


class SingleInstance(QObject):
    """`claim()` is True for the first instance; a later one tells it to come forward."""

    activated = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = instance_key(data_dir)
        self.server: QLocalServer | None = None

    def claim(self) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.key)
        if socket.waitForConnected(500):
            socket.write(b"show\n")
            socket.flush()
            socket.waitForBytesWritten(1000)
            socket.disconnectFromServer()
            return False
        QLocalServer.removeServer(self.key)  # a stale socket left by a crash
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.key):
            log.warning("single-instance server not listening: %s", server.errorString())
            return True
        server.newConnection.connect(self._connection)
        self.server = server
        return True

    @Slot()
    def _connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(self._read)
            socket.disconnected.connect(socket.deleteLater)

    @Slot()
    def _read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket) and b"show" in bytes(socket.readAll().data()):
            self.activated.emit()

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None


# -- autostart (XDG) -------------------------------------------------------------------------------
def autostart_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / AUTOSTART_FILE


def launch_command(data_dir: Path | None = None) -> list[str]:
    """How to start this installation of Lossy Desktop again."""
    if getattr(sys, "frozen", False):
        command = [sys.executable]
    else:
        command = [sys.executable, "-m", "lossy_desktop"]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return command


def set_autostart(enabled: bool, data_dir: Path | None = None) -> Path:
    """Write (or remove) ~/.config/autostart/lossy-desktop.desktop. Returns its path."""
    path = autostart_path()
    if not enabled:
        path.unlink(missing_ok=True)
        return path
    exec_line = " ".join(shlex.quote(part) for part in [*launch_command(data_dir), "open"])
    exec_line += " --autostarted"
    content = (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Lossy Desktop\n"
        "Comment=Post video review notes as timestamped comments\n"
        f"Exec={exec_line}\n"
        "Icon=lossy-desktop\n"
        "Terminal=false\n"
        "Categories=AudioVideo;Video;\n"
        "X-GNOME-Autostart-enabled=true\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)
    return path


def freeze_startup_heap(*_args: Any) -> None:
    """Move every object alive now out of the garbage collector's reach (gc.freeze).

    The start-up heap (Qt wrappers, SQLAlchemy, the workers and their imports: over 100,000
    objects) lives as long as the app. Left in the oldest generation, every full collection
    walked all of it: 65-80 ms of CPU on the GUI thread (or on a worker holding the GIL), a
    visible stall when one fell while notes were posting. Frozen objects are still freed by
    reference counting; only cyclic garbage made before the freeze stays. Safe to call again:
    each call freezes what was made since."""
    gc.freeze()


# -- the shell -----------------------------------------------------------------------------------
class LossyApp(QObject):
    """Everything the running app is made of. `start()` shows it; `quit()` ends it cleanly."""

    finished = Signal()

    def __init__(
        self,
        services: Services,
        *,
        controller: QueueController | None = None,
        demo: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        exit_app: bool = True,
        prepare: Prepare | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`prepare(progress)`: the demo's sandbox preparation, run off the GUI thread while
        the window shows its progress (lossy_desktop.app.demo_start); posting starts after."""
        super().__init__(parent)
        from lossy_desktop.app.controller import QueueController
        from lossy_desktop.app.notify import Notifier
        from lossy_desktop.app.tray import Tray
        from lossy_desktop.app.views.main_window import MainWindow

        self.services = services
        self.controller = controller or QueueController(services, parent=self)
        self.window = MainWindow(self.controller)
        if demo:
            self.window.setWindowTitle("Lossy Desktop — demo (sandbox)")
        self.tray = Tray(self.controller, self.window.model, self)
        self.notifier = Notifier(self.controller, self.window.model, self.tray, self)
        self.settings_window: SettingsWindow | None = None
        self.intake: IntakeController | None = None
        self.loop = loop
        self._exit_app = exit_app
        self._quitting = False
        self._tray_tries = 0
        self.preparation: DemoPreparation | None = None
        if prepare is not None:
            from lossy_desktop.app.demo_start import DemoPreparation

            self.preparation = DemoPreparation(
                self.window, prepare, lambda _info: self.controller.start(), self
            )

        # Start-up done (the notes in, the runner built): its heap is long-lived.
        self.window.model.fullyLoaded.connect(freeze_startup_heap)
        self.controller.runnerStarted.connect(freeze_startup_heap)
        self.window.quitRequested.connect(self.quit)
        self.window.settingsRequested.connect(self.open_settings)
        self.window.connectRequested.connect(self.connect_platform)
        self.tray.openRequested.connect(self.show_window)
        self.tray.openNoteRequested.connect(self.show_note)
        self.tray.quitRequested.connect(self.quit)
        self.tray.settingsRequested.connect(self.open_settings)
        self.notifier.reconnectRequested.connect(self.open_settings)
        self.notifier.openRequested.connect(self.show_window)

    # -- start ---------------------------------------------------------------------------------
    def start(self, *, start_minimized: bool | None = None, autostarted: bool = False) -> None:
        minimized = (
            self.services.settings.get("start_minimized")
            if start_minimized is None
            else start_minimized
        )
        self.window.model.load(self.controller)
        if self.preparation is not None:
            self.preparation.start()  # posting starts when the sandbox is ready
        else:
            self.controller.start()
        self._start_intake()
        has_tray = self.tray.show()
        self.window.tray_available = has_tray
        if not minimized or (not has_tray and not autostarted):
            self.show_window()
        elif not has_tray:
            # At login the panel may not be up yet: retry a few times, then open the window.
            QTimer.singleShot(TRAY_RETRY_MS, self._retry_tray)

    @Slot()
    def _retry_tray(self) -> None:
        self._tray_tries += 1
        if self.tray.show():
            self.window.tray_available = True
            log.info("tray appeared after %d retries", self._tray_tries)
            return
        if self._tray_tries >= TRAY_RETRIES:
            log.info("no system tray: opening the window")
            self.show_window()
            return
        QTimer.singleShot(TRAY_RETRY_MS, self._retry_tray)

    def _start_intake(self) -> None:
        """The recorder intake runs on the qasync loop (only when run_app gave us one)."""
        if self.loop is None:
            return
        from lossy_desktop.app.intake import IntakeController

        self.intake = IntakeController(self.services, self)
        self.intake.apply()

    # -- window and settings ----------------------------------------------------------------------
    @Slot()
    def show_window(self) -> None:
        self.window.bring_forward()

    @Slot(str)
    def open_settings(self, platform: str = "") -> None:
        from lossy_desktop.app.views.settings.window import SettingsWindow

        if self.settings_window is None:
            self.settings_window = SettingsWindow(
                self.services,
                self.window,
                controller=self.controller,
                intake=self.intake,
                engine=self.controller.ensure_engine(),
            )
            self.settings_window.settingChanged.connect(self._setting_changed)
        window = self.settings_window
        if platform:
            window.tabs.setCurrentIndex(0)
            card = window.connections.cards.get(platform)
            if card is not None:
                card.setFocus()
        window.show()
        window.raise_()
        window.activateWindow()

    @Slot(int)
    def show_note(self, note_id: int) -> None:
        """The window, with this note selected and in view (from the tray's failures)."""
        self.window.reveal_note(note_id)
        self.show_window()

    @Slot(str)
    def connect_platform(self, platform: str) -> None:
        """The first-run guide's and a waiting note's "Connect <platform>": the Settings
        window's own connect flow."""
        self.open_settings(platform)
        if self.settings_window is not None:  # open_settings made it
            self.settings_window.connections.start_connect(platform)

    @Slot(str, object)
    def _setting_changed(self, key: str, value: object) -> None:
        if key == "autostart":
            try:
                set_autostart(bool(value), _custom_data_dir(self.services))
            except OSError as error:
                self.window.message_bar.show_message(
                    f"Start at login could not be changed: {error}", "error"
                )

    # -- quit ------------------------------------------------------------------------------------
    @Slot()
    def quit(self) -> None:
        """Stop posting (running jobs get a moment to finish), the intake, then the app."""
        if self._quitting:
            return
        self._quitting = True
        log.info("quitting")
        self.window.save_geometry()
        self.window.statusBar().showMessage("Stopping…")
        self.tray.hide()
        self.controller.stop()
        if self.settings_window is not None:
            self.settings_window.close()
        self.window.hide()
        if self.intake is not None:
            task = asyncio.ensure_future(self.intake.aclose())
            task.add_done_callback(self._intake_closed)
            return
        self._done()

    def _intake_closed(self, _task: asyncio.Task[None]) -> None:
        self._done()

    def _done(self) -> None:
        self.finished.emit()
        app = QApplication.instance()
        if app is not None and self._exit_app:
            app.quit()

    @property
    def quitting(self) -> bool:
        return self._quitting


def _custom_data_dir(services: Services) -> Path | None:
    """The data folder to pass on the autostart command line (None: the default one)."""
    from lossy_desktop.core.paths import resolve_data_dir

    root = Path(services.data.root)
    try:
        default = resolve_data_dir(None)
    except OSError:
        return root
    return None if root == default else root


def make_application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Lossy Desktop")
    app.setOrganizationName("Lossy")
    app.setDesktopFileName("lossy-desktop")
    app.setQuitOnLastWindowClosed(False)
    from lossy_desktop.app.resources import app_icon

    app.setWindowIcon(app_icon())
    return app


def run_app(
    services: Services,
    *,
    demo: bool = False,
    start_minimized: bool | None = None,
    autostarted: bool = False,
    prepare: Prepare | None = None,
) -> int:
    """Open the app; returns the exit code when it quits (0 also when another instance was
    brought forward instead)."""
    import qasync

    app = make_application()
    instance = SingleInstance(services.data.root)
    if not instance.claim():
        print("Lossy Desktop is already running: its window was brought forward.")
        return 0
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        shell = LossyApp(services, demo=demo, loop=loop, prepare=prepare)
    except Exception as error:
        log.exception("the app could not start")
        QMessageBox.critical(None, "Lossy Desktop can't start", str(error))
        return 1
    instance.activated.connect(shell.show_window)
    if services.settings.get("autostart") != autostart_path().exists():
        try:
            set_autostart(services.settings.get("autostart"), _custom_data_dir(services))
        except OSError as error:
            log.warning("autostart file not updated: %s", error)
    closing = asyncio.Event()
    app.aboutToQuit.connect(closing.set)
    app.aboutToQuit.connect(shell.quit)  # a session logout quits through the same path
    shell.start(start_minimized=start_minimized, autostarted=autostarted)
    with loop:
        loop.run_until_complete(closing.wait())
    instance.release()
    log.info("app closed")
    return 0

"""The demo's window shows at once (issue 12, finding 13).

Preparing the sandbox (a login per platform through a real Chromium, the sample notes) takes a
while. `DemoPreparation` runs it on its own thread while the window, already open, says
"Preparing the sandbox…" with the step it is on and a progress bar; the notes then fill in and
posting starts. A failure is said in the window too (the details go to the log).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from lossy_desktop.app.concurrency import Mailbox
from lossy_desktop.app.demo import DemoInfo, Progress

if TYPE_CHECKING:
    from lossy_desktop.app.views.main_window import MainWindow

log = logging.getLogger("lossy.app")

PREPARING_TITLE = "Preparing the sandbox…"
# prepare(progress) -> DemoInfo; progress(text, steps done, steps in all), from any thread.
Prepare = Callable[[Progress], DemoInfo]


class DemoPreparation(QObject):
    """Runs `prepare` off the GUI thread; shows its progress over the empty notes list of
    `window`; calls `on_ready(info)` on the GUI thread when it is done."""

    ready = Signal(object)  # DemoInfo
    failed = Signal(str)

    def __init__(
        self,
        window: MainWindow,
        prepare: Prepare,
        on_ready: Callable[[DemoInfo], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self._prepare = prepare
        self._on_ready = on_ready
        self._box = Mailbox(self._dispatch, self)
        # not `self.thread`: that would hide QObject.thread()
        self._thread: threading.Thread | None = None
        self.done = False

    def start(self) -> None:
        self._show("Starting…", 0, 0)
        self._thread = threading.Thread(target=self._run, name="demo-prepare", daemon=True)
        self._thread.start()

    def _run(self) -> None:  # on its own thread
        try:
            info = self._prepare(
                lambda text, done, total: self._box.post("step", (text, done, total))
            )
        except Exception as error:
            log.exception("the demo sandbox could not be prepared")
            self._box.post("failed", f"{type(error).__name__}")
            return
        self._box.post("ready", info)

    def _dispatch(self, kind: str, value: Any) -> None:
        empty = self.window.table.empty
        if kind == "step":
            self._show(*value)
        elif kind == "ready":
            self.done = True
            empty.set_preparing(None)
            self.window.table.update_empty_state()
            self.window.message_bar.show_message(
                f"The sandbox is ready: {value.notes} sample notes, {value.queued} of them "
                "posting by themselves. The others wait for Post now."
            )
            self._on_ready(value)
            self.ready.emit(value)
        elif kind == "failed":
            self.done = True
            empty.set_preparing(
                "The sandbox could not be prepared",
                "Something went wrong while logging in to the sandbox — quit and start the demo "
                "again (details are in the log).",
                0,
                -1,
            )
            self.window.table.update_empty_state()
            self.window.message_bar.show_message(
                "The demo sandbox could not be prepared (details are in the log).", "error"
            )
            self.failed.emit(str(value))

    def _show(self, text: str, done: int, total: int) -> None:
        self.window.table.empty.set_preparing(PREPARING_TITLE, text, done, total)
        self.window.table.update_empty_state()

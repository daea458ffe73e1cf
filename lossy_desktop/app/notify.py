"""Desktop notifications: a login expired (click: reconnect), a note failed (with the reason),
a batch posted (one summary per batch, never one per note). Honours the `notifications`
setting. Shown through the tray icon; `notified(kind, title, body)` fires for each one shown."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QSystemTrayIcon

from lossy_desktop.automation.errors import note_error, plain_error
from lossy_desktop.core.note_state import FAILED, state_after_post_discarded
from lossy_desktop.core.platforms import PLATFORMS

if TYPE_CHECKING:
    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.app.models.notes_model import NotesModel
    from lossy_desktop.app.tray import Tray
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.queue.runner import JobEvent

log = logging.getLogger("lossy.app")

FAILED_COALESCE_MS = 1500


def _short(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class Notifier(QObject):
    notified = Signal(str, str, str)  # kind (login|failed|posted), title, body
    reconnectRequested = Signal(str)  # platform
    openRequested = Signal()

    def __init__(
        self,
        controller: QueueController,
        model: NotesModel,
        tray: Tray | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.settings = controller.services.settings
        self.model = model
        self.tray = tray
        self._connection_status: dict[str, str] = {}
        self._posted: list[int | None] = []
        self._failed: list[tuple[int | None, str]] = []  # note id, the plain reason
        self._click_platform: str | None = None
        self._failed_timer = QTimer(self)
        self._failed_timer.setSingleShot(True)
        self._failed_timer.setInterval(FAILED_COALESCE_MS)
        self._failed_timer.timeout.connect(self._flush_failed)
        controller.jobEvent.connect(self.on_job_event)
        controller.connectionChanged.connect(self.on_connection)
        if tray is not None:
            tray.icon.messageClicked.connect(self._message_clicked)

    @property
    def enabled(self) -> bool:
        return self.settings.get("notifications")

    # -- inputs ------------------------------------------
    @Slot(object)
    def on_job_event(self, event: JobEvent) -> None:
        if getattr(event, "queue", "automation") != "automation" and event.kind != "idle":
            return
        if getattr(event, "worker", None) == "retract_comment":
            return  # removing a comment is not posting: the list and its row say how it went
        if event.kind == "completed":
            self._posted.append((event.args or {}).get("note_id"))
        elif event.kind == "discarded" and state_after_post_discarded(event.error_kind) == FAILED:
            note_id = (event.args or {}).get("note_id")
            self._failed.append((note_id, self._reason(note_id, event)))
            self._failed_timer.start()
        if event.kind == "idle" or self._batch_finished():
            self._flush_posted()

    def _reason(self, note_id: int | None, event: JobEvent) -> str:
        """The plain sentence (no internal code, no browser call log) for a failed note."""
        note = self.model.note(note_id) if note_id is not None else None
        if note is not None and note.error and note.status == "failed":
            return note_error(note)
        platform = note.platform if note is not None else None
        return plain_error(event.error_kind, event.error, platform, final=True)

    def _batch_finished(self) -> bool:
        return bool(self.controller.results_in)

    @Slot(object)
    def on_connection(self, view: ConnectionView) -> None:
        if view is None:
            return
        before = self._connection_status.get(view.platform)
        self._connection_status[view.platform] = view.status
        if view.status in ("expired", "logged_out") and before != view.status:
            label = PLATFORMS[view.platform].label if view.platform in PLATFORMS else view.platform
            word = "login expired" if view.status == "expired" else "account is logged out"
            self._show(
                "login",
                f"{label} {word}",
                "Notes for this platform wait until you reconnect. Click to reconnect.",
                platform=view.platform,
            )

    # -- outputs ------------------------------------------
    def _flush_posted(self) -> None:
        if not self._posted:
            return
        ids, self._posted = self._posted, []
        notes = [self.model.note(i) for i in ids if i is not None]
        videos = {n.video_url for n in notes if n is not None}
        where = f" on {len(videos)} videos" if len(videos) > 1 else ""
        self._show("posted", f"Posted {len(ids)} note(s){where}", "Your comments are live.")

    @Slot()
    def _flush_failed(self) -> None:
        if not self._failed:
            return
        failed, self._failed = self._failed, []
        if len(failed) == 1:
            note_id, reason = failed[0]
            note = self.model.note(note_id) if note_id is not None else None
            title = f"Note failed: {_short(note.text, 50)}" if note else "A note failed to post"
            self._show("failed", title, _short(reason, 200))
        else:
            reasons = sorted({_short(reason, 60) for _id, reason in failed})
            self._show("failed", f"{len(failed)} notes failed to post", "; ".join(reasons[:3]))

    def _show(self, kind: str, title: str, body: str, *, platform: str | None = None) -> None:
        if not self.enabled:
            return
        log.info("notification (%s): %s", kind, title)
        self.notified.emit(kind, title, body)
        self._click_platform = platform
        icon = {
            "failed": QSystemTrayIcon.MessageIcon.Warning,
            "login": QSystemTrayIcon.MessageIcon.Warning,
        }.get(kind, QSystemTrayIcon.MessageIcon.Information)
        if self.tray is not None and self.tray.visible and QSystemTrayIcon.supportsMessages():
            self.tray.icon.showMessage(title, body, icon, 8000)

    @Slot()
    def _message_clicked(self) -> None:
        if self._click_platform:
            self.reconnectRequested.emit(self._click_platform)
        else:
            self.openRequested.emit()

"""The system tray icon: idle / posting / attention / paused, a tooltip saying what happens
("Posting 2 of 5"), and a menu rebuilt each time it opens (Open Lossy, Pause/Resume posting,
the notes that need attention (failed, waiting for login), recently posted notes, Quit).

Test hook: with LOSSY_TEST_TRAY_REPORT=<file> the tray appends JSON lines to that file when the
icon is shown (with its geometry) and when its menu opens (with the menu's entries)."""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from lossy_desktop.app.models.notes_model import status_key
from lossy_desktop.app.resources import tray_icon
from lossy_desktop.automation.errors import note_error
from lossy_desktop.core.wording import state_word

if TYPE_CHECKING:
    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.app.models.notes_model import NotesModel
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.core.notes import NoteView

log = logging.getLogger("lossy.app")

RECENT_LIMIT = 5
ATTENTION_CONNECTIONS = ("expired", "logged_out")


def _short(text: str, limit: int = 48) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class Tray(QObject):
    openRequested = Signal()
    openNoteRequested = Signal(int)  # a note id: show the window with that note selected
    quitRequested = Signal()
    settingsRequested = Signal(str)

    def __init__(
        self, controller: QueueController, model: NotesModel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = model
        self.state = "idle"
        self.connection_problems: dict[str, str] = {}  # platform -> status
        self.icon = QSystemTrayIcon(tray_icon("idle"), self)
        self.icon.setToolTip("Lossy Desktop")
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        controller.jobEvent.connect(self.refresh)
        controller.pausedChanged.connect(self.refresh)
        controller.progressChanged.connect(self.refresh)
        controller.connectionChanged.connect(self._connection_changed)
        model.countsChanged.connect(self.refresh)
        self._report_path = os.environ.get("LOSSY_TEST_TRAY_REPORT") or None
        self.rebuild_menu()
        self.refresh()

    # -- visibility ------------------------------------------
    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        """Show the icon if a tray exists. Returns whether it does."""
        if not self.available():
            return False
        self.icon.show()
        if self._report_path:
            QTimer.singleShot(300, self._report_shown)
        return True

    def hide(self) -> None:
        self.icon.hide()

    @property
    def visible(self) -> bool:
        return self.icon.isVisible()

    # -- state ------------------------------------------
    def refresh(self, *_args: Any) -> None:
        counts = self.model.counts()
        done, total = self.controller.progress
        running = len(self.controller.running)
        problems = counts.get("failed", 0) + counts.get("held", 0)
        if problems or self.connection_problems:
            state = "attention"
        elif self.controller.paused:
            state = "paused"
        elif running or (total and done < total):
            state = "posting"
        else:
            state = "idle"
        if state != self.state:
            self.state = state
            self.icon.setIcon(tray_icon(state))
        self.icon.setToolTip(self.tooltip())

    def tooltip(self) -> str:
        counts = self.model.counts()
        done, total = self.controller.progress
        lines = ["Lossy Desktop"]
        if self.controller.paused:
            lines.append("Posting paused")
        elif total and done < total:
            lines.append(f"Posting {min(done + 1, total)} of {total}")
        elif self.controller.running:
            lines.append(f"Posting {len(self.controller.running)} note(s)")
        else:
            lines.append("Idle")
        if counts.get("queued"):
            lines.append(f"{counts['queued']} queued")
        if counts.get("failed"):
            lines.append(f"{counts['failed']} {state_word('failed')} — open Lossy to retry")
        if counts.get("held"):
            lines.append(f"{counts['held']} {state_word('held')}")
        for platform, status in sorted(self.connection_problems.items()):
            word = "login expired" if status == "expired" else "logged out"
            lines.append(f"{platform.capitalize()}: {word}")
        return "\n".join(lines)

    @Slot(object)
    def _connection_changed(self, view: ConnectionView) -> None:
        if view is None:
            return
        if view.status in ATTENTION_CONNECTIONS:
            self.connection_problems[view.platform] = view.status
        else:
            self.connection_problems.pop(view.platform, None)
        self.refresh()

    # -- menu ------------------------------------------
    def recent_posted(self) -> list[NoteView]:
        posted = [n for n in self.model.notes() if n.status == "posted" and n.external_permalink]
        posted.sort(key=lambda n: n.posted_at or 0.0, reverse=True)
        return posted[:RECENT_LIMIT]

    def recent_failed(self) -> list[NoteView]:
        """Notes that need the user: failed, then waiting for login (most recent first)."""
        notes = [n for n in self.model.notes() if status_key(n) in ("failed", "held")]
        notes.sort(key=lambda n: (status_key(n) != "failed", -(n.updated_at or 0.0)))
        return notes[:RECENT_LIMIT]

    @Slot()
    def rebuild_menu(self) -> None:
        menu = self.menu
        menu.clear()
        open_action = menu.addAction("Open Lossy")
        open_action.triggered.connect(self.openRequested)
        font = open_action.font()
        font.setBold(True)
        open_action.setFont(font)
        done, total = self.controller.progress
        if total and done < total and not self.controller.paused:
            status = menu.addAction(f"Posting {min(done + 1, total)} of {total}")
            status.setEnabled(False)
        pause = menu.addAction("Resume posting" if self.controller.paused else "Pause posting")
        pause.triggered.connect(self.controller.toggle_paused)
        for platform, status_text in sorted(self.connection_problems.items()):
            word = "login expired" if status_text == "expired" else "logged out"
            reconnect = menu.addAction(f"Reconnect {platform.capitalize()} ({word})…")
            reconnect.setData(platform)
            reconnect.triggered.connect(self._reconnect)
        failed = self.recent_failed()
        if failed:
            menu.addSeparator()
            counts = self.model.counts()
            problems = counts.get("failed", 0) + counts.get("held", 0)
            header = menu.addAction(f"Needs attention ({problems})")
            header.setEnabled(False)
            for note in failed:
                key = status_key(note)
                why = state_word(key) if key == "held" else note_error(note) or state_word(key)
                action = menu.addAction(f"   {_short(note.text, 32)} — {_short(why, 40)}")
                action.setToolTip(note_error(note) or state_word(key))
                action.setData(note.id)
                action.triggered.connect(self._open_note)
        recent = self.recent_posted()
        menu.addSeparator()
        if recent:
            header = menu.addAction("Recently posted")
            header.setEnabled(False)
            for note in recent:
                action = menu.addAction("   " + _short(note.text))
                action.setToolTip(note.external_permalink or "")  # posted: it has one
                action.setData(note.external_permalink)
                action.triggered.connect(self._open_permalink)
        else:
            nothing = menu.addAction("Nothing posted yet")
            nothing.setEnabled(False)
        menu.addSeparator()
        quit_action = menu.addAction("Quit")
        quit_action.triggered.connect(self.quitRequested)
        self.quit_action = quit_action
        if self._report_path:
            self._report({"event": "menu", "entries": self.entries()})
            QTimer.singleShot(300, self._report_menu_geometry)

    def entries(self) -> list[str]:
        return [a.text() for a in self.menu.actions() if not a.isSeparator()]

    @Slot()
    def _open_permalink(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            QDesktopServices.openUrl(QUrl(str(action.data())))

    @Slot()
    def _open_note(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data() is not None:
            self.openNoteRequested.emit(int(action.data()))

    @Slot()
    def _reconnect(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.settingsRequested.emit(str(action.data() or ""))

    @Slot(QSystemTrayIcon.ActivationReason)
    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.openRequested.emit()

    # -- test hook ------------------------------------------
    @Slot()
    def _report_shown(self) -> None:
        rect = self.icon.geometry()
        self._report(
            {
                "event": "shown",
                "visible": self.icon.isVisible(),
                "geometry": [rect.x(), rect.y(), rect.width(), rect.height()],
                "state": self.state,
                "tooltip": self.icon.toolTip(),
            }
        )

    @Slot()
    def _report_menu_geometry(self) -> None:
        if not self.menu.isVisible():
            return
        center = self.menu.mapToGlobal(self.menu.actionGeometry(self.quit_action).center())
        self._report({"event": "menu_shown", "quit_at": [center.x(), center.y()]})

    def _report(self, data: dict[str, Any]) -> None:
        if not self._report_path:
            return
        try:
            with open(self._report_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(data) + "\n")
        except OSError:
            log.debug("tray report not written", exc_info=True)

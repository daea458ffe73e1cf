""" "Delete from YouTube/Vimeo/Air" on a posted note: after a confirmation whose default button
is Cancel, the comment is removed from the platform through the queue (workers/retract.py) and
the note stays here as a ghost, with its history. A mixin of MainWindow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QMessageBox

from lossy_desktop.core.note_state import POSTED, state_of
from lossy_desktop.core.wording import platform_label

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMainWindow

    from lossy_desktop.app.views.message_bar import MessageBar
    from lossy_desktop.app.views.note_actions import Outcome
    from lossy_desktop.core.notes import NoteView
    from lossy_desktop.services import Services

RETRACT_ACTION = "retract"


def retractable(notes: list[NoteView]) -> list[NoteView]:
    """The posted notes (not already being removed) whose comment can be deleted."""
    return [n for n in notes if state_of(n) == POSTED]


def retract_platform(notes: list[NoteView]) -> str:
    """'YouTube' (or 'the platform' for a mix of platforms, or none)."""
    platforms = {n.platform for n in retractable(notes)}
    return platform_label(platforms.pop()) if len(platforms) == 1 else "the platform"


if TYPE_CHECKING:
    _Window = QMainWindow  # the mixin's host: MainWindow
else:
    _Window = object


class RetractAction(_Window):
    # provided by MainWindow / NoteActions
    services: Services
    message_bar: MessageBar
    actions_by_name: dict[str, QAction]

    if TYPE_CHECKING:

        def selected_notes(self) -> list[NoteView]: ...
        def _run(self, description: str, work: Callable[[], Outcome]) -> None: ...

    def _update_retract_action(self, notes: list[NoteView]) -> None:
        action = self.actions_by_name[RETRACT_ACTION]
        label = retract_platform(notes)
        action.setEnabled(bool(retractable(notes)))
        action.setText(f"Delete from {label}…")
        action.setIconText(f"Delete from {label}")
        action.setToolTip(f"Remove the posted comment from {label}; the note stays as a ghost")

    @Slot()
    def retract(self) -> None:
        notes = retractable(self.selected_notes())
        if not notes:
            return
        label = retract_platform(notes)
        box = QMessageBox(self)
        box.setObjectName("confirmRetract")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(f"Delete from {label}")
        if len(notes) == 1:
            box.setText(f"Remove this comment from {label}? The note stays here as a ghost.")
        else:
            box.setText(
                f"Remove these {len(notes)} comments from {label}? The notes stay here as ghosts."
            )
        box.setInformativeText(
            "Lossy Desktop opens the video, deletes the comment and checks it is gone. "
            "Replies to it may go with it."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText(f"Delete from {label}")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        self._retract_targets = [n.id for n in notes]
        box.finished.connect(self._retract_confirmed)
        self.retract_box = box
        box.open()

    @Slot(int)
    def _retract_confirmed(self, result: int) -> None:
        ids, self._retract_targets = self._retract_targets, []
        if result != QMessageBox.StandardButton.Yes.value or not ids:
            return
        from lossy_desktop.workers.retract import queue_retract

        services = self.services

        def work() -> Outcome:
            done, problems = 0, []
            for note_id in ids:
                try:
                    queue_retract(services, note_id)
                    done += 1
                except Exception as error:  # each note's own reason is shown
                    problems.append(f"note {note_id}: {error}")
            return done, problems

        self._run("retract", work)

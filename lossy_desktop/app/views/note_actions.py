"""What the main window's note actions do: post, retry, cancel, edit, delete, add, import,
export, open the comment / the video at the note's time / the failure screenshot, connect a
platform. A mixin of MainWindow (which provides the table, model, controller, message bar)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from lossy_desktop.app.models.notes_model import status_key
from lossy_desktop.automation.errors import PERMANENT_KINDS, note_error
from lossy_desktop.core.wording import platform_label

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.app.models.notes_model import NotesFilterProxy, NotesModel
    from lossy_desktop.app.views.message_bar import MessageBar
    from lossy_desktop.app.views.note_dialogs import ImportDialog
    from lossy_desktop.app.views.notes_view import NotesTable
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.core.importer import ImportReport
    from lossy_desktop.core.notes import NoteView
    from lossy_desktop.services import Services

EDITABLE = ("ghost", "queued", "held", "failed")

if TYPE_CHECKING:
    _Window = QMainWindow  # the mixin's host: MainWindow
else:
    _Window = object


def open_in_browser(url: str) -> bool:
    """Hand an address to the desktop's browser; False when none could be started."""
    return bool(QDesktopServices.openUrl(QUrl(url)))


def done_text(description: str, count: int) -> str:
    return {
        "post": f"{count} note(s) queued for posting now.",
        "retry": f"{count} note(s) queued to try again.",
        "cancel": f"{count} note(s) will not be posted.",
        "delete": f"{count} note(s) deleted.",
        "retract": f"{count} comment(s) will be removed from the platform; the notes stay as "
        "ghosts.",
    }.get(description, f"{description}: {count} done.")


# What `work()` of an action returns: (notes done, why the others could not be done).
Outcome = tuple[int, list[str]]


class NoteActions(_Window):
    # provided by MainWindow
    controller: QueueController
    services: Services
    model: NotesModel
    proxy: NotesFilterProxy
    table: NotesTable
    message_bar: MessageBar
    connections: dict[str, ConnectionView]

    if TYPE_CHECKING:

        def selected_notes(self) -> list[NoteView]: ...
        def _update_actions(self, *_args: Any) -> None: ...
        def connect_platform(self, platform: str) -> None: ...

    _unconnected: list[str] = []  # platforms of the notes just posted that are not connected

    # -- running work on the pool ------------------------------------------
    def _run(self, description: str, work: Callable[[], Outcome]) -> None:
        """Run `work()` -> (done, problems) on the pool and report it in the message bar."""
        self._pending_description = description
        self.controller.call(work, self._action_done, self._action_failed)

    @Slot(object)
    def _action_done(self, outcome: Outcome) -> None:
        done, problems = outcome
        if problems:
            lines = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
            self.message_bar.show_message(f"{done} done. Not possible: {lines}", "error")
        elif done and self._pending_description == "post" and self._unconnected:
            platform = self._unconnected[0]
            label = platform_label(platform)
            self.message_bar.show_message(
                f"{done_text('post', done)[:-1]} — but {label} is not connected, so they wait "
                "for login until you connect it.",
                "info",
                (f"Connect {label}…", lambda: self.connect_platform(platform)),
            )
        elif done:
            self.message_bar.show_message(done_text(self._pending_description, done), "success")
        self._update_actions()

    @Slot(object)
    def _action_failed(self, error: object) -> None:
        self.message_bar.show_message(f"{self._pending_description} failed: {error}", "error")

    def _each(self, notes: list[NoteView], method: str) -> Callable[[], Outcome]:
        service = self.services.notes
        ids = [n.id for n in notes]

        def work() -> Outcome:
            done, problems = 0, []
            for note_id in ids:
                try:
                    getattr(service, method)(note_id)
                    done += 1
                except Exception as error:  # each note's own reason is shown
                    problems.append(f"note {note_id}: {error}")
            return done, problems

        return work

    # -- posting ------------------------------------------
    @Slot()
    def post_now(self) -> None:
        notes = [n for n in self.selected_notes() if status_key(n) == "ghost"]
        if not notes:
            return
        service, ids = self.services.notes, [n.id for n in notes]

        def work() -> Outcome:
            return len(service.post_now(ids)), []

        self._unconnected = sorted({n.platform for n in notes if not self._connected(n.platform)})
        self._run("post", work)

    @Slot()
    def retry(self) -> None:
        notes = [n for n in self.selected_notes() if status_key(n) in ("failed", "held")]
        if not notes:
            return
        permanent = [
            n for n in notes if status_key(n) == "failed" and n.error_kind in PERMANENT_KINDS
        ]
        if not permanent:
            self._run("retry", self._each(notes, "retry"))
            return
        box = QMessageBox(self)
        box.setObjectName("confirmRetry")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Try again?")
        first = permanent[0]
        box.setText(f"{note_error(first)}.")
        box.setInformativeText(
            "Trying again as it is will fail the same way. Edit the note first (its video "
            "address, time or text), or try again anyway if you changed things on "
            f"{platform_label(first.platform)} since."
        )
        edit = box.addButton("Edit note…", QMessageBox.ButtonRole.AcceptRole)
        anyway = box.addButton("Try again anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(edit)
        self.retry_box = box
        self._retry_targets = notes
        self._retry_buttons = (edit, anyway)
        box.finished.connect(self._retry_answered)
        box.open()

    @Slot(int)
    def _retry_answered(self, _result: int) -> None:
        clicked = self.retry_box.clickedButton()
        edit, anyway = self._retry_buttons
        notes, self._retry_targets = self._retry_targets, []
        if clicked is anyway:
            self._run("retry", self._each(notes, "retry"))
        elif clicked is edit:
            self.edit_note(notes[0])

    @Slot()
    def cancel(self) -> None:
        notes = [n for n in self.selected_notes() if status_key(n) in ("queued", "held")]
        if notes:
            self._run("cancel", self._each(notes, "cancel"))

    # -- delete ------------------------------------------
    @Slot()
    def delete(self) -> None:
        notes = [n for n in self.selected_notes() if status_key(n) != "posting"]
        if not notes:
            return
        posted = sum(1 for n in notes if n.status == "posted")
        box = QMessageBox(self)
        box.setObjectName("confirmDelete")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Delete notes")
        box.setText(f"Delete {len(notes)} note(s)?")
        info = "They are removed from Lossy Desktop; this can't be undone."
        if posted:
            info += f" {posted} already posted comment(s) stay on the platform."
        box.setInformativeText(info)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        self._delete_targets = notes
        box.finished.connect(self._delete_confirmed)
        self.delete_box = box
        box.open()

    @Slot(int)
    def _delete_confirmed(self, result: int) -> None:
        notes, self._delete_targets = self._delete_targets, []
        if result == QMessageBox.StandardButton.Yes.value:
            self._run("delete", self._each(notes, "delete"))

    # -- edit and add ------------------------------------------
    @Slot()
    def edit_text(self) -> None:
        notes = self.selected_notes()
        if len(notes) == 1 and status_key(notes[0]) in EDITABLE:
            self.edit_note(notes[0])

    def edit_note(self, note: NoteView) -> None:
        from lossy_desktop.app.views.note_dialogs import EditNoteDialog

        dialog = EditNoteDialog(self.controller, note, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._edited)
        self.edit_dialog = dialog
        dialog.open()

    @Slot(object)
    def _edited(self, _view: object) -> None:
        self.message_bar.show_message("Note saved.", "success")

    @Slot()
    def add_note(self) -> None:
        from lossy_desktop.app.views.note_dialogs import AddNoteDialog

        selected = self.selected_notes()
        dialog = AddNoteDialog(self.controller, self, defaults=selected[0] if selected else None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.created.connect(self._added)
        self.add_dialog = dialog
        dialog.open()

    @Slot(object)
    def _added(self, view: NoteView) -> None:
        if getattr(view, "queued", False) and not self._connected(view.platform):
            label = platform_label(view.platform)
            self.message_bar.show_message(
                f"Note added. It is waiting for login: connect {label} and it is posted by itself.",
                "info",
                (f"Connect {label}…", lambda: self.connect_platform(view.platform)),
            )
            return
        queued = " It is queued for posting." if getattr(view, "queued", False) else ""
        self.message_bar.show_message(f"Note added.{queued}", "success")

    # -- connections ------------------------------------------
    def _connected(self, platform: str) -> bool:
        connection = self.connections.get(platform)
        return connection is not None and bool(connection.active)

    @Slot()
    def connect_selected(self) -> None:
        notes = [n for n in self.selected_notes() if status_key(n) == "held"]
        if notes:
            self.connect_platform(notes[0].platform)

    # -- import and export ------------------------------------------
    @Slot()
    def import_notes(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(
                self,
                "Import notes",
                str(Path.home()),
                "Notes (*.json *.jsonl *.ndjson *.csv);;All files (*)",
            )
            if not path:
                return
        self.open_import(path)

    def open_import(self, path: str | Path) -> ImportDialog:
        from lossy_desktop.app.views.note_dialogs import ImportDialog

        dialog = ImportDialog(self.controller, path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(self._imported)
        self.import_dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _imported(self, report: ImportReport) -> None:
        self.message_bar.show_message(report.summary(), "success")

    @Slot()
    def export_notes(self, path: str | None = None) -> None:
        """Write the notes shown (the filters apply) as CSV: the CLI's `notes export` file."""
        if not path:
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Export notes",
                str(Path.home() / "lossy-notes.csv"),
                "CSV (*.csv)",
            )
            if not path:
                return
        from lossy_desktop.core.exporter import export_csv

        ids = [
            self.proxy.index(row, 0).data(Qt.ItemDataRole.UserRole + 1).id
            for row in range(self.proxy.rowCount())
        ]
        views = [n for n in (self.model.note(i) for i in ids) if n is not None]
        target = Path(path)

        def work() -> Outcome:
            export_csv(views, target)
            return len(views), []

        self._pending_description = "export"
        self.controller.call(work, self._exported, self._action_failed)
        self._export_path = target

    @Slot(object)
    def _exported(self, outcome: Outcome) -> None:
        count = outcome[0]
        self.message_bar.show_message(f"{count} note(s) written to {self._export_path}.", "success")

    # -- links, video, screenshot ------------------------------------------
    def _open_url(self, url: str, what: str) -> bool:
        if open_in_browser(url):
            return True
        self.message_bar.show_message(
            f"No web browser could be opened for {what}. Copy the address and paste it into "
            f"your browser: {url}",
            "error",
            ("Copy address", lambda: QGuiApplication.clipboard().setText(url)),
        )
        return False

    @Slot()
    def open_permalink(self) -> None:
        links = [n.external_permalink for n in self.selected_notes() if n.external_permalink]
        for link in links[:10]:
            if not self._open_url(link, "the comment"):
                return

    @Slot()
    def copy_permalink(self) -> None:
        links = [n.external_permalink for n in self.selected_notes() if n.external_permalink]
        if links:
            QGuiApplication.clipboard().setText("\n".join(links))
            self.statusBar().showMessage(f"Copied {len(links)} link(s)", 3000)

    @Slot()
    def open_video(self) -> None:
        """The note's video in the browser, at the note's time."""
        from lossy_desktop.core.platforms import video_url_at

        notes = self.selected_notes()
        if len(notes) != 1:
            return
        note = notes[0]
        self._open_url(
            video_url_at(note.platform, note.video_url, note.timestamp_seconds), "the video"
        )

    @Slot()
    def open_artifact(self) -> None:
        from lossy_desktop.app.views.screenshot_dialog import ScreenshotDialog

        notes = self.selected_notes()
        if len(notes) != 1 or not notes[0].failure_artifact_path:
            return
        path = Path(notes[0].failure_artifact_path)
        if not path.exists():
            self.message_bar.show_message(f"The screenshot {path.name} no longer exists.", "error")
            return
        dialog = ScreenshotDialog(path, f"{note_error(notes[0])}.", self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.screenshot_dialog = dialog
        dialog.open()

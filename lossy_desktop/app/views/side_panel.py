"""The posting side panel: each running job with its step, attempt and elapsed time, and what
finished in the last hour. Fed only by QueueController signals and the notes model (no database
reads on the GUI thread). A 1 s timer updates the elapsed labels and the "next comment in N s"
countdowns (a job waiting for its account's next comment slot, in its card or — when its
browser was released for a long wait — in the state line) and nothing else.

A card ends the moment its note is saved as posted (or failed): a batch of notes on one video
posts in one browser session, and the queue reports the jobs' results only when the whole batch
ends. Each entry under "Finished in the last hour" leads to its note (`noteRequested`)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from lossy_desktop.app.resources import STATUS_COLORS
from lossy_desktop.automation.errors import note_error, plain_error
from lossy_desktop.core.clock import format_timecode
from lossy_desktop.core.note_state import HELD, state_after_post_discarded
from lossy_desktop.core.wording import POSTING_STEPS, state_word, step_number, step_text
from lossy_desktop.queue.pacing import pacing_wait

if TYPE_CHECKING:
    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.app.models.notes_model import NotesModel
    from lossy_desktop.core.notes import NoteView
    from lossy_desktop.queue.runner import JobEvent

NoteIdRole = Qt.ItemDataRole.UserRole + 1
ENDED_STATES = ("posted", "failed")
HOUR = 3600.0
FINISHED_LIMIT = 200


# One style sheet on the cards' container, not one per card: a widget's own style sheet is
# parsed and polished for each card (and its children) as the card is made, on the GUI thread.
CARD_STYLE = (
    "#jobCard { background: palette(base); border: 1px solid palette(midlight);"
    " border-radius: 6px; }"
    " #jobSubtitle { color: palette(mid); }"
)


def format_elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def next_comment_text(until: float, now: float) -> str:
    return f"Next comment in {max(0, math.ceil(until - now))} s"


def _short(text: str, limit: int = 70) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class JobCard(QFrame):
    """One running job."""

    def __init__(
        self, event: JobEvent, title: str, subtitle: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("jobCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)  # styled by the panel's CARD_STYLE
        self.job_id = event.job_id
        self.placeholder = False
        self.job_event: JobEvent | None = None
        self.waiting_until: float | None = None
        self.started = time.monotonic()
        self.title = QLabel(title)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel(subtitle)
        self.subtitle.setObjectName("jobSubtitle")
        self.step = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, len(POSTING_STEPS))
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(6)
        self.attempt = QLabel()
        self.elapsed = QLabel("0:00")
        self.elapsed.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.step)
        layout.addWidget(self.bar)
        meta = QFrame()
        from PySide6.QtWidgets import QHBoxLayout

        row = QHBoxLayout(meta)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.attempt)
        row.addStretch(1)
        row.addWidget(self.elapsed)
        layout.addWidget(meta)
        self.update_from(event)

    def set_title(self, title: str, subtitle: str, *, placeholder: bool) -> None:
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        self.placeholder = placeholder

    def update_from(self, event: JobEvent) -> None:
        self.job_event = event
        step = event.step or ("starting browser" if event.kind == "started" else "")
        self.waiting_until = pacing_wait(event)
        number = step_number(step)
        if self.waiting_until is not None:
            self.step.setText(next_comment_text(self.waiting_until, time.time()))
        else:
            self.step.setText(step_text(step))
        if number is not None and self.waiting_until is None:
            self.bar.setValue(number)
        self.attempt.setText(f"Attempt {event.attempt} of {event.max_attempts}")

    def tick(self, now: float) -> None:
        self.elapsed.setText(format_elapsed(now - self.started))
        if self.waiting_until is not None:
            self.step.setText(next_comment_text(self.waiting_until, time.time()))


def _failure_text(kind: str | None, message: str | None, platform: str | None) -> str:
    """The plain sentence for a failure (no internal code, no browser call log)."""
    return plain_error(kind, message, platform, final=True)


class SidePanel(QWidget):
    """Live posting progress."""

    noteRequested = Signal(int)  # a finished entry was clicked: show its note

    def __init__(
        self, controller: QueueController, model: NotesModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.controller = controller
        self.model = model
        # keys: JobEvent.job_id (None only on "idle" events, which make no card)
        self.cards: dict[int | None, JobCard] = {}
        self.paced: dict[int | None, float] = {}  # job id -> its account's next comment slot
        self.finished: list[tuple[float, QListWidgetItem]] = []
        self._ended: set[int | None] = set()  # jobs whose note was saved before the queue said so
        self.setMinimumWidth(260)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        heading = QLabel("Posting")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        heading.setFont(font)
        self.state = QLabel()
        self.state.setObjectName("postingState")
        self.idle = QLabel("Nothing is posting right now.")
        self.idle.setStyleSheet("color: palette(mid);")
        self.idle.setWordWrap(True)
        # The cards keep their height and scroll when many post at once (a batch of 7).
        cards_widget = QWidget()
        cards_widget.setStyleSheet(CARD_STYLE)
        self.cards_box = QVBoxLayout(cards_widget)
        self.cards_box.setContentsMargins(0, 0, 0, 0)
        self.cards_box.setSpacing(8)
        self.cards_box.addStretch(1)
        self.cards_area = QScrollArea()
        self.cards_area.setObjectName("cardsArea")
        self.cards_area.setWidgetResizable(True)
        self.cards_area.setFrameShape(QFrame.Shape.NoFrame)
        self.cards_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cards_area.setWidget(cards_widget)
        finished_heading = QLabel("Finished in the last hour")
        bold = finished_heading.font()
        bold.setBold(True)
        finished_heading.setFont(bold)
        self.finished_list = QListWidget()
        self.finished_list.setObjectName("finishedList")
        self.finished_list.setWordWrap(True)
        self.finished_list.setUniformItemSizes(False)
        self.finished_list.setAlternatingRowColors(True)
        self.finished_list.setCursor(Qt.CursorShape.PointingHandCursor)
        self.finished_list.itemClicked.connect(self._open_item)
        self.finished_list.itemActivated.connect(self._open_item)
        self.finished_empty = QLabel("Nothing yet.")
        self.finished_empty.setStyleSheet("color: palette(mid);")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(6)
        layout.addWidget(heading)
        layout.addWidget(self.state)
        layout.addSpacing(4)
        layout.addWidget(self.idle)
        layout.addWidget(self.cards_area, 3)
        layout.addSpacing(10)
        layout.addWidget(finished_heading)
        layout.addWidget(self.finished_empty)
        layout.addWidget(self.finished_list, 2)
        layout.addStretch(1)

        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self.prune_timer = QTimer(self)
        self.prune_timer.setInterval(60_000)
        self.prune_timer.timeout.connect(self._prune)
        self.prune_timer.start()

        controller.jobEvent.connect(self.on_job_event)
        controller.pausedChanged.connect(self._refresh_state)
        controller.progressChanged.connect(self._refresh_state)
        controller.notesChanged.connect(self._notes_changed)
        model.loaded.connect(self._seed_from_model)
        model.rowsInserted.connect(self._refresh_placeholders)
        for event in list(getattr(controller, "running", {}).values()):
            self.on_job_event(event)
        self._refresh_state()
        self._refresh_visibility()

    # -- events --------------------------------------------------------------------------------
    @Slot(object)
    def on_job_event(self, event: JobEvent) -> None:
        kind = event.kind
        self.paced.pop(event.job_id, None)
        if event.job_id in self._ended:  # its card already ended with the note
            if kind not in ("started", "step"):
                self._ended.discard(event.job_id)
            return
        if kind in ("started", "step"):
            card = self.cards.get(event.job_id)
            if card is None:
                title, subtitle = self._describe(event)
                card = JobCard(event, title, subtitle, self)
                card.placeholder = self._is_placeholder(event)
                self.cards[event.job_id] = card
                card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
                self.cards_box.insertWidget(self.cards_box.count() - 1, card)
                card.tick(time.monotonic())
            else:
                card.update_from(event)
                if card.placeholder:  # the note reached the model after its job started
                    title, subtitle = self._describe(event)
                    card.set_title(title, subtitle, placeholder=self._is_placeholder(event))
            if not self.timer.isActive():
                self.timer.start()
        elif kind in ("completed", "retrying", "snoozed", "discarded", "cancelled"):
            self._remove_card(event.job_id)
            until = pacing_wait(event)
            if until is not None:  # not finished: it waits for its account's next comment
                self.paced[event.job_id] = until
                if not self.timer.isActive():
                    self.timer.start()
            else:
                self._add_finished(event)
        self._refresh_visibility()
        self._refresh_state()

    def _remove_card(self, job_id: int | None) -> None:
        card = self.cards.pop(job_id, None)
        if card is not None:
            card.hide()
            self.cards_box.removeWidget(card)
            card.deleteLater()
        if not self.cards and not self.paced:
            self.timer.stop()

    @Slot(list)
    def _notes_changed(self, views: list[NoteView]) -> None:
        """A note saved as posted or failed ends its card now, not when its batch ends."""
        ended = {view.id: view for view in views if view.status in ENDED_STATES}
        if not ended or not self.cards:
            return
        for job_id, card in list(self.cards.items()):
            if card.job_event is not None and card.job_event.worker != "post_note":
                continue  # a removal's note stays "posted" until it is gone: the queue says
            note_id = (
                (card.job_event.args or {}).get("note_id") if card.job_event is not None else None
            )
            view = ended.get(note_id) if note_id is not None else None
            if view is None:
                continue
            self._remove_card(job_id)
            self._ended.add(job_id)
            stamp = time.strftime("%H:%M")
            if view.status == "posted":
                text = f"✓  Posted · {stamp}\n{_short(view.text)}"
            else:
                reason = note_error(view)
                text = f"✗  Failed · {stamp}\n{_short(view.text)}\n{_short(reason, 120)}"
            self._push_finished(time.time(), text, view.status, view.id)
        self._refresh_visibility()
        self._refresh_state()

    @Slot(QListWidgetItem)
    def _open_item(self, item: QListWidgetItem) -> None:
        note_id = item.data(NoteIdRole)
        if note_id is not None:
            self.noteRequested.emit(int(note_id))

    def _refresh_placeholders(self, *_args: Any) -> None:
        for card in self.cards.values():
            if card.placeholder and card.job_event is not None:
                title, subtitle = self._describe(card.job_event)
                card.set_title(title, subtitle, placeholder=self._is_placeholder(card.job_event))

    def _is_placeholder(self, event: JobEvent) -> bool:
        note_id = (event.args or {}).get("note_id")
        return note_id is not None and self.model.note(note_id) is None

    def _describe(self, event: JobEvent) -> tuple[str, str]:
        note_id = (event.args or {}).get("note_id")
        note = self.model.note(note_id) if note_id is not None else None
        if note is not None:
            where = note.video_title or note.video_url
            return _short(note.text), f"{where} · {format_timecode(note.timestamp_seconds)}"
        # (a job's event always names its worker: only "idle" events have none)
        if getattr(event, "queue", "automation") == "maintenance":
            return "Keeping logins alive", event.worker  # type: ignore[return-value]
        return (f"Note {note_id}" if note_id is not None else event.worker), ""  # type: ignore[return-value]

    def _add_finished(self, event: JobEvent) -> None:
        title, _ = self._describe(event)
        stamp = time.strftime("%H:%M")
        kind = event.kind
        note_id = (event.args or {}).get("note_id")
        note = self.model.note(note_id) if note_id is not None else None
        platform = getattr(note, "platform", None)
        if kind == "completed" and event.worker == "retract_comment":
            text, color = f"✓  Removed from the platform · {stamp}\n{title}", "ghost"
        elif kind == "completed":
            text, color = f"✓  Posted · {stamp}\n{title}", "posted"
        elif kind == "discarded" and event.worker == "retract_comment":
            # The comment stays on the platform: the note is still posted, with the reason.
            reason = _failure_text(event.error_kind, event.error, platform)
            text, color = f"✗  Not removed · {stamp}\n{title}\n{_short(reason, 120)}", "failed"
        elif kind == "discarded" and state_after_post_discarded(event.error_kind) == HELD:
            # The note is not failed: it waits for a login (the list says "waiting for login").
            reason = _failure_text(event.error_kind, None, platform)
            word = state_word(HELD).capitalize()
            text, color = f"⏸  {word} · {stamp}\n{title}\n{_short(reason, 120)}", HELD
        elif kind == "discarded":
            reason = _failure_text(getattr(event, "error_kind", None), event.error, platform)
            text, color = f"✗  Failed · {stamp}\n{title}\n{_short(reason, 120)}", "failed"
        elif kind == "cancelled":
            text, color = f"–  Cancelled · {stamp}\n{title}", "ghost"
        else:
            when = (
                time.strftime("%H:%M:%S", time.localtime(event.next_run_at))
                if event.next_run_at
                else "later"
            )
            why = (
                "rate limited"
                if kind == "snoozed"
                else _short(
                    _failure_text(getattr(event, "error_kind", None), event.error, platform)
                )
            )
            text, color = f"↻  Trying again at {when} · {why}\n{title}", "queued"
        self._push_finished(time.time(), text, color, note_id)

    def _push_finished(self, at: float, text: str, color: str, note_id: int | None) -> None:
        item = QListWidgetItem(text)
        _background, foreground = STATUS_COLORS[color]
        item.setForeground(QColor(foreground))
        item.setData(Qt.ItemDataRole.UserRole, color)
        if note_id is not None:
            item.setData(NoteIdRole, int(note_id))
            item.setToolTip("Click to show this note in the list")
        self.finished_list.insertItem(0, item)
        self.finished.insert(0, (at, item))
        while len(self.finished) > FINISHED_LIMIT:
            _, old = self.finished.pop()
            self.finished_list.takeItem(self.finished_list.row(old))
        self._refresh_visibility()

    @Slot()
    def _seed_from_model(self) -> None:
        """Notes posted or failed in the last hour, known from the loaded model."""
        if self.finished:
            return
        cutoff = time.time() - HOUR
        recent = []
        for note in self.model.notes():
            if note.status == "posted" and note.posted_at and note.posted_at >= cutoff:
                recent.append((note.posted_at, note, "posted"))
            elif note.status == "failed" and note.updated_at >= cutoff:
                recent.append((note.updated_at, note, "failed"))
        for at, note, kind in sorted(recent, key=lambda r: r[0])[-FINISHED_LIMIT:]:
            stamp = time.strftime("%H:%M", time.localtime(at))
            label = "✓  Posted" if kind == "posted" else "✗  Failed"
            reason = note_error(note)
            extra = f"\n{_short(reason, 120)}" if kind == "failed" else ""
            self._push_finished(at, f"{label} · {stamp}\n{_short(note.text)}{extra}", kind, note.id)

    @Slot()
    def _tick(self) -> None:
        now = time.monotonic()
        for card in self.cards.values():
            card.tick(now)
        if self.paced:
            wall = time.time()
            for job_id, until in list(self.paced.items()):
                if until < wall - 5:  # long past: its job has surely run again
                    del self.paced[job_id]
            self._refresh_state()
            if not self.cards and not self.paced:
                self.timer.stop()

    @Slot()
    def _prune(self) -> None:
        cutoff = time.time() - HOUR
        while self.finished and self.finished[-1][0] < cutoff:
            _, item = self.finished.pop()
            self.finished_list.takeItem(self.finished_list.row(item))
        self._refresh_visibility()

    def _refresh_visibility(self) -> None:
        self.cards_area.setVisible(bool(self.cards))
        if self.cards:  # no taller than the cards: the finished list gets the rest
            spacing = self.cards_box.spacing()
            height = sum(card.sizeHint().height() + spacing for card in self.cards.values())
            self.cards_area.setMaximumHeight(height + 2)
        self.idle.setVisible(not self.cards)
        self.finished_empty.setVisible(not self.finished)
        self.finished_list.setVisible(bool(self.finished))

    def _refresh_state(self, *_args: Any) -> None:
        done, total = self.controller.progress
        if self.controller.paused:
            text = "Paused — nothing new starts until you resume."
        elif self.cards and total:
            text = f"Posting {min(done + 1, total)} of {total}"
        elif self.cards:
            text = f"Posting {len(self.cards)} note(s)"
        else:
            text = "Idle"
        if self.paced and not self.controller.paused:
            text += f" — {next_comment_text(min(self.paced.values()), time.time()).lower()}"
        self.state.setText(text)

"""The notes table: a QAbstractTableModel over NoteView snapshots and a filter proxy.

Loading runs off the GUI thread (the controller's pool). Afterwards the model changes row by
row: a changed note emits dataChanged for its row, new notes beginInsertRows, deleted ones
beginRemoveRows — never a reset per change, so 10,000 notes stay responsive. Sorting is done
here with a Python key sort (one layoutChanged), not by the proxy's per-comparison data() calls.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
    Slot,
)

from lossy_desktop.automation.errors import PERMANENT_KINDS, note_error
from lossy_desktop.core.clock import format_timecode, to_datetime
from lossy_desktop.core.note_state import REMOVING, STATES, listed_state, state_of
from lossy_desktop.core.platforms import PLATFORMS
from lossy_desktop.core.wording import platform_label, state_help, state_word

if TYPE_CHECKING:
    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.core.notes import NoteView

log = logging.getLogger("lossy.app")

COLUMNS = ("Video", "Time", "Text", "Category", "Confidence", "Status", "Last error", "Permalink")
COL_VIDEO, COL_TIME, COL_TEXT, COL_CATEGORY, COL_CONFIDENCE, COL_STATUS, COL_ERROR, COL_LINK = (
    range(len(COLUMNS))
)

NoteRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2

STATUS_ORDER = {"failed": 0, "held": 1, "posting": 2, "queued": 3, "ghost": 4, "posted": 5}
STATUS_KEYS = STATES

Index = QModelIndex | QPersistentModelIndex


def status_key(note: Any) -> str:
    """ghost / queued / held (waiting for a reconnect) / posting / posted / failed (a note whose
    comment is being removed is listed as posted): core.note_state's one definition."""
    return listed_state(note)


def _clock_text(ts: float | None) -> str:
    moment = to_datetime(ts)
    if moment is None:
        return ""
    if abs(time.time() - (ts or 0)) < 20 * 3600:
        return moment.strftime("%H:%M")
    return moment.strftime("%d %b %H:%M")


def status_label(note: NoteView) -> str:
    """The state's one word (core.wording), plus when a queued note is due."""
    key = status_key(note)
    if key == "queued":
        when = _clock_text(note.next_attempt_at)
        if note.attempts and when:
            return f"queued · retry {when}"
        return f"queued · {when}" if when else "queued"
    if state_of(note) == REMOVING:
        return state_word(REMOVING)  # its comment is being deleted from the platform
    return state_word(key)


def permalink_label(note: NoteView) -> str:
    """A short label for the Permalink column; the full address goes in the tooltip."""
    if not note.external_permalink:
        return ""
    return f"View on {platform_label(note.platform)}"


def video_label(note: NoteView) -> str:
    platform = PLATFORMS.get(note.platform)
    name = platform.label if platform else note.platform
    title = note.video_title or _url_tail(note.video_url)
    return f"{name} · {title}"


def _url_tail(url: str) -> str:
    """https://www.youtube.com/watch?v=abc -> watch?v=abc (the part that tells videos apart)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    tail = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    return tail or url


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


_SORT_KEYS: dict[int, Callable[[NoteView], Any]] = {
    COL_VIDEO: lambda n: ((n.video_title or n.video_url).lower(), n.timestamp_seconds),
    COL_TIME: lambda n: (n.timestamp_seconds, n.id),
    COL_TEXT: lambda n: n.text.lower(),
    COL_CATEGORY: lambda n: (n.category or "").lower(),
    COL_CONFIDENCE: lambda n: n.confidence,
    COL_STATUS: lambda n: (STATUS_ORDER.get(status_key(n), 9), n.next_attempt_at or 0.0),
    COL_ERROR: lambda n: n.error or "",
    COL_LINK: lambda n: n.external_permalink or "",
}


class NotesModel(QAbstractTableModel):
    """Rows are NoteView snapshots; `note(id)`, `row_of(id)`, `notes()` for lookups."""

    loaded = Signal()  # the first rows are in (the rest may still be loading)
    fullyLoaded = Signal()  # every note is in
    loadFailed = Signal(str)
    countsChanged = Signal()
    videosChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[NoteView] = []
        self._row_of: dict[int, int] = {}
        self._counts: Counter[str] = Counter()
        self._videos: dict[str, str] = {}  # url -> label
        self._video_refs: Counter[str] = Counter()
        self._is_loaded = False
        self._pending: dict[int, NoteView] = {}  # changes that arrived while loading
        self._pending_deletes: set[int] = set()
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._resort = QTimer(self)
        self._resort.setSingleShot(True)
        self._resort.setInterval(0)
        self._resort.timeout.connect(self._apply_sort)
        self._haystacks: dict[int, str] = {}
        self._loading_rest = False
        self._removed_while_loading: set[int] = set()
        self._controller: QueueController | None = None

    # -- loading -----------------------------------------------------------------------------
    FIRST_PAGE = 500

    def load(self, controller: QueueController) -> None:
        """Fetch the notes on the controller's pool: the first FIRST_PAGE rows (shown at once,
        `loaded` fires), then the rest, appended with one beginInsertRows (`fullyLoaded`)."""
        notes = controller.services.notes
        self._controller = controller
        first = self.FIRST_PAGE
        controller.call(lambda: notes.list(limit=first), self._on_loaded, self._on_load_failed)

    @Slot(object)
    def _on_loaded(self, views: list[NoteView]) -> None:
        self._removed_while_loading = set()
        self.set_notes(views)
        if len(views) < self.FIRST_PAGE:
            self.fullyLoaded.emit()
            return
        self._loading_rest = True
        controller = self._controller
        assert controller is not None, "load() set it"
        notes = controller.services.notes
        first = self.FIRST_PAGE
        controller.call(
            lambda: notes.list(offset=first), self._on_rest_loaded, self._on_load_failed
        )

    @Slot(object)
    def _on_rest_loaded(self, views: list[NoteView]) -> None:
        gone = self._removed_while_loading
        self.apply([v for v in views if v.id not in gone])
        self._removed_while_loading = set()
        self._loading_rest = False
        self.fullyLoaded.emit()

    @Slot(object)
    def _on_load_failed(self, error: object) -> None:
        log.error("loading notes failed: %s", error)
        self.loadFailed.emit(str(error))

    def set_notes(self, views: Iterable[NoteView]) -> None:
        """Replace every row (the initial load only)."""
        rows = list(views)
        if self._pending or self._pending_deletes:
            by_id = {n.id: n for n in rows}
            for note_id, view in self._pending.items():
                old = by_id.get(note_id)
                if old is None or view.updated_at >= old.updated_at:
                    by_id[note_id] = view
            for note_id in self._pending_deletes:
                by_id.pop(note_id, None)
            rows = list(by_id.values())
            self._pending.clear()
            self._pending_deletes.clear()
        self.beginResetModel()
        self._rows = rows
        if self._sort_column >= 0:
            self._rows.sort(
                key=_SORT_KEYS[self._sort_column],
                reverse=self._sort_order == Qt.SortOrder.DescendingOrder,
            )
        self._reindex()
        self._counts = Counter(status_key(n) for n in rows)
        self._video_refs = Counter(n.video_url for n in rows)
        self._videos = {n.video_url: video_label(n) for n in rows}
        self._haystacks.clear()
        self.endResetModel()
        self._is_loaded = True
        self.countsChanged.emit()
        self.videosChanged.emit()
        self.loaded.emit()

    @property
    def is_loaded(self) -> bool:
        return self._is_loaded

    # -- row-level changes ---------------------------------------------------------------------
    @Slot(list)
    def apply(self, views: list[NoteView]) -> None:
        """Upsert notes: dataChanged for known rows, one beginInsertRows for the new ones."""
        if not self._is_loaded:
            for view in views:
                self._pending[view.id] = view
                self._pending_deletes.discard(view.id)
            return
        new: list[NoteView] = []
        changed_rows: list[int] = []
        videos_before = len(self._videos)
        resort = False
        sort_key = _SORT_KEYS.get(self._sort_column)
        for view in views:
            row = self._row_of.get(view.id)
            if row is None:
                new.append(view)
                continue
            old = self._rows[row]
            if view.updated_at < old.updated_at:
                continue  # an older snapshot delivered late
            self._counts[status_key(old)] -= 1
            self._counts[status_key(view)] += 1
            self._rows[row] = view
            self._haystacks.pop(view.id, None)
            if sort_key is not None and sort_key(old) != sort_key(view):
                resort = True
            changed_rows.append(row)
        for first, last in _runs(sorted(set(changed_rows))):
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        if new:
            dedup = {v.id: v for v in new}
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(dedup) - 1)
            for offset, view in enumerate(dedup.values()):
                self._rows.append(view)
                self._row_of[view.id] = start + offset
                self._counts[status_key(view)] += 1
                self._video_refs[view.video_url] += 1
                self._videos.setdefault(view.video_url, video_label(view))
            self.endInsertRows()
            resort = resort or self._sort_column >= 0
        if changed_rows or new:
            self.countsChanged.emit()
        if len(self._videos) != videos_before:
            self.videosChanged.emit()
        if resort:
            self._resort.start()

    @Slot(list)
    def remove_ids(self, note_ids: list[int]) -> None:
        """Drop deleted notes (contiguous runs removed together, from the bottom up)."""
        if not self._is_loaded:
            self._pending_deletes.update(note_ids)
            for note_id in note_ids:
                self._pending.pop(note_id, None)
            return
        if self._loading_rest:
            self._removed_while_loading.update(note_ids)
        rows = sorted({self._row_of[i] for i in note_ids if i in self._row_of})
        if not rows:
            return
        videos_before = len(self._videos)
        for first, last in reversed(list(_runs(rows))):
            self.beginRemoveRows(QModelIndex(), first, last)
            for view in self._rows[first : last + 1]:
                self._counts[status_key(view)] -= 1
                self._video_refs[view.video_url] -= 1
                if self._video_refs[view.video_url] <= 0:
                    del self._video_refs[view.video_url]
                    self._videos.pop(view.video_url, None)
                self._haystacks.pop(view.id, None)
            del self._rows[first : last + 1]
            self._reindex()
            self.endRemoveRows()
        self.countsChanged.emit()
        if len(self._videos) != videos_before:
            self.videosChanged.emit()

    def _reindex(self) -> None:
        self._row_of = {n.id: i for i, n in enumerate(self._rows)}

    # -- lookups -------------------------------------------------------------------------------
    def note(self, note_id: int) -> NoteView | None:
        row = self._row_of.get(note_id)
        return None if row is None else self._rows[row]

    def note_at(self, row: int) -> NoteView:
        return self._rows[row]

    def row_of(self, note_id: int) -> int | None:
        return self._row_of.get(note_id)

    def notes(self) -> list[NoteView]:
        return list(self._rows)

    def counts(self) -> dict[str, int]:
        return {key: self._counts.get(key, 0) for key in STATUS_KEYS}

    def videos(self) -> dict[str, str]:
        """video url -> a label (platform · title), for the video filter."""
        return dict(self._videos)

    def haystack(self, row: int) -> str:
        note = self._rows[row]
        text = self._haystacks.get(note.id)
        if text is None:
            text = " ".join(
                part
                for part in (
                    note.text,
                    note.category or "",
                    note.video_title or "",
                    note.video_url,
                    note.error or "",
                    format_timecode(note.timestamp_seconds),
                )
            ).lower()
            self._haystacks[note.id] = text
        return text

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        note = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == COL_VIDEO:
                return video_label(note)
            if column == COL_TIME:
                return format_timecode(note.timestamp_seconds)
            if column == COL_TEXT:
                return _first_line(note.text)
            if column == COL_CATEGORY:
                return note.category or ""
            if column == COL_CONFIDENCE:
                return f"{note.confidence:.2f}"
            if column == COL_STATUS:
                return status_label(note)
            if column == COL_ERROR:
                return _first_line(note_error(note), 160)
            if column == COL_LINK:
                return permalink_label(note)
            return None
        if role == StatusRole:
            return status_key(note)
        if role == NoteRole:
            return note
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_VIDEO:
                return note.video_url
            if column == COL_TEXT:
                return note.text
            if column == COL_STATUS:
                return _status_tooltip(note)
            if column == COL_ERROR and (note.error or note.error_kind):
                return error_tooltip(note)
            if column == COL_LINK and note.external_permalink:
                return f"Open the comment (Ctrl+O): {note.external_permalink}"
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_TIME, COL_CONFIDENCE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column = column
        self._sort_order = order
        self._apply_sort()

    @Slot()
    def _apply_sort(self) -> None:
        key = _SORT_KEYS.get(self._sort_column)
        if key is None or not self._rows:
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        anchors = [(idx, self._rows[idx.row()].id, idx.column()) for idx in persistent]
        self._rows.sort(key=key, reverse=self._sort_order == Qt.SortOrder.DescendingOrder)
        self._reindex()
        for idx, note_id, column in anchors:
            self.changePersistentIndex(idx, self.index(self._row_of[note_id], column))
        self.layoutChanged.emit()


def _status_tooltip(note: NoteView) -> str:
    """What the state means (core.wording), then what is known about this note."""
    key = status_key(note)
    lines = [state_help(state_of(note), note.platform)]
    if key == "queued":
        when = to_datetime(note.next_attempt_at)
        attempt = f" (attempt {note.attempts + 1})" if note.attempts else ""
        if when:
            lines.append(f"Next try at {when:%H:%M:%S}{attempt}.")
    elif key == "posted" and note.posted_at:
        lines.append(f"Posted at {to_datetime(note.posted_at):%Y-%m-%d %H:%M}.")
    elif key == "failed":
        lines.append(f"Reason: {note_error(note)}.")
    return "\n".join(lines)


def error_tooltip(note: NoteView) -> str:
    """The plain sentence, and what to do about it."""
    text = note_error(note)
    key = status_key(note)
    if key == "failed" and note.error_kind in PERMANENT_KINDS:
        text += ".\nTrying again as it is will fail the same way: edit the note first."
    elif key == "failed" and note.failure_artifact_path:
        text += ".\nShow screenshot (Ctrl+Shift+O) shows the page when it failed."
    return text


def _runs(rows: list[int]) -> Iterable[tuple[int, int]]:
    """[1,2,3,7,8] -> (1,3), (7,8)."""
    start = prev = None
    for row in rows:
        if start is None:
            start = prev = row
        elif row == prev + 1:  # type: ignore[operator]
            prev = row
        else:
            yield start, prev  # type: ignore[misc]
            start = prev = row
    if start is not None:
        yield start, prev  # type: ignore[misc]


class NotesFilterProxy(QSortFilterProxyModel):
    """Filters by status, platform, video and a search text. Sorting is delegated to the source
    model (a Python key sort), so the proxy keeps the source's order."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._statuses: frozenset[str] = frozenset()
        self._platform: str | None = None
        self._video: str | None = None
        self._search: str = ""
        self.setDynamicSortFilter(True)

    def set_statuses(self, statuses: Iterable[str]) -> None:
        value = frozenset(statuses)
        if value != self._statuses:
            self._statuses = value
            self._refilter()

    def set_platform(self, platform: str | None) -> None:
        if platform != self._platform:
            self._platform = platform or None
            self._refilter()

    def set_video(self, video_url: str | None) -> None:
        if video_url != self._video:
            self._video = video_url or None
            self._refilter()

    def set_search(self, text: str) -> None:
        value = " ".join(text.lower().split())
        if value != self._search:
            self._search = value
            self._refilter()

    def _refilter(self) -> None:
        self.beginFilterChange()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    @property
    def filtering(self) -> bool:
        return bool(self._statuses or self._platform or self._video or self._search)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, NotesModel):
            return True
        note = model.note_at(source_row)
        if self._statuses and status_key(note) not in self._statuses:
            return False
        if self._platform and note.platform != self._platform:
            return False
        if self._video and note.video_url != self._video:
            return False
        if self._search:
            haystack = model.haystack(source_row)
            return all(word in haystack for word in self._search.split())
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if source is not None:
            source.sort(column, order)

    def note_ids(self, indexes: Iterable[QModelIndex]) -> list[int]:
        """Note ids of the given proxy indexes (one per row, in order)."""
        seen: dict[int, None] = {}
        for index in indexes:
            note = self.data(index, NoteRole)
            if note is not None:
                seen.setdefault(note.id, None)
        return list(seen)

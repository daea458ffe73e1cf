"""The notes list grouped by video: a header row per video (its label and per-state counts)
followed by its notes; clicking a header collapses or expands the video.

A proxy over the filtered flat proxy (NotesFilterProxy), so search, filters and sorting work
the same grouped or not. A note's change (dataChanged, the common case while posting) updates
its row and its video's header in place; new notes (appended below the source's rows, as notes
arrive) are inserted into their video's block, with a header for a new video, also in place.
Rows removed, re-sorted or inserted in between rebuild the grouping (one reset, O(rows): with
10,000 notes, a reset per arriving note cost ~80 ms on the GUI thread)."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractProxyModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont

from lossy_desktop.app.models.notes_model import NoteRole, status_key, video_label
from lossy_desktop.core.wording import state_word

if TYPE_CHECKING:
    from lossy_desktop.core.notes import NoteView

HeaderRole = Qt.ItemDataRole.UserRole + 3  # the video URL on a header row, else None

Index = QModelIndex | QPersistentModelIndex
INSERT_IN_PLACE_MAX = (
    50  # more new rows at once are grouped by a rebuild (each in-place one is O(rows))
)
_HEADER_STATES = ("failed", "held", "posting", "queued", "ghost", "posted")


class GroupedNotesProxy(QAbstractProxyModel):
    regrouped = Signal()  # after a rebuild: the view re-spans the header rows

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[bool, Any]] = []  # (True, video url) or (False, source row)
        self._groups: list[str] = []  # video urls, in display order
        self._members: dict[str, list[int]] = {}  # video url -> source rows
        self._labels: dict[str, str] = {}
        self._to_proxy: dict[int, int] = {}
        self._header_row: dict[str, int] = {}
        self._group_of: dict[int, str] = {}  # source row -> video url
        self._state_of: dict[int, str] = {}  # source row -> state key (for the counts)
        self._counts: dict[str, Counter[str]] = {}  # video url -> states of its notes
        self.collapsed: set[str] = set()
        self.active = False  # off: no grouping work at all (the flat list is shown)

    # -- source wiring -----------------------------------------------------------------------
    def setSourceModel(self, source: Any) -> None:
        super().setSourceModel(source)
        for signal in (
            source.modelReset,
            source.layoutChanged,
            source.rowsRemoved,
            source.rowsMoved,
        ):
            signal.connect(self.rebuild)
        source.rowsInserted.connect(self._source_inserted)
        source.dataChanged.connect(self._source_changed)
        self.rebuild()

    def set_active(self, active: bool) -> None:
        self.active = active
        self.rebuild()

    @Slot()
    def rebuild(self, *_args: Any) -> None:
        if not self.active and not self._rows:
            return
        self.beginResetModel()
        members: dict[str, list[int]] = {}
        labels: dict[str, str] = {}
        states: dict[int, str] = {}
        counts: dict[str, Counter[str]] = {}
        for row, note in enumerate(self._notes()):
            members.setdefault(note.video_url, []).append(row)
            if note.video_url not in labels:
                labels[note.video_url] = video_label(note)
                counts[note.video_url] = Counter()
            state = status_key(note)
            states[row] = state
            counts[note.video_url][state] += 1
        self._members, self._labels = members, labels
        self._state_of, self._counts = states, counts
        self._groups = sorted(members, key=lambda url: labels[url].lower())
        self._rows, self._to_proxy, self._header_row, self._group_of = [], {}, {}, {}
        for url in self._groups:
            self._header_row[url] = len(self._rows)
            self._rows.append((True, url))
            for row in members[url]:
                self._group_of[row] = url
                if url not in self.collapsed:
                    self._to_proxy[row] = len(self._rows)
                    self._rows.append((False, row))
        self.endResetModel()
        self.regrouped.emit()

    def _notes(self) -> list[NoteView]:
        """The filtered notes in the source proxy's order (read from the NotesModel below, not
        through per-row data() calls)."""
        source = self.sourceModel()
        if source is None or not self.active:
            return []
        # the source is the filter proxy (a QSortFilterProxyModel) over the NotesModel; other
        # models take the per-row path below
        base = source.sourceModel()  # type: ignore[attr-defined]
        if base is None or not hasattr(base, "note_at"):
            notes = (source.index(r, 0).data(NoteRole) for r in range(source.rowCount()))
            return [n for n in notes if n is not None]
        if not getattr(source, "filtering", True) and source.rowCount() == base.rowCount():
            return base.notes()  # type: ignore[no-any-return]  # nothing filtered: the proxy keeps the model's rows and order
        to_base = source.mapToSource  # type: ignore[attr-defined]
        at = base.note_at
        return [at(to_base(source.index(r, 0)).row()) for r in range(source.rowCount())]

    @Slot(QModelIndex, int, int)
    def _source_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        """New source rows at the end (new notes): each goes at the end of its video's block,
        after a new header when its video is new. Rows inserted in between renumber the rows
        below them: rebuild."""
        if not self.active:
            return
        source = self.sourceModel()
        appended = not parent.isValid() and last == source.rowCount() - 1
        many = last - first >= INSERT_IN_PLACE_MAX  # (the rest of a load): one rebuild is faster
        notes = [] if many else [source.index(r, 0).data(NoteRole) for r in range(first, last + 1)]
        stale = not self._rows and first > 0  # rows before these were never grouped
        if many or not appended or stale or any(note is None for note in notes):
            self.rebuild()
            return
        columns = self.columnCount() - 1
        new_video = False
        for row, note in zip(range(first, last + 1), notes, strict=True):
            url = note.video_url
            if url not in self._members:
                self._add_group(url, video_label(note))
                new_video = True
            members = self._members[url]
            members.append(row)
            state = status_key(note)
            self._group_of[row] = url
            self._state_of[row] = state
            self._counts[url][state] += 1
            if url not in self.collapsed:
                at = self._header_row[url] + len(members)  # the end of the video's block
                self.beginInsertRows(QModelIndex(), at, at)
                self._insert_row(at, (False, row))
                self._to_proxy[row] = at
                self.endInsertRows()
            header = self._header_row[url]
            self.dataChanged.emit(self.index(header, 0), self.index(header, columns))
        if new_video:  # the view spans its header (the others' spans moved with their rows)
            self.regrouped.emit()

    def _add_group(self, url: str, label: str) -> None:
        """A header for a new video, in its place among the videos (sorted by label)."""
        keys = [self._labels[u].lower() for u in self._groups]
        place = bisect_right(keys, label.lower())  # after equal labels, as rebuild sorts
        at = self._header_row[self._groups[place]] if place < len(self._groups) else len(self._rows)
        self.beginInsertRows(QModelIndex(), at, at)
        self._groups.insert(place, url)
        self._members[url] = []
        self._labels[url] = label
        self._counts[url] = Counter()
        self._insert_row(at, (True, url))
        self._header_row[url] = at
        self.endInsertRows()

    def _insert_row(self, at: int, entry: tuple[bool, Any]) -> None:
        """Put `entry` at proxy row `at`; the rows from there down move one down."""
        self._rows.insert(at, entry)
        self._to_proxy = {s: p + 1 if p >= at else p for s, p in self._to_proxy.items()}
        for url, p in self._header_row.items():
            if p >= at:
                self._header_row[url] = p + 1

    @Slot(QModelIndex, QModelIndex)
    def _source_changed(self, first: QModelIndex, last: QModelIndex, *_roles: Any) -> None:
        if not self.active:
            return
        columns = self.columnCount() - 1
        headers: set[int] = set()
        for row in range(first.row(), last.row() + 1):
            mine = self._to_proxy.get(row)
            if mine is not None:
                self.dataChanged.emit(self.index(mine, 0), self.index(mine, columns))
            url = self._group_of.get(row)
            if url is not None:
                note = self.sourceModel().index(row, 0).data(NoteRole)
                new, old = status_key(note), self._state_of.get(row)
                if note is not None and new != old:
                    if old is not None:
                        self._counts[url][old] -= 1
                    self._counts[url][new] += 1
                    self._state_of[row] = new
                    headers.add(self._header_row[url])
        for header in headers:
            self.dataChanged.emit(self.index(header, 0), self.index(header, columns))

    # -- grouping ----------------------------------------------------------------------------
    def header_url(self, row: int) -> str | None:
        if 0 <= row < len(self._rows) and self._rows[row][0]:
            return str(self._rows[row][1])
        return None

    def toggle(self, row: int) -> bool:
        """Collapse or expand the video whose header is at `row`. False when not a header."""
        url = self.header_url(row)
        if url is None:
            return False
        self.collapsed.symmetric_difference_update({url})
        self.rebuild()
        return True

    def header_rows(self) -> list[int]:
        return [self._header_row[url] for url in self._groups]

    def _header_text(self, url: str) -> str:
        counts = self._counts[url]
        total = len(self._members[url])
        parts = [f"{counts[s]} {state_word(s)}" for s in _HEADER_STATES if counts.get(s)]
        arrow = "▸" if url in self.collapsed else "▾"
        return f"{arrow} {self._labels[url]} — {total} note(s): {', '.join(parts)}"

    # -- QAbstractProxyModel -----------------------------------------------------------------
    def mapToSource(self, proxy: Index) -> QModelIndex:
        if not proxy.isValid() or proxy.row() >= len(self._rows):
            return QModelIndex()
        is_header, value = self._rows[proxy.row()]
        if is_header:
            return QModelIndex()
        return self.sourceModel().index(value, proxy.column())

    def mapFromSource(self, source: Index) -> QModelIndex:
        if not source.isValid():
            return QModelIndex()
        row = self._to_proxy.get(source.row())
        return QModelIndex() if row is None else self.index(row, source.column())

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not (0 <= row < len(self._rows)):
            return QModelIndex()
        if not (0 <= column < self.columnCount()):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, _child: Any = None) -> Any:
        return QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        source = self.sourceModel()
        return 0 if parent.isValid() or source is None else source.columnCount()

    def flags(self, index: Index) -> Qt.ItemFlag:
        if self.header_url(index.row()) is not None:
            return Qt.ItemFlag.ItemIsEnabled
        return super().flags(index)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        url = self.header_url(index.row())
        if url is None:
            return super().data(index, role)
        if role == HeaderRole:
            return url
        if index.column() != 0:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._header_text(url)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{url}\nClick to collapse or expand this video's notes"
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole:
            return QColor("#eef1f6")
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        source = self.sourceModel()
        return None if source is None else source.headerData(section, orientation, role)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if source is not None:
            source.sort(column, order)

"""The notes table: status chips, fixed-height rows, an empty state with the next step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from lossy_desktop.app.models.notes_model import (
    COL_CATEGORY,
    COL_CONFIDENCE,
    COL_ERROR,
    COL_LINK,
    COL_STATUS,
    COL_TEXT,
    COL_TIME,
    COL_VIDEO,
    StatusRole,
)
from lossy_desktop.app.resources import STATUS_COLORS
from lossy_desktop.app.views.first_run import EmptyState

if TYPE_CHECKING:
    from PySide6.QtCore import QAbstractItemModel
    from PySide6.QtGui import QResizeEvent

ROW_HEIGHT = 30


class StatusChipDelegate(QStyledItemDelegate):
    """Paints the status column as a rounded coloured chip with its label."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        self.initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget is not None else None
        text = option.text
        option.text = ""
        if style is not None:  # selection / focus background only
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        key = index.data(StatusRole) or "ghost"
        background, foreground = STATUS_COLORS.get(key, STATUS_COLORS["ghost"])
        painter.save()
        painter.setFont(option.font)
        metrics = painter.fontMetrics()
        rect = option.rect
        pad_x, height = 9, min(rect.height() - 8, metrics.height() + 6)
        width = min(rect.width() - 8, metrics.horizontalAdvance(text) + 2 * pad_x + 4)
        chip = QRectF(rect.x() + 4, rect.y() + (rect.height() - height) / 2, width, height)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = QPainterPath()
        path.addRoundedRect(chip, height / 2, height / 2)
        painter.fillPath(path, QColor(background))
        painter.setPen(QColor(foreground))
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(width - 2 * pad_x))
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, elided)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + 24, max(size.height(), ROW_HEIGHT))


class NotesTable(QTableView):
    """The notes list. Rows are whole notes; several can be selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notesTable")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setSortingEnabled(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        vertical = self.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(ROW_HEIGHT)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setMinimumSectionSize(48)
        self.setItemDelegateForColumn(COL_STATUS, StatusChipDelegate(self))
        self.empty = EmptyState(self.viewport())
        self.empty.show_loading()

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        header = self.horizontalHeader()
        widths = {
            COL_VIDEO: 150,
            COL_TIME: 58,
            COL_CATEGORY: 84,
            COL_CONFIDENCE: 76,
            COL_STATUS: 140,
            COL_ERROR: 180,
            COL_LINK: 112,
        }
        for column, width in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(column, width)
        header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        if model is None:  # no model, nothing to watch
            return
        for signal in (
            model.rowsInserted,
            model.rowsRemoved,
            model.modelReset,
            model.layoutChanged,
        ):
            signal.connect(self.update_empty_state)

    def update_empty_state(self, *_args: Any) -> None:
        model = self.model()
        if model is None:
            return
        if model.rowCount() > 0:
            self.empty.hide()
            return
        source = getattr(model, "sourceModel", lambda: None)()
        while source is not None and hasattr(source, "sourceModel"):  # the NotesModel below
            source = source.sourceModel()
        if self.empty.preparing is not None:
            self.empty.show_preparing()
        elif source is not None and not getattr(source, "is_loaded", True):
            self.empty.show_loading()
        elif source is not None and source.rowCount() > 0:
            self.empty.show_no_match()
        else:
            self.empty.show_no_notes()
        self.empty.setGeometry(self.viewport().rect())
        self.empty.show()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.empty.setGeometry(self.viewport().rect())

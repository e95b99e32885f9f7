"""Table model of the review queue: one row per flagged sale, colour by risk."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from pos_app.terminal.reviews.queue import QueueItem, ReviewStatus
from pos_app.ui.manager.formatting import when_short, yen
from pos_app.ui.manager.texts import reason_label, t

COLUMNS = (
    "col_time",
    "col_sale",
    "col_cashier",
    "col_total",
    "col_risk",
    "col_reasons",
    "col_status",
    "col_taken",
)
REASONS = COLUMNS.index("col_reasons")
HIGH, MEDIUM = 80, 50
_HIGH_BG, _MEDIUM_BG = QColor("#fde2e1"), QColor("#fff4d6")
_DONE_FG = QColor("#6b6b6b")

Index = QModelIndex | QPersistentModelIndex


class QueueModel(QAbstractTableModel):
    def __init__(self, *, lang: str, tz: tzinfo) -> None:
        super().__init__()
        self._lang = lang
        self._tz = tz
        self._items: list[QueueItem] = []

    @property
    def items(self) -> list[QueueItem]:
        return list(self._items)

    def set_items(self, items: list[QueueItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def item_at(self, row: int) -> QueueItem:
        return self._items[row]

    def row_of(self, sale_id: str) -> int | None:
        return next((n for n, i in enumerate(self._items) if i.sale_id == sale_id), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return t(COLUMNS[section], self._lang)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item, column = self._items[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(item, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            return _background(item)
        if role == Qt.ItemDataRole.ForegroundRole and item.status is not ReviewStatus.OPEN:
            return QBrush(_DONE_FG)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tooltip = role == Qt.ItemDataRole.ToolTipRole and column == REASONS
        return "\n".join(reason_label(c, self._lang) for c in item.reasons) if tooltip else None

    def _text(self, item: QueueItem, column: int) -> str:
        lang = self._lang
        cells = (
            when_short(item.created_at, self._tz),
            item.number,
            item.cashier_id,
            yen(item.total, item.currency),
            str(item.score),
            t("list_separator", lang).join(reason_label(code, lang) for code in item.reasons),
            t(f"status_{item.status.value}", lang),
            item.claimed_by or "",
        )
        return cells[column]


def _background(item: QueueItem) -> QBrush | None:
    """Open sales are tinted by risk so the riskiest stand out; decided ones are plain."""
    if item.status is not ReviewStatus.OPEN:
        return None
    if item.score >= HIGH:
        return QBrush(_HIGH_BG)
    if item.score >= MEDIUM:
        return QBrush(_MEDIUM_BG)
    return None

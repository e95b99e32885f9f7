"""The filter bar above the queue: status (with counts), reason, cashier, dates, amount."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from pos_app.terminal.reviews.queue import QueueFilter, ReviewStatus
from pos_app.ui.manager.texts import reason_label, t

MAX_AMOUNT = 10_000_000


class FilterBar(QWidget):
    changed = Signal()

    def __init__(self, *, lang: str, tz: tzinfo, today: date) -> None:
        super().__init__()
        self._lang, self._tz, self._today = lang, tz, today
        self.status = QComboBox()
        self.status.addItem(t("all", lang), None)
        for s in ReviewStatus:
            self.status.addItem(t(f"status_{s.value}", lang), s)
        self.reason = QComboBox()
        self.cashier = QComboBox()
        self.since = date_edit()
        self.until = date_edit()
        self.min_total = _amount_box(lang)
        self.max_total = _amount_box(lang)
        self.reset_button = QPushButton(t("reset", lang))
        self._fields = [
            (QLabel(t(label, lang)), widget)
            for label, widget in (
                ("status", self.status),
                ("reason", self.reason),
                ("cashier", self.cashier),
                ("from", self.since),
                ("to", self.until),
                ("min_amount", self.min_total),
                ("max_amount", self.max_total),
            )
        ]
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self.columns = 0
        self.set_columns(3)
        for combo in (self.status, self.reason, self.cashier):  # long reason names elide
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
        self.reset()
        for combo in (self.status, self.reason, self.cashier):
            combo.currentIndexChanged.connect(self.changed)
        for edit in (self.since, self.until):
            edit.dateChanged.connect(self.changed)
        for box in (self.min_total, self.max_total):
            box.valueChanged.connect(self.changed)
        self.reset_button.clicked.connect(self._reset_clicked)

    def set_columns(self, columns: int) -> None:
        """Fields per row: three in a full window, two beside the till on a shared monitor."""
        if columns == self.columns:
            return
        self.columns, grid = columns, self._grid
        for label, widget in self._fields:
            grid.removeWidget(label)
            grid.removeWidget(widget)
        grid.removeWidget(self.reset_button)
        for n, (label, widget) in enumerate(self._fields):
            row, column = divmod(n, columns)
            grid.addWidget(label, row, 2 * column)
            grid.addWidget(widget, row, 2 * column + 1)
        last = len(self._fields)
        grid.addWidget(self.reset_button, last // columns, 2 * (last % columns) + 1)
        for column in range(8):
            grid.setColumnStretch(column, 0)
        grid.setColumnStretch(2 * columns, 1)

    def reset(self) -> None:
        """Open sales of the last 7 days, any reason, cashier and amount."""
        self.blockSignals(True)
        self.status.setCurrentIndex(self.status.findData(ReviewStatus.OPEN))
        self.reason.setCurrentIndex(0)
        self.cashier.setCurrentIndex(0)
        self.since.setDate(_qdate(self._today - timedelta(days=6)))
        self.until.setDate(_qdate(self._today))
        self.min_total.setValue(0)
        self.max_total.setValue(0)
        self.blockSignals(False)

    def _reset_clicked(self) -> None:
        self.reset()
        self.changed.emit()

    def set_choices(self, *, reasons: list[str], cashiers: list[str]) -> None:
        """Offer what the data holds, keeping the current choice."""
        for combo, values, label in (
            (self.reason, reasons, lambda c: reason_label(c, self._lang)),
            (self.cashier, cashiers, str),
        ):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(t("all", self._lang), None)
            for value in sorted(set(values) | ({current} if current else set())):
                combo.addItem(label(value), value)
            combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)
            combo.blockSignals(False)

    def set_counts(self, counts: dict[ReviewStatus, int]) -> None:
        self.status.setItemText(0, f"{t('all', self._lang)} ({sum(counts.values())})")
        for n, s in enumerate(ReviewStatus, start=1):
            self.status.setItemText(n, f"{t(f'status_{s.value}', self._lang)} ({counts[s]})")

    def current(self) -> QueueFilter:
        status = self.status.currentData()  # Qt hands the enum back as a plain str
        return QueueFilter(
            status=ReviewStatus(status) if status else None,
            reason=self.reason.currentData(),
            cashier_id=self.cashier.currentData(),
            since=self._start_of(self.since.date()),
            until=self._start_of(self.until.date().addDays(1)),
            min_total=self.min_total.value() or None,
            max_total=self.max_total.value() or None,
        )

    def _start_of(self, day: QDate) -> int:
        return start_of(day, self._tz)


def _amount_box(lang: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, MAX_AMOUNT)
    box.setSingleStep(1000)
    box.setSpecialValueText(t("any_amount", lang))
    box.setGroupSeparatorShown(True)
    return box


def date_edit(day: date | None = None) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    if day is not None:
        edit.setDate(_qdate(day))
    return edit


def start_of(day: QDate, tz: tzinfo) -> int:
    """Local midnight starting ``day`` in the store's time zone, as Unix seconds."""
    midnight = datetime.combine(date(day.year(), day.month(), day.day()), time(0), tzinfo=tz)
    return int(midnight.timestamp())


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)

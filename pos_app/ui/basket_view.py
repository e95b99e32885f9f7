"""The basket side of the checkout page: table, JAN entry, totals, line buttons.

It renders a :class:`pos_app.core.basket.Basket` (the rules live there) and
reports the cashier's intents; the payment side is in ``payment_view``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.basket import MAX_QUANTITY, Basket
from pos_app.core.catalog import Catalog, Product
from pos_app.core.errors import PosError
from pos_app.ui.i18n import Texts
from pos_app.ui.widgets import button, label

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class CodeEntry(QLineEdit):
    """The JAN entry; Del on an empty entry removes the selected line."""

    delete_on_empty = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Delete and not self.text():
            self.delete_on_empty.emit()
            return
        super().keyPressEvent(event)


class BasketView(QWidget):
    message = Signal(str, bool)  # text, is_error
    changed = Signal(object)  # BasketSnapshot, for the customer display
    pay_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, basket: Basket, catalog: Catalog, texts: Texts) -> None:
        super().__init__()
        self.basket, self._catalog, self._texts = basket, catalog, texts
        self.locked = False  # True while a payment runs: the basket is frozen
        self.table = QTableWidget(0, 4)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.empty_hint = label(wrap=True)
        self.entry = CodeEntry()
        self.entry.returnPressed.connect(self._add_typed)
        self.entry.delete_on_empty.connect(self.remove_selected)
        # "Pick up later" is a 7pay signal (goods leave later with whoever shows up).
        self.pickup = QCheckBox()
        self.pickup.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.add_button = QPushButton()
        self.add_button.clicked.connect(self._add_typed)
        self.tax = label(align=_RIGHT)
        self.total = label("total", align=_RIGHT)
        self.buttons = self._make_buttons()
        self._layout()
        self.retranslate()

    def _make_buttons(self) -> dict[str, QPushButton]:
        buttons = {name: QPushButton() for name in ("plus", "minus", "qty", "remove")}
        buttons["cancel"] = button("cancel")
        buttons["pay"] = button("pay")
        buttons["plus"].clicked.connect(lambda: self.change_quantity(+1))
        buttons["minus"].clicked.connect(lambda: self.change_quantity(-1))
        buttons["qty"].clicked.connect(self.ask_quantity)
        buttons["remove"].clicked.connect(self.remove_selected)
        buttons["cancel"].clicked.connect(self.cancel_requested)
        buttons["pay"].clicked.connect(self.pay_requested)
        for each in buttons.values():
            each.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the entry/table
        return buttons

    def _layout(self) -> None:
        entry_row = QHBoxLayout()
        entry_row.addWidget(self.entry, 1)
        entry_row.addWidget(self.add_button)
        totals = QVBoxLayout()
        totals.addWidget(self.tax)
        totals.addWidget(self.total)
        bottom = QHBoxLayout()
        left = QVBoxLayout()
        left.addLayout(entry_row)
        left.addWidget(self.pickup)
        bottom.addLayout(left, 3)
        bottom.addLayout(totals, 2)
        # Two rows of three: big targets, and the page still fits a 1024-pixel-wide till.
        line_buttons = QGridLayout()
        for i, name in enumerate(("plus", "minus", "qty", "remove", "cancel", "pay")):
            line_buttons.addWidget(self.buttons[name], i // 3, i % 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_hint)
        layout.addLayout(bottom)
        layout.addLayout(line_buttons)

    def retranslate(self) -> None:
        t = self._texts.t
        self.table.setHorizontalHeaderLabels(
            [t("col.name"), t("col.qty"), t("col.price"), t("col.total")]
        )
        self.entry.setPlaceholderText(t("entry.placeholder"))
        self.add_button.setText(t("entry.add"))
        self.pickup.setText(t("basket.pickup"))
        self.empty_hint.setText(t("basket.empty"))
        for name, each in self.buttons.items():
            each.setText(t(f"btn.{name}"))
        self.refresh()

    # intents -------------------------------------------------------------------

    def add_code(self, code: str, *, symbology: str | None = None) -> Product | None:
        if self.locked:
            self.message.emit(self._texts.t("scan.busy"), True)
            return None
        try:
            product = self._catalog.lookup(code, symbology=symbology)
            self.basket.add(product)
        except PosError as exc:
            self.message.emit(self._texts.scan_error(exc.code, code.strip(), exc.message), True)
            return None
        self.refresh(select=self._row_of(product))
        self.message.emit(self._texts.t("scan.added", name=product.name(self._texts.lang)), False)
        return product

    def change_quantity(self, delta: int) -> None:
        row = self._selected()
        if row is None:
            return
        quantity = self.basket.lines[row].quantity + delta
        if quantity < 1:
            self.remove_selected()
            return
        self._set_quantity(row, quantity)

    def ask_quantity(self) -> None:
        """F5: the number typed in the entry becomes the selected line's quantity
        (keypad first, then F5); with nothing typed, ask in a dialog."""
        row = self._selected()
        if row is None:
            return
        typed = self.entry.text().strip()
        if typed.isdigit() and len(typed) <= 3:
            self.entry.clear()
            self._set_quantity(row, int(typed))
            return
        line = self.basket.lines[row]
        label = self._texts.t("qty.prompt", name=line.product.name(self._texts.lang))
        value, ok = QInputDialog.getInt(
            self, self._texts.t("btn.qty"), label, line.quantity, 1, MAX_QUANTITY
        )
        if ok:
            self._set_quantity(row, value)

    def _set_quantity(self, row: int, quantity: int) -> None:
        try:
            self.basket.set_quantity(row, quantity)
        except PosError as exc:
            self.message.emit(exc.message, True)
            return
        self.refresh(select=row)

    def remove_selected(self) -> None:
        row = self._selected()
        if row is None:
            return
        self.basket.remove(row)
        self.refresh(select=min(row, len(self.basket) - 1))

    def _selected(self) -> int | None:
        if self.locked:
            self.message.emit(self._texts.t("scan.busy"), True)
            return None
        row = self.table.currentRow()
        if not 0 <= row < len(self.basket):
            self.message.emit(self._texts.t("basket.select"), True)
            return None
        return row

    def _add_typed(self) -> None:
        code = self.entry.text().strip()
        self.entry.clear()
        if code:
            self.add_code(code)

    def _row_of(self, product: Product) -> int:
        return next(i for i, li in enumerate(self.basket.lines) if li.product is product)

    # rendering -----------------------------------------------------------------

    def refresh(self, select: int | None = None) -> None:
        lang, lines, currency = self._texts.lang, self.basket.lines, self.basket.currency
        self.table.setRowCount(len(lines))
        for i, line in enumerate(lines):
            cells = (
                line.product.name(lang),
                str(line.quantity),
                self._texts.money(line.product.price, currency),
                self._texts.money(line.line_total, currency),
            )
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(_RIGHT)
                self.table.setItem(i, j, item)
        if select is not None and 0 <= select < len(lines):
            self.table.selectRow(select)
        self.empty_hint.setVisible(not lines)
        taxes = [
            self._texts.t("tax.line", rate=tl.rate, tax=self._texts.money(tl.tax, currency))
            for tl in self.basket.tax_breakdown()
        ]
        count = self._texts.t("total.items", count=self.basket.item_count)
        self.tax.setText("   ".join([count, *taxes]))
        self.total.setText(f"{self._texts.t('total.label')}  {self.basket.total.format()}")
        for name in ("plus", "minus", "qty", "remove", "pay"):
            self.buttons[name].setEnabled(not self.locked and bool(lines))
        self.buttons["cancel"].setEnabled(not self.locked and bool(lines))
        self.changed.emit(self.basket.snapshot())

    def remove_age_restricted(self) -> None:
        """The age check was answered "no": the tobacco and alcohol leave the basket."""
        removed = self.basket.remove_age_restricted()
        self.refresh(select=0)
        if removed:
            names = ", ".join(line.product.name(self._texts.lang) for line in removed)
            key = "age.removed" if len(self.basket) else "age.removed_all"
            self.message.emit(self._texts.t(key, names=names), True)

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        self.entry.setEnabled(not locked)
        self.pickup.setEnabled(not locked)
        self.refresh()

"""The cashier window (skeleton until the full checkout UI lands)."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.basket import Basket
from pos_app.core.catalog import Catalog
from pos_app.core.errors import PosError
from pos_app.terminal.paths import catalog_dir
from pos_app.terminal.settings_schema import Settings


class CashierWindow(QMainWindow):
    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        super().__init__()
        self.setWindowTitle("pos-app")
        self._lang = settings.ui.language
        self._catalog = catalog
        self.basket = Basket(settings.terminal.currency)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Item", "Qty", "Price", "Total"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.entry = QLineEdit(placeholderText="Scan or type a JAN code, then Enter")
        self.entry.returnPressed.connect(self._add_typed)
        self.total = QLabel()
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.total.setStyleSheet("font-size: 28pt; font-weight: bold;")
        self.message = QLabel()
        layout = QVBoxLayout()
        layout.addWidget(self.table)
        row = QHBoxLayout()
        row.addWidget(self.entry)
        row.addWidget(self.total)
        layout.addLayout(row)
        layout.addWidget(self.message)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)
        self.resize(1024, 700)
        self._refresh()

    def _add_typed(self) -> None:
        code = self.entry.text().strip()
        self.entry.clear()
        try:
            self.basket.add(self._catalog.lookup(code))
            self.message.setText("")
        except PosError as exc:
            self.message.setText(exc.message)
        self._refresh()

    def _refresh(self) -> None:
        self.table.setRowCount(len(self.basket))
        for i, line in enumerate(self.basket.lines):
            cells = [
                line.product.name(self._lang),
                str(line.quantity),
                f"¥{line.product.price:,}",
                f"¥{line.line_total:,}",
            ]
            for j, text in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.total.setText(self.basket.total.format())


def run_cashier(settings: Settings) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    catalog = Catalog.from_dir(catalog_dir(settings.terminal.catalog_dir))
    window = CashierWindow(settings, catalog)
    window.show()
    return int(app.exec())

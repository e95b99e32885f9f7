from pathlib import Path

from pos_app.core.catalog import Catalog
from pos_app.terminal.settings_schema import Settings
from pos_app.ui.app import CashierWindow

CATALOG = Catalog.from_dir(Path(__file__).resolve().parents[2] / "assets" / "catalog")


def test_typed_codes_fill_the_basket(qtbot) -> None:
    window = CashierWindow(Settings(), CATALOG)
    qtbot.addWidget(window)
    product = next(iter(CATALOG))
    for _ in range(2):
        window.entry.setText(product.gtin)
        window.entry.returnPressed.emit()
    assert window.table.rowCount() == 1
    assert window.table.item(0, 1).text() == "2"
    assert window.total.text() == f"¥{product.price * 2:,}"
    window.entry.setText("4006381333932")
    window.entry.returnPressed.emit()
    assert "check digit" in window.message.text()

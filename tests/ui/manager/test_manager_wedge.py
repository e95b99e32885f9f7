"""The cashier window's keyboard-wedge filter leaves the manager's window alone."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from pos_app.ui.manager.window import ManagerWindow


def burst(widget, text: str) -> None:
    """What a scanner sends: characters back to back, then Enter."""
    for ch in text:
        QTest.keyClick(widget, ch)
    QTest.keyClick(widget, Qt.Key.Key_Return)


def test_a_fast_burst_in_the_manager_window_stays_there(qtbot, make_window, services) -> None:
    cashier = make_window()
    qtbot.waitUntil(lambda: cashier._wedge.parser is not None, timeout=5000)
    cashier.signin.user.setText("C042")
    cashier.signin.pin.setText("1234")
    cashier.signin.submit()
    qtbot.waitUntil(lambda: cashier.account is not None, timeout=5000)
    gtin = next(iter(cashier.ctx.catalog)).gtin
    basket = cashier.checkout.basket_view.basket

    manager = ManagerWindow(services())
    qtbot.addWidget(manager)
    with qtbot.waitActive(manager):
        manager.show()
        manager.activateWindow()
    edit = manager.sign_in_page.manager_id
    edit.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is edit, timeout=2000)
    burst(edit, gtin)
    qtbot.wait(200)  # longer than the wedge gap: anything held would be released by now
    assert edit.text() == gtin
    assert len(basket) == 0

    # The same burst in the cashier window is still a scan.
    with qtbot.waitActive(cashier):
        cashier.activateWindow()
    entry = cashier.checkout.basket_view.entry
    entry.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is entry, timeout=2000)
    burst(entry, gtin)
    qtbot.waitUntil(lambda: len(basket) == 1, timeout=3000)
    assert entry.text() == ""

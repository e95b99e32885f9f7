"""Keys that cannot destroy work: clearing a basket asks first, a void ends the sale."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.ui.main_window import MainWindow

from .conftest import CATALOG
from .fake_checkout import FakeCheckout
from .helpers import MakeWindow, panel_title, sign_in
from .scanner_keys import press, scanner

TEA = next(p for p in CATALOG if p.category.value == "beverage")
# No tobacco or alcohol here: those ask the age check first (tests of their own).
ONIGIRI = next(p for p in CATALOG if p.category.value == "food" and not p.age_restricted)


def basket_of_two(qtbot: QtBot, make_window: MakeWindow) -> MainWindow:
    window = make_window()
    qtbot.waitUntil(lambda: window._wedge.parser is not None, timeout=5000)
    sign_in(qtbot, window)
    for product in (TEA, TEA, ONIGIRI):
        scanner(product.gtin)
    qtbot.waitUntil(lambda: window.checkout.basket_view.table.rowCount() == 2, timeout=3000)
    return window


def test_esc_on_a_full_basket_asks_and_esc_again_keeps_it(
    qtbot: QtBot, make_window: MakeWindow
) -> None:
    window = basket_of_two(qtbot, make_window)
    basket = window.checkout.basket_view.basket
    press(Qt.Key.Key_Escape)
    question = window.checkout.message.text()
    assert "Enter" in question and "2 lines" in question and "Esc" in question
    press(Qt.Key.Key_Escape)
    assert len(basket) == 2
    assert "kept" in window.checkout.message.text()
    press(Qt.Key.Key_Return)  # the question is gone: Enter does not clear now
    assert len(basket) == 2


def test_esc_then_enter_clears_the_basket(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = basket_of_two(qtbot, make_window)
    press(Qt.Key.Key_Escape)
    press(Qt.Key.Key_Return)
    assert len(window.checkout.basket_view.basket) == 0
    assert window.checkout.basket_view.table.rowCount() == 0


def test_a_scan_after_the_question_withdraws_it(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = basket_of_two(qtbot, make_window)
    press(Qt.Key.Key_Escape)
    scanner(TEA.gtin)
    qtbot.waitUntil(lambda: window.checkout.basket_view.basket.lines[0].quantity == 3)
    press(Qt.Key.Key_Return)
    assert len(window.checkout.basket_view.basket) == 2


def test_esc_twice_after_pay_never_wipes_the_basket(qtbot: QtBot, make_window: MakeWindow) -> None:
    """The incident: Esc cancelled the payment and the second Esc wiped the basket."""
    window = basket_of_two(qtbot, make_window)
    press(Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    press(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.CANCELLED, timeout=3000)
    press(Qt.Key.Key_Escape)
    press(Qt.Key.Key_Escape)
    assert len(window.checkout.basket_view.basket) == 2


def test_a_void_ends_the_sale_and_the_next_customer_starts_empty(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = basket_of_two(qtbot, make_window)
    press(Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    scanner("PT1:APPROVE")
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.APPROVED, timeout=3000)
    view = window.checkout.payment_view
    view.void_button.click()
    view.reason_edit.setText("Customer changed their mind")
    view.pin_edit.setText("9999")
    view.approve_button.click()
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.VOIDED, timeout=5000)
    assert panel_title(window) == "Sale voided"
    bv = window.checkout.basket_view
    assert not bv.buttons["pay"].isEnabled()  # the voided lines cannot be paid again
    press(Qt.Key.Key_Return)  # next customer
    assert len(bv.basket) == 0 and bv.table.rowCount() == 0
    assert window.flow.phase is None

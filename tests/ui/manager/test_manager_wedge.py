"""Scans while the manager's window has the keyboard: they reach the till, never its fields."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.reviews.queue import ReviewChoice
from pos_app.ui.manager.decision_dialog import DecisionDialog
from pos_app.ui.manager.services import ManagerServices
from pos_app.ui.manager.window import ManagerWindow

from ..fake_checkout import FakeCheckout
from ..helpers import MakeWindow, sign_in
from ..scanner_keys import scanner
from ..test_wedge_shift import TEA, TOKEN, assert_paid, focus, till_waiting_for_code

pytestmark = pytest.mark.wedge_shift


def test_a_product_scan_in_the_manager_id_field_goes_to_the_basket(
    qtbot: QtBot, make_window: MakeWindow, services: Callable[..., ManagerServices]
) -> None:
    cashier = make_window()
    qtbot.waitUntil(lambda: cashier._wedge.parser is not None, timeout=5000)
    sign_in(qtbot, cashier)
    basket = cashier.checkout.basket_view.basket
    manager = ManagerWindow(services())
    qtbot.addWidget(manager)
    edit = manager.sign_in_page.manager_id
    focus(qtbot, edit)
    scanner(TEA.gtin)
    qtbot.waitUntil(lambda: len(basket) == 1, timeout=3000)
    assert edit.text() == ""
    assert QApplication.activeWindow() is manager  # the manager keeps the keyboard


@pytest.mark.parametrize("end", ["enter", "tab"])
@pytest.mark.parametrize("layout", ["us", "jis"])
def test_a_payment_code_in_the_manager_id_field_pays(
    qtbot: QtBot,
    make_window: MakeWindow,
    fake: FakeCheckout,
    services: Callable[..., ManagerServices],
    layout: str,
    end: str,
) -> None:
    window = till_waiting_for_code(qtbot, make_window, fake)
    manager = ManagerWindow(services())
    qtbot.addWidget(manager)
    edit = manager.sign_in_page.manager_id
    focus(qtbot, edit)
    scanner(TOKEN, layout=layout, end=end)
    assert_paid(qtbot, window, fake)
    assert edit.text() == ""
    assert QApplication.focusWidget() is edit


@pytest.mark.parametrize("layout", ["us", "jis"])
def test_a_payment_code_in_a_decision_note_pays(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout, layout: str
) -> None:
    window = till_waiting_for_code(qtbot, make_window, fake)
    dialog = DecisionDialog(ReviewChoice.APPROVE, "S-1-0001", lang="en")
    qtbot.addWidget(dialog)
    focus(qtbot, dialog.note)
    scanner(TOKEN, layout=layout)
    assert_paid(qtbot, window, fake)
    assert dialog.note.toPlainText() == ""
    assert window.flow.phase is PaymentPhase.APPROVED

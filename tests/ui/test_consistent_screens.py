"""Screens that never contradict themselves: no stale line under a new payment state,
no "Backend online" before the backend was ever reached."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.terminal.checkout.types import PaymentPhase, TerminalStatus
from pos_app.ui.i18n import Texts
from pos_app.ui.status_bar import PosStatusBar

from .conftest import CATALOG
from .fake_checkout import FakeCheckout
from .helpers import MakeWindow, panel_title, sign_in
from .scanner_keys import press, scanner

TEA = next(p for p in CATALOG if p.category.value == "beverage")


def test_a_stale_line_goes_when_the_payment_state_changes(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window._wedge.parser is not None, timeout=5000)
    sign_in(qtbot, window)
    scanner(TEA.gtin)
    qtbot.waitUntil(lambda: len(window.checkout.basket_view.basket) == 1, timeout=3000)
    press(Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    fake.delay_s = 0.5
    scanner("PT1:APPROVE")
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.VERIFYING, timeout=3000)
    scanner(TEA.gtin)  # a product while the payment runs: "A payment is in progress"
    qtbot.waitUntil(lambda: "in progress" in window.checkout.message.text(), timeout=3000)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.APPROVED, timeout=5000)
    assert panel_title(window) == "Approved"
    assert window.checkout.message.text() == ""


def test_the_status_bar_does_not_guess_online_before_any_contact(qtbot: QtBot) -> None:
    bar = PosStatusBar(Texts("en"))
    qtbot.addWidget(bar)
    assert bar.labels["backend"].text() == "Backend: checking…"
    unknown = TerminalStatus(
        online=True,
        outbox_pending=0,
        trust_list_age_s=60,
        trust_list_stale=False,
        clock_skew_s=None,
        enrolled=True,
        backend_known=False,
    )
    bar.show_status(unknown)
    assert bar.labels["backend"].text() == "Backend: checking…"
    bar.show_status(None)  # the status call itself failed
    assert bar.labels["backend"].text() == "Backend OFFLINE"

"""Checkout through the real widgets against a fake checkout port."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.core.basket import BasketLine
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
from pos_app.terminal.settings.schema import Settings, UiSettings
from pos_app.ui.main_window import MainWindow

from .conftest import CATALOG
from .fake_checkout import FakeCheckout
from .helpers import MakeWindow, cell, key, panel_body, panel_title, sign_in, wedge

TEA = next(p for p in CATALOG if p.tax_rate == 8)
BEER = next(p for p in CATALOG if p.tax_rate == 10 and not p.age_restricted)  # no age check


def scan_two(qtbot: QtBot, window: MainWindow) -> None:
    wedge(window, TEA.gtin)
    wedge(window, TEA.gtin)
    wedge(window, BEER.gtin)
    qtbot.waitUntil(lambda: window.checkout.basket_view.table.rowCount() == 2, timeout=3000)


def test_wedge_scans_fill_basket_with_tax_breakdown(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    bv = window.checkout.basket_view
    assert cell(bv.table, 0, 1) == "2"
    total = TEA.price * 2 + BEER.price
    assert f"¥{total:,}" in bv.total.text()
    assert "8%" in bv.tax.text() and "10%" in bv.tax.text()
    assert bv.entry.text() == ""  # the burst never reached the focused entry


def test_typed_text_still_reaches_the_entry(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    sign_in(qtbot, window)
    entry = window.checkout.basket_view.entry
    entry.setFocus()
    from PySide6.QtTest import QTest

    QTest.keyClick(entry, "4")  # type: ignore[call-overload]  # PySide6's stub lacks Qt's keyClick(widget, char)
    qtbot.wait(120)  # a person: slower than the 50 ms scanner gap
    QTest.keyClick(entry, "9")  # type: ignore[call-overload]  # PySide6's stub lacks Qt's keyClick(widget, char)
    qtbot.waitUntil(lambda: entry.text() == "49", timeout=2000)


def test_quantity_remove_and_cancel_keys(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    bv = window.checkout.basket_view
    bv.table.selectRow(0)
    key(window, Qt.Key.Key_F2)
    assert bv.basket.lines[0].quantity == 3
    key(window, Qt.Key.Key_F3)
    key(window, Qt.Key.Key_F3)
    assert bv.basket.lines[0].quantity == 1
    key(window, Qt.Key.Key_Delete)
    assert len(bv.basket) == 1
    key(window, Qt.Key.Key_Escape)
    assert len(bv.basket) == 1  # asked first (test_keys.py has the whole story)
    key(window, Qt.Key.Key_Return)
    assert len(bv.basket) == 0


def test_unknown_and_bad_codes_are_sentences(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    sign_in(qtbot, window)
    wedge(window, "4006381333932")
    qtbot.waitUntil(lambda: "check digit" in window.checkout.message.text(), timeout=2000)
    window.checkout.basket_view.entry.setText("4901234567894")
    window.checkout.basket_view.entry.returnPressed.emit()
    assert "no product" in window.checkout.message.text()


def test_unknown_and_bad_codes_are_told_in_japanese(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window(settings=Settings(ui=UiSettings(language="ja", sound=False)))
    sign_in(qtbot, window)
    wedge(window, "4006381333932")
    qtbot.waitUntil(lambda: "正しい商品バーコード" in window.checkout.message.text(), timeout=2000)
    assert "4006381333932" in window.checkout.message.text()
    window.checkout.basket_view.entry.setText("4901234567894")
    window.checkout.basket_view.entry.returnPressed.emit()
    message = window.checkout.message.text()
    assert "4901234567894 の商品は登録がありません" in message
    assert "no product" not in message


def pay(qtbot: QtBot, window: MainWindow, token: str) -> None:
    key(window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    assert "payment code" in panel_title(window).lower()
    wedge(window, token)


def test_approved_then_next_customer(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = make_window()
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    pay(qtbot, window, "PT1:APPROVE")
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.APPROVED, timeout=3000)
    assert panel_title(window) == "Approved"
    assert "A-123" in panel_body(window) and "w-0b6…a93e" in panel_body(window)
    assert window.sounds.played[-1] == "approved"
    assert window.checkout.basket_view.locked  # paid: the same basket cannot be paid again
    assert not window.checkout.basket_view.buttons["pay"].isEnabled()
    key(window, Qt.Key.Key_Return)
    assert window.flow.phase is None and len(window.checkout.basket_view.basket) == 0
    assert not window.checkout.basket_view.locked


def test_verifying_state_is_shown_while_the_port_works(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    fake.delay_s = 0.4
    window = make_window()
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    pay(qtbot, window, "PT1:APPROVE")
    qtbot.waitUntil(lambda: panel_title(window) == "Verifying…", timeout=2000)
    assert window.checkout.basket_view.locked  # no basket edits while paying
    wedge(window, TEA.gtin)
    qtbot.waitUntil(lambda: "payment is in progress" in window.checkout.message.text())
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.APPROVED, timeout=3000)


def test_declined_shows_reason_and_next_step(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    pay(qtbot, window, "PT1:DECLINE-INSUFFICIENT.FUNDS")
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.DECLINED, timeout=3000)
    assert "balance" in panel_body(window).lower() or "funds" in panel_body(window).lower()
    assert "Do not hand over" in panel_body(window)
    assert window.sounds.played[-1] == "declined"


def test_customer_approval_countdown_and_approval(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = make_window()
    window.ctx.settings  # noqa: B018
    window.flow._poll_timer.setInterval(100)
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    pay(qtbot, window, "PT1:CUSTOMER")
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.CUSTOMER_APPROVAL, timeout=3000)
    assert "Demo Store Shibuya" in panel_body(window) and " s left" in panel_body(window)
    assert window.checkout.payment_view.cancel_button.isVisible()
    fake.step_up_answer = "approve"
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.APPROVED, timeout=3000)


def test_lost_answer_keeps_polling_with_a_calm_message(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    from pos_app.terminal.settings.schema import BackendSettings, Settings, UiSettings

    settings = Settings(
        ui=UiSettings(language="en", sound=False), backend=BackendSettings(poll_interval_s=0.1)
    )
    window = make_window(settings=settings)
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    pay(qtbot, window, "PT1:LOST")
    qtbot.waitUntil(
        lambda: window.flow.current is not None and window.flow.current.reason == "outcome_unknown",
        timeout=3000,
    )
    assert panel_title(window) == "Verifying…"
    assert "Checking the payment with the server" in panel_body(window)
    assert "do not hand over the goods yet" in panel_body(window)
    assert not window.checkout.payment_view.cancel_button.isVisible()  # the checkout refuses
    polls: Callable[[], int] = lambda: sum(1 for call in fake.calls if call[0] == "poll")  # noqa: E731
    qtbot.waitUntil(lambda: polls() >= 3, timeout=3000)  # every poll_interval_s
    assert window.flow.phase is PaymentPhase.VERIFYING
    window.toggle_language()
    assert "まだ商品はお渡ししないでください" in panel_body(window)
    window.toggle_language()
    fake.step_up_answer = "approve"
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.APPROVED, timeout=3000)
    done = polls()
    qtbot.wait(400)
    assert polls() == done  # polling stops once the phase changed


def test_manager_approval_needs_reason_and_pin(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = make_window()
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    pay(qtbot, window, "PT1:MANAGER")
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.MANAGER_APPROVAL, timeout=3000)
    view = window.checkout.payment_view
    assert "tobacco cartons" in view.detail.text()
    view.pin_edit.setText("9999")
    view.approve_button.click()
    assert "reason" in view.manager_error.text().lower()
    view.reason_edit.setText("Regular customer, known to staff")
    view.pin_edit.setText("1111")
    view.approve_button.click()
    qtbot.waitUntil(lambda: "not accepted" in view.manager_error.text(), timeout=5000)
    view.pin_edit.setText("9999")
    view.approve_button.click()
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.APPROVED, timeout=5000)
    assert ("manager", "M001", "Regular customer, known to staff") in fake.calls
    assert window.account is not None and window.account.user_id == "C042"  # not switched


def test_manager_cannot_override_a_takeover(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    pay(qtbot, window, "PT1:NOOVERRIDE")
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.MANAGER_APPROVAL, timeout=3000)
    assert not window.checkout.payment_view.manager_box.isVisible()
    assert "taken over" in panel_body(window)
    key(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.CANCELLED, timeout=3000)
    assert len(window.checkout.basket_view.basket) == 2  # the basket stays for another method


def test_backend_failure_is_a_sentence_and_the_code_can_be_shown_again(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    from pos_app.core.errors import BackendError

    window = make_window()
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    fake.fail_next = BackendError("the backend did not answer in 10 s")
    pay(qtbot, window, "PT1:APPROVE")
    qtbot.waitUntil(lambda: "did not answer" in window.checkout.message.text(), timeout=3000)
    assert window.flow.phase is PaymentPhase.WAITING_FOR_CODE
    fake.fail_next = RuntimeError("boom")
    wedge(window, "PT1:APPROVE")
    qtbot.waitUntil(lambda: "Something went wrong" in window.checkout.message.text())
    assert "Traceback" not in window.checkout.message.text()


def test_offline_acceptance_and_status_bar(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    fake.online = False
    window = make_window()
    qtbot.waitUntil(lambda: window.status.labels["outbox"].text() == "Queued: 1", timeout=3000)
    assert "OFFLINE" in window.status.labels["backend"].text()
    assert window.status.labels["skew"].text() == "Clock +0.4 s"
    sign_in(qtbot, window)
    assert window.status.labels["cashier"].text() == "Cashier: Sato"
    scan_two(qtbot, window)
    pay(qtbot, window, "PT1:OFFLINE")
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.OFFLINE_ACCEPTED, timeout=3000)
    assert "queued" in panel_body(window)


def test_pick_up_later_is_sent_with_the_payment(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    original = fake.start_payment

    def spy(
        lines: tuple[BasketLine, ...], *, cashier_id: str, pickup_later: bool = False
    ) -> PaymentUpdate:
        seen.append(pickup_later)
        return original(lines, cashier_id=cashier_id, pickup_later=pickup_later)

    monkeypatch.setattr(fake, "start_payment", spy)
    window = make_window()
    sign_in(qtbot, window)
    scan_two(qtbot, window)
    window.checkout.basket_view.pickup.setChecked(True)
    key(window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: seen == [True], timeout=3000)
    # The port answered on the worker thread; the basket freezes once the GUI has the answer.
    pickup = window.checkout.basket_view.pickup
    qtbot.waitUntil(lambda: not pickup.isEnabled(), timeout=3000)  # frozen with the basket

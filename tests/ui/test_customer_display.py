"""The customer display and the age check through the real widgets (fake checkout port).

The display here is its own window (mode "window", as in the demo); a second
monitor being plugged and unplugged is tested under Xvfb with xrandr in
``test_customer_display_xvfb.py``.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from pos_app.core.age_check import AgeCheckPolicy
from pos_app.core.catalog import Product
from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.settings.schema import CustomerDisplaySettings, Settings, UiSettings
from pos_app.ui.customer_display.texts import LANGUAGES, MESSAGES, CustomerTexts
from pos_app.ui.main_window import MainWindow

from .conftest import CATALOG
from .fake_checkout import FakeCheckout
from .helpers import MakeWindow, cell, key, panel_body, panel_title, sign_in, wedge

pytestmark = pytest.mark.customer_display

TEA = next(p for p in CATALOG if p.tax_rate == 8 and not p.age_restricted)
SOAP = next(p for p in CATALOG if p.tax_rate == 10 and not p.age_restricted)
BEER = next(p for p in CATALOG if p.name_en == "Beer 350ml can")


def settings(mode: str = "window", *, cashier_age_check: bool = True) -> Settings:
    return Settings(
        ui=UiSettings(language="en", sound=False),
        customer_display=CustomerDisplaySettings(mode=mode, cashier_age_check=cashier_age_check),
    )


def till(
    qtbot: QtBot, make_window: MakeWindow, mode: str = "window", *, cashier_age_check: bool = True
) -> MainWindow:
    window = make_window(settings=settings(mode, cashier_age_check=cashier_age_check))
    # Qt's offscreen platform activates every window it shows, whatever its flags (xcb does
    # not: the real "never takes the focus" is tested under Xvfb). Give the till its focus back.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    sign_in(qtbot, window)
    return window


def scan(qtbot: QtBot, window: MainWindow, *products: Product) -> None:
    for product in products:
        wedge(window, product.gtin)
    rows = len({p.gtin for p in products})
    qtbot.waitUntil(lambda: window.checkout.basket_view.table.rowCount() == rows, timeout=3000)


def click(widget: QWidget) -> None:
    """A touch on the customer's screen: a real mouse press and release on the button."""
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))


def cashier_keeps_focus(window: MainWindow) -> bool:
    focus = QApplication.focusWidget()
    return QApplication.activeWindow() is window and focus is not None and focus.window() is window


def test_every_customer_string_has_both_languages() -> None:
    assert LANGUAGES == ("ja", "en")  # Japanese first
    for name in MESSAGES:
        assert CustomerTexts("en").t(name).strip() and CustomerTexts("ja").t(name).strip(), name
    assert CustomerTexts().t("age.yes") == "20歳以上です"


def test_lines_total_and_tax_follow_the_scans_in_japanese_then_english(
    qtbot: QtBot, make_window: MakeWindow
) -> None:
    window = till(qtbot, make_window)
    display = window.customer.display
    assert display.isVisible() and window.customer.attached
    assert display.state_title.text() == "いらっしゃいませ"
    scan(qtbot, window, TEA, TEA, SOAP)
    assert display.table.rowCount() == 2
    assert cell(display.table, 0, 0) == TEA.name_ja
    assert cell(display.table, 0, 1) == "2"
    total = TEA.price * 2 + SOAP.price
    assert f"¥{total:,}" in display.total.text() and "合計" in display.total.text()
    assert "8%対象" in display.tax.text() and "10%対象" in display.tax.text()
    assert f"¥{TEA.price * 2 * 8 // 108:,}" in display.tax.text()  # tax inside the 8% gross
    click(display.language)
    assert cell(display.table, 0, 0) == TEA.name_en
    assert "Total" in display.total.text() and "Items at 10%" in display.tax.text()
    assert cashier_keeps_focus(window)


def test_payment_states_in_the_customers_words(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = till(qtbot, make_window)
    display = window.customer.display
    scan(qtbot, window, TEA)
    key(window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: display.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    assert display.state_title.text() == "支払いコードをかざしてください"
    assert f"¥{TEA.price:,}" in display.state_body.text()
    wedge(window, "PT1:CUSTOMER")
    qtbot.waitUntil(lambda: display.phase is PaymentPhase.CUSTOMER_APPROVAL, timeout=3000)
    assert display.state_title.text() == "スマートフォンで承認してください"
    assert "Demo Store Shibuya" in display.state_body.text()
    first = display.seconds_left()
    assert 85 <= first <= 90 and f"残り{first}秒" in display.state_body.text()
    qtbot.waitUntil(lambda: display.seconds_left() < first, timeout=3000)  # the countdown runs
    qtbot.waitUntil(lambda: f"残り{display.seconds_left()}秒" in display.state_body.text())
    fake.step_up_answer = "approve"
    qtbot.waitUntil(lambda: display.phase is PaymentPhase.APPROVED, timeout=6000)
    assert display.state_title.text() == "お支払いが完了しました"
    key(window, Qt.Key.Key_Return)  # next customer: the display greets again
    qtbot.waitUntil(lambda: display.state_title.text() == "いらっしゃいませ", timeout=3000)
    assert display.table.rowCount() == 0


@pytest.mark.parametrize(
    ("token", "help_words"),
    [
        ("PT1:DECLINE-EXPIRED", "新しい支払いコード"),
        ("PT1:DECLINE-INSUFFICIENT.FUNDS", "残高が不足"),
        ("PT1:DECLINE-RISK.DECLINED", "別のお支払い方法"),
    ],
)
def test_declined_tells_the_customer_what_to_do(
    qtbot: QtBot, make_window: MakeWindow, token: str, help_words: str
) -> None:
    window = till(qtbot, make_window)
    display = window.customer.display
    scan(qtbot, window, TEA)
    key(window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: display.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    wedge(window, token)
    qtbot.waitUntil(lambda: display.phase is PaymentPhase.DECLINED, timeout=3000)
    assert display.state_title.text() == "お支払いできませんでした"
    assert help_words in display.state_body.text()
    assert "risk" not in display.state_body.text()  # never the cashier's reason code


@pytest.mark.age_check
def test_customer_confirms_age_on_the_display_and_the_cashier_keeps_the_focus(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = till(qtbot, make_window)
    display = window.customer.display
    scan(qtbot, window, TEA, BEER)
    key(window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: display.phase is PaymentPhase.AGE_CHECK, timeout=3000)
    assert display.state_title.text() == "年齢確認"
    assert "20歳以上ですか" in display.state_body.text()
    assert display.age_yes.isVisible() and display.age_yes.text() == "20歳以上です"
    assert display.age_no.isVisible() and display.age_no.text() == "いいえ"
    assert display.age_yes.height() >= 110  # a target for a finger, read from a metre
    # The cashier's panel says who answers; the cashier cannot answer instead.
    assert panel_title(window) == "Age check (20+)"
    assert "customer display" in panel_body(window)
    assert not window.checkout.payment_view.age_yes_button.isVisible()
    wedge(window, "PT1:APPROVE")  # a code shown too early is not taken
    assert ("submit", "PT1:APPROVE") not in fake.calls
    key(window, Qt.Key.Key_F7)  # nor the cashier's "checked" key while the display is there
    qtbot.waitUntil(lambda: "customer display" in window.checkout.message.text(), timeout=3000)
    assert window.flow.phase is PaymentPhase.AGE_CHECK
    click(display.age_yes)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    assert ("age", "True", "customer_display", "True") in fake.calls
    assert display.state_title.text() == "支払いコードをかざしてください"
    assert not display.age_yes.isVisible()
    assert cashier_keeps_focus(window)
    wedge(window, "PT1:APPROVE")  # the scanner still types into the cashier's window
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.APPROVED, timeout=3000)


@pytest.mark.age_check
def test_no_on_the_display_takes_tobacco_and_alcohol_out(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = till(qtbot, make_window)
    display, bv = window.customer.display, window.checkout.basket_view
    scan(qtbot, window, TEA, BEER)
    key(window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: display.phase is PaymentPhase.AGE_CHECK, timeout=3000)
    click(display.age_no)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.CANCELLED, timeout=3000)
    assert [line.product for line in bv.basket.lines] == [TEA]
    assert display.table.rowCount() == 1 and cell(display.table, 0, 0) == TEA.name_ja
    assert display.state_title.text() == "お売りできない商品があります"
    assert BEER.name_en in window.checkout.message.text()
    assert "Pay (F12) for the rest" in window.checkout.message.text()
    key(window, Qt.Key.Key_F12)  # the rest is paid without a question
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    assert fake.sales[window.flow.current.sale_id].total == TEA.price  # type: ignore[union-attr]


@pytest.mark.age_check
def test_without_a_display_the_cashier_confirms_after_looking(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = till(qtbot, make_window, mode="off")
    assert not window.customer.attached and not window.customer.display.isVisible()
    scan(qtbot, window, BEER)
    key(window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.AGE_CHECK, timeout=3000)
    view = window.checkout.payment_view
    assert "check that the customer is 20 or older" in panel_body(window)
    assert view.age_yes_button.isVisible() and "[F7]" in view.age_yes_button.text()
    key(window, Qt.Key.Key_F7)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    assert ("age", "True", "cashier_visual", "False") in fake.calls


@pytest.mark.age_check
def test_a_store_that_requires_the_display_blocks_the_cashier(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = till(qtbot, make_window, mode="off", cashier_age_check=False)
    fake.age_policy = AgeCheckPolicy(cashier_may_confirm=False)
    scan(qtbot, window, TEA, BEER)
    key(window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.AGE_CHECK, timeout=3000)
    assert "need the customer display" in panel_body(window)
    assert not window.checkout.payment_view.age_yes_button.isVisible()
    key(window, Qt.Key.Key_F7)
    qtbot.waitUntil(lambda: "need the customer display" in window.checkout.message.text())
    assert window.flow.phase is PaymentPhase.AGE_CHECK
    key(window, Qt.Key.Key_F8)  # "no" is always possible: the beer leaves the basket
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.CANCELLED, timeout=3000)
    assert [line.product for line in window.checkout.basket_view.basket.lines] == [TEA]


def test_the_display_window_cannot_take_the_focus(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = till(qtbot, make_window)
    display = window.customer.display
    assert display.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert display.windowFlags() & Qt.WindowType.WindowDoesNotAcceptFocus
    assert all(w.focusPolicy() == Qt.FocusPolicy.NoFocus for w in display.findChildren(QWidget))
    click(display.language)  # a touch does not move the keyboard either
    assert cashier_keeps_focus(window)


@pytest.mark.age_check
def test_closing_the_display_window_hands_the_age_check_to_the_cashier(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    window = till(qtbot, make_window)
    window.customer.display.close()  # the demo's window has a close button
    assert not window.customer.attached
    scan(qtbot, window, BEER)
    key(window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.AGE_CHECK, timeout=3000)
    assert "check that the customer is 20 or older" in panel_body(window)
    key(window, Qt.Key.Key_F7)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    assert ("age", "True", "cashier_visual", "False") in fake.calls

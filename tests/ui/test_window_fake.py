"""Sign-in, lockout, language, theme and remembered geometry on the real window."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from pos_app.core.i18n import placeholders
from pos_app.terminal.settings.schema import SecuritySettings, Settings, UiSettings
from pos_app.ui.i18n import Texts, all_keys

from .fake_checkout import FakeCheckout
from .helpers import MakeWindow, key, sign_in


def test_wrong_pins_lock_sign_in_with_a_countdown(qtbot: QtBot, make_window: MakeWindow) -> None:
    settings = Settings(
        ui=UiSettings(language="en", sound=False),
        security=SecuritySettings(pin_max_attempts=3, pin_lock_base_s=5),
    )
    window = make_window(settings=settings)
    page = window.signin
    for left in (2, 1):
        page.user.setText("C042")
        page.pin.setText("0000")
        page.submit()

        def told(left: int = left) -> bool:
            return f"{left} tries left" in page.message.text()

        qtbot.waitUntil(told, timeout=5000)
    page.pin.setText("0000")
    page.submit()
    qtbot.waitUntil(lambda: "locked for" in page.message.text(), timeout=5000)
    assert not page.button.isEnabled()
    page.pin.setText("1234")
    page.submit()  # ignored while locked
    assert window.account is None
    qtbot.waitUntil(page.button.isEnabled, timeout=8000)
    sign_in(qtbot, window)
    assert window.pages.currentWidget() is window.checkout


def test_sign_in_with_enter_and_sign_out(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    window.signin.user.setText("C042")
    window.signin.pin.setText("1234")
    window.signin.pin.setFocus()
    key(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.account is not None, timeout=5000)
    assert window.cashier_label.text() == "Cashier: Sato"
    window.signout_button.click()
    assert window.pages.currentWidget() is window.signin and window.account is None


def test_language_switch_is_remembered(
    qtbot: QtBot, make_window: MakeWindow, prefs: QSettings
) -> None:
    window = make_window()
    sign_in(qtbot, window)
    assert window.checkout.basket_view.buttons["pay"].text().startswith("Pay")
    key(window, Qt.Key.Key_F9)
    assert window.checkout.basket_view.buttons["pay"].text().startswith("支払い")
    assert window.checkout.payment_view.title.text() == "準備完了"
    assert window.status.labels["cashier"].text() == "担当: Sato"
    window.close()
    again = make_window()
    assert again.texts.lang == "ja"
    assert again.signin.button.text().startswith("サインイン")


def test_high_contrast_and_geometry_are_remembered(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    window.contrast_box.setChecked(True)
    assert "#000000" in window.styleSheet()
    window.setGeometry(QRect(40, 50, 1300, 820))
    size = window.size()
    window.close()
    again = make_window()
    assert again.theme == "high_contrast" and again.contrast_box.isChecked()
    assert again.prefs_geometry_restored  # offscreen clamps sizes; the saved state is read back
    assert abs(again.height() - size.height()) < 100


def test_manager_hook_is_called(qtbot: QtBot, make_window: MakeWindow) -> None:
    opened: list[QWidget] = []
    window = make_window(open_manager=opened.append)
    sign_in(qtbot, window)
    key(window, Qt.Key.Key_M)  # plain M is a typed letter, not the shortcut
    assert opened == []
    from PySide6.QtTest import QTest

    QTest.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert opened == [window]


def test_every_text_has_both_languages() -> None:
    en, ja = Texts("en"), Texts("ja")
    for k in all_keys():
        assert en.t(k) and ja.t(k), k
        assert placeholders(en.t(k)) == placeholders(ja.t(k)), k


def test_sales_settled_while_nobody_watched_are_told_to_the_cashier(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate

    window = make_window()
    sign_in(qtbot, window)
    fake.pending_notices = [
        PaymentUpdate("s-1", PaymentPhase.APPROVED, 12_000, "JPY", wallet_masked="w-0b6…a93e"),
        PaymentUpdate("s-2", PaymentPhase.OFFLINE_ACCEPTED, 140, "JPY", reason="bad_offline_time"),
    ]
    window.poll_status()  # the status timer's tick
    message = window.checkout.message
    qtbot.waitUntil(lambda: "went through after all" in message.text(), timeout=5000)
    assert "12,000" in message.text() and "w-0b6…a93e" in message.text()
    assert "not charged (bad_offline_time): tell your manager" in message.text()
    assert fake.pending_notices == []  # told once

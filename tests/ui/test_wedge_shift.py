"""Payment codes from a 2D keyboard-wedge scanner that sends Shift around capitals.

The events are the ones a USB HID scanner sends (see ``scanner_keys``): a Shift
press and release around every capital letter and, on a US layout, around
``:``. Every scan must be acted on (or reported with a sound and a visible
line) and never typed into a field, wherever the keyboard focus is.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from pos_app.paytoken.issuer import mint_token
from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.ui.main_window import MainWindow

from .conftest import CATALOG
from .fake_checkout import FakeCheckout
from .helpers import MakeWindow, sign_in
from .scanner_keys import press, scanner, scanner_chars

pytestmark = pytest.mark.wedge_shift

TEA = next(p for p in CATALOG if p.category.value == "beverage")
SPECIALS = set(":*+$%")  # the characters whose keys differ between US and JIS


def real_token() -> str:
    """A real PT1 code (the issuer's own encoder) whose body holds every layout-sensitive
    character, so both the Shift handling and the US/JIS keys are exercised."""
    key = Ed25519PrivateKey.generate()
    for n in range(1, 500):
        token = mint_token(
            key,
            sub="wallet-0b6f",
            aud="pos.jp",
            limit=50_000,
            currency="JPY",
            device=b"\x01" * 8,
            flags=0,
            iat=1_795_000_000,
            cti=n.to_bytes(16, "big"),
        )
        if set(token[4:]) >= SPECIALS:
            return token
    raise AssertionError("no token with every special character")


TOKEN = real_token()


def focus(qtbot: QtBot, widget: QWidget) -> None:
    window = widget.window()
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
        window.raise_()
    widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=2000)


def till_waiting_for_code(qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout) -> MainWindow:
    """Signed in, one tea scanned (by the scanner), F12: the sale waits for the code."""
    window = make_window()
    qtbot.waitUntil(lambda: window._wedge.parser is not None, timeout=5000)
    sign_in(qtbot, window)
    fake.approved_tokens.add(TOKEN)
    scanner(TEA.gtin)
    qtbot.waitUntil(lambda: len(window.checkout.basket_view.basket) == 1, timeout=3000)
    press(Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE, timeout=3000)
    return window


def assert_paid(qtbot: QtBot, window: MainWindow, fake: FakeCheckout) -> None:
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.APPROVED, timeout=5000)
    assert ("submit", TOKEN) in fake.calls


@pytest.mark.parametrize("end", ["enter", "tab", "linefeed"])
@pytest.mark.parametrize("layout", ["us", "jis"])
def test_payment_code_after_f12(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout, layout: str, end: str
) -> None:
    """The issue's reproduction: the code right after F12, the focus where F12 left it."""
    window = till_waiting_for_code(qtbot, make_window, fake)
    focused = QApplication.focusWidget()
    scanner(TOKEN, layout=layout, end=end)
    assert_paid(qtbot, window, fake)
    assert window.checkout.basket_view.entry.text() == ""
    assert QApplication.focusWidget() is focused  # a Tab after the code did not move the focus


@pytest.mark.parametrize("end", ["enter", "tab"])
@pytest.mark.parametrize("layout", ["us", "jis"])
def test_product_code_in_the_code_entry(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout, layout: str, end: str
) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window._wedge.parser is not None, timeout=5000)
    sign_in(qtbot, window)
    entry = window.checkout.basket_view.entry
    focus(qtbot, entry)
    scanner(TEA.gtin, layout=layout, end=end)
    qtbot.waitUntil(lambda: len(window.checkout.basket_view.basket) == 1, timeout=3000)
    assert entry.text() == ""
    assert QApplication.focusWidget() is entry


@pytest.mark.parametrize("layout", ["us", "jis"])
def test_payment_code_with_no_focus_widget(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout, layout: str
) -> None:
    window = till_waiting_for_code(qtbot, make_window, fake)
    focused = QApplication.focusWidget()
    assert focused is not None
    focused.clearFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is None, timeout=2000)
    scanner(TOKEN, layout=layout)
    assert_paid(qtbot, window, fake)


@pytest.mark.parametrize("layout", ["us", "jis"])
def test_payment_code_while_another_window_is_active(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout, layout: str
) -> None:
    """The demo's wallet window (or any other window of the till) is the active one."""
    window = till_waiting_for_code(qtbot, make_window, fake)
    other = QWidget()
    qtbot.addWidget(other)
    field = QLineEdit()
    QVBoxLayout(other).addWidget(field)
    focus(qtbot, field)
    assert QApplication.activeWindow() is other
    scanner(TOKEN, layout=layout)
    assert_paid(qtbot, window, fake)
    assert field.text() == ""


def test_a_scan_the_till_cannot_take_is_reported_not_typed(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    """Manager approval is on screen with its reason field focused: a payment code is
    not wanted now; it is reported with a sound and a line, and the field stays clean."""
    window = till_waiting_for_code(qtbot, make_window, fake)
    window.flow.submit_token("PT1:MANAGER")
    qtbot.waitUntil(lambda: window.flow.phase is PaymentPhase.MANAGER_APPROVAL, timeout=3000)
    reason = window.checkout.payment_view.reason_edit
    focus(qtbot, reason)
    window.sounds.played.clear()
    scanner(TOKEN, layout="us")
    qtbot.waitUntil(lambda: window.checkout.message.text() != "", timeout=3000)
    assert "payment" in window.checkout.message.text().lower()
    assert window.sounds.played == ["attention"]
    assert reason.text() == ""
    assert ("submit", TOKEN) not in fake.calls


def test_a_scan_on_the_sign_in_page_is_reported_not_typed(
    qtbot: QtBot, make_window: MakeWindow
) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window._wedge.parser is not None, timeout=5000)
    user = window.signin.user
    user.clear()
    focus(qtbot, user)
    window.sounds.played.clear()
    scanner(TEA.gtin)
    scanner(TOKEN, layout="jis", end="tab")
    qtbot.waitUntil(lambda: len(window.sounds.played) == 2, timeout=3000)
    assert user.text() == ""
    assert "sign in" in window.signin.message.text().lower()


def test_a_person_typing_with_shift_still_types(
    qtbot: QtBot, make_window: MakeWindow, fake: FakeCheckout
) -> None:
    """Slow keys with Shift (a person) reach the field: the filter only takes bursts."""
    window = make_window()
    qtbot.waitUntil(lambda: window._wedge.parser is not None, timeout=5000)
    sign_in(qtbot, window)
    entry = window.checkout.basket_view.entry
    focus(qtbot, entry)
    for ch in "Ab:1":
        scanner_chars(ch)
        qtbot.wait(120)  # a person: far more than the 50 ms a scanner leaves between keys
    qtbot.wait(120)
    assert entry.text() == "Ab:1"
    assert ("submit", TOKEN) not in fake.calls


class Recorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[tuple[int, bool]] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            assert isinstance(event, QKeyEvent)
            self.keys.append((event.key(), event.type() == QEvent.Type.KeyPress))
        return False


def test_the_helper_sends_shift_around_capitals(qtbot: QtBot) -> None:
    """Guard on the test itself: Shift press, key press, key release, Shift release."""
    field = QLineEdit()
    qtbot.addWidget(field)
    focus(qtbot, field)
    recorder = Recorder()
    field.installEventFilter(recorder)
    scanner_chars("P:", layout="us")
    shift, p, colon = Qt.Key.Key_Shift, Qt.Key.Key_P, Qt.Key.Key_Colon
    assert recorder.keys == [
        (shift, True), (p, True), (p, False), (shift, False),
        (shift, True), (colon, True), (colon, False), (shift, False),
    ]  # fmt: skip
    recorder.keys.clear()
    scanner_chars(":", layout="jis")
    assert recorder.keys == [(colon, True), (colon, False)]
    assert field.text() == "P::"

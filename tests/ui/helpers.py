"""Driving the real widgets the way a cashier does: keys, a wedge scanner, clicks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from pos_app.ui.main_window import MainWindow


def target(window: MainWindow) -> QWidget:
    return QApplication.focusWidget() or window


def wedge(window: MainWindow, text: str) -> None:
    """A scanner burst: characters back to back, then Enter, to whatever has focus."""
    for ch in text:
        QTest.keyClick(target(window), ch)
    QTest.keyClick(target(window), Qt.Key.Key_Return)


def key(window: MainWindow, k: Qt.Key) -> None:
    QTest.keyClick(target(window), k)


def sign_in(qtbot, window: MainWindow, user: str = "C042", pin: str = "1234") -> None:
    window.signin.user.setText(user)
    window.signin.pin.setText(pin)
    window.signin.submit()
    qtbot.waitUntil(lambda: window.account is not None, timeout=5000)


def panel_title(window: MainWindow) -> str:
    return window.checkout.payment_view.title.text()


def panel_body(window: MainWindow) -> str:
    return window.checkout.payment_view.body.text()

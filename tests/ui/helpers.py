"""Driving the real widgets the way a cashier does: keys, a wedge scanner, clicks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTableWidget, QWidget
from pytestqt.qtbot import QtBot

from pos_app.scanning.sources import FrameSource
from pos_app.terminal.checkout.types import CheckoutPort
from pos_app.terminal.settings.schema import Settings
from pos_app.ui.main_window import MainWindow


class MakeWindow(Protocol):
    """The ``make_window`` fixture: a signed-out till window, shown and started."""

    def __call__(
        self,
        *,
        settings: Settings | None = None,
        source: FrameSource | None = None,
        port: CheckoutPort | None = None,
        open_manager: Callable[[QWidget], None] | None = None,
        kiosk: bool = False,
    ) -> MainWindow: ...


def target(window: MainWindow) -> QWidget:
    return QApplication.focusWidget() or window


def wedge(window: MainWindow, text: str) -> None:
    """A scanner burst: characters back to back, then Enter, to whatever has focus."""
    for ch in text:
        QTest.keyClick(target(window), ch)  # type: ignore[call-overload]  # PySide6's stub lacks Qt's keyClick(widget, char)
    QTest.keyClick(target(window), Qt.Key.Key_Return)


def key(window: MainWindow, k: Qt.Key) -> None:
    QTest.keyClick(target(window), k)


def sign_in(qtbot: QtBot, window: MainWindow, user: str = "C042", pin: str = "1234") -> None:
    window.signin.user.setText(user)
    window.signin.pin.setText(pin)
    window.signin.submit()
    qtbot.waitUntil(lambda: window.account is not None, timeout=5000)


def cell(table: QTableWidget, row: int, column: int) -> str:
    """The text of a table's cell, which must be there."""
    item = table.item(row, column)
    assert item is not None, (row, column)
    return item.text()


def panel_title(window: MainWindow) -> str:
    return window.checkout.payment_view.title.text()


def panel_body(window: MainWindow) -> str:
    return window.checkout.payment_view.body.text()

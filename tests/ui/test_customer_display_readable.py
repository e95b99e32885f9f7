"""The customer display reads like the cashier's window: the same ``ui.font_scale`` and the
same high-contrast switch, text at least 4.5:1 everywhere, every control visible."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
from pos_app.terminal.settings.schema import CustomerDisplaySettings, Settings, UiSettings
from pos_app.ui.customer_display.window import PALETTES, CustomerDisplay
from pos_app.ui.main_window import MainWindow
from pos_app.ui.theme import SYMBOLS

from .helpers import MakeWindow, key, sign_in
from .test_customer_display import BEER, TEA, scan
from .test_readable import contrast

pytestmark = pytest.mark.customer_display


def settings(font_scale: float = 1.0, theme: str = "standard") -> Settings:
    ui = UiSettings(language="en", sound=False, font_scale=font_scale, theme=theme)
    return Settings(ui=ui, customer_display=CustomerDisplaySettings(mode="window"))


def age_check_on_display(
    qtbot: QtBot, make_window: MakeWindow, *, font_scale: float = 1.0, theme: str = "standard"
) -> tuple[MainWindow, CustomerDisplay]:
    window = make_window(settings=settings(font_scale, theme))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    sign_in(qtbot, window)
    scan(qtbot, window, TEA, BEER)
    key(window, Qt.Key.Key_F12)
    display = window.customer.display
    qtbot.waitUntil(lambda: display.phase is PaymentPhase.AGE_CHECK, timeout=3000)
    return window, display


@pytest.mark.parametrize("theme", sorted(PALETTES))
def test_every_text_colour_of_the_display_reads_at_4_5_to_1(theme: str) -> None:
    p = PALETTES[theme]
    pairs = {"text": (p.text, p.window), "muted": (p.muted, p.window), "yes": p.yes}
    pairs["plain"] = p.plain
    for name, (fg, bg) in pairs.items():
        assert contrast(fg, bg) >= 4.5, (theme, name, fg, bg)


def test_the_display_follows_font_scale(qtbot: QtBot, make_window: MakeWindow) -> None:
    _window, display = age_check_on_display(qtbot, make_window, font_scale=1.5)
    for widget, px in (
        (display.total, 96),
        (display.state_title, 60),
        (display.state_body, 42),
        (display.store, 39),
        (display.age_yes, 54),
    ):
        widget.ensurePolished()
        assert widget.font().pixelSize() == px, widget.objectName()
    assert display.age_yes.height() >= 165  # 110 px at 1.0


def bright_pixels(image: QImage) -> int:
    return sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if QColor(image.pixel(x, y)).lightness() > 150
    )


def shows_on_black(widget: QWidget) -> bool:
    """Drawn on a black screen with light marks (border, words) a customer can see."""
    image = widget.grab().toImage()
    marks = bright_pixels(image)
    return marks > 40 and marks < image.width() * image.height() // 4 * 0.9


def test_high_contrast_on_the_cashier_turns_the_display_high_contrast(
    qtbot: QtBot, make_window: MakeWindow
) -> None:
    window, display = age_check_on_display(qtbot, make_window)
    assert display.theme == "standard"
    window.contrast_box.setChecked(True)  # the cashier's switch
    qtbot.wait(50)
    assert display.theme == "high_contrast"
    corner = display.grab().toImage().pixel(2, display.height() - 2)
    assert QColor(corner).lightness() < 40  # a black screen...
    for control in (display.age_no, display.language):  # ...where every control shows
        assert shows_on_black(control), control.objectName()
    yes = QColor(display.age_yes.grab().toImage().pixel(display.age_yes.width() // 2, 8))
    assert yes.green() > 200 and yes.red() < 80  # "20 or older" still a green target


def test_a_till_started_in_high_contrast_starts_its_display_so(
    qtbot: QtBot, make_window: MakeWindow
) -> None:
    _window, display = age_check_on_display(qtbot, make_window, theme="high_contrast")
    assert display.theme == "high_contrast"
    assert shows_on_black(display.age_no)


def test_each_state_shows_its_symbol_as_on_the_cashiers_panel(qtbot: QtBot) -> None:
    display = CustomerDisplay(store_name="Demo Store", lang="en")
    qtbot.addWidget(display)
    display.show()
    for phase in (PaymentPhase.APPROVED, PaymentPhase.DECLINED, PaymentPhase.CUSTOMER_APPROVAL):
        display.show_payment(PaymentUpdate("s-1", phase, 3000, "JPY", expires_at=0))
        assert display.state_symbol.isVisible() and display.state_symbol.text() == SYMBOLS[phase]
    display.show_payment(PaymentUpdate("s-1", PaymentPhase.AGE_CHECK, 3000, "JPY"))
    assert not display.state_symbol.isVisible()  # the two answer buttons need the room
    assert display.age_yes.isVisible()

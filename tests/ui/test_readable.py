"""Readable from two metres: sizes follow ui.font_scale, every state has a large symbol,
text contrast is at least 4.5:1, look-alike states differ, high contrast shows controls."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
from pos_app.terminal.settings.schema import Settings, UiSettings
from pos_app.ui.theme import SYMBOLS, phase_style

from .helpers import MakeWindow, sign_in


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    q = QColor(colour)
    return 0.2126 * channel(q.redF()) + 0.7152 * channel(q.greenF()) + 0.0722 * channel(q.blueF())


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("theme", ["standard", "high_contrast"])
@pytest.mark.parametrize("phase", [*PaymentPhase, "idle"])
def test_every_state_has_text_at_4_5_to_1(phase: PaymentPhase | str, theme: str) -> None:
    style = phase_style(phase, theme)
    assert contrast(style.background, style.foreground) >= 4.5, (phase, theme, style)


@pytest.mark.parametrize("theme", ["standard", "high_contrast"])
@pytest.mark.parametrize(
    "pair",
    [
        (PaymentPhase.CUSTOMER_APPROVAL, PaymentPhase.MANAGER_APPROVAL),
        (PaymentPhase.APPROVED, PaymentPhase.OFFLINE_ACCEPTED),
    ],
)
def test_look_alike_states_differ_at_a_glance(
    pair: tuple[PaymentPhase, PaymentPhase], theme: str
) -> None:
    a, b = (phase_style(p, theme).background for p in pair)
    assert SYMBOLS[pair[0]] != SYMBOLS[pair[1]]
    assert contrast(a, b) >= 1.3  # not just a hue nudge: clearly lighter or darker too


def test_the_panel_follows_font_scale_and_shows_a_symbol(
    qtbot: QtBot, make_window: MakeWindow
) -> None:
    settings = Settings(ui=UiSettings(language="en", sound=False, font_scale=1.5))
    window = make_window(settings=settings)
    sign_in(qtbot, window)
    view = window.checkout.payment_view
    update = PaymentUpdate("s-1", PaymentPhase.CUSTOMER_APPROVAL, 3000, "JPY", expires_at=0)
    view.show_update(update)
    for widget, px in ((view.symbol, 132), (view.title, 60), (view.body, 36), (view.detail, 30)):
        widget.ensurePolished()
        assert widget.font().pixelSize() == px, widget.objectName()
    assert view.symbol.isVisible() and view.symbol.text() == SYMBOLS[update.phase]


def test_high_contrast_shows_the_pick_up_later_box(
    qtbot: QtBot, make_window: MakeWindow, tmp_path: Path
) -> None:
    window = make_window()
    sign_in(qtbot, window)
    window.contrast_box.setChecked(True)
    box = window.checkout.basket_view.pickup
    qtbot.wait(50)
    image = box.grab().toImage()
    bright = sum(
        1
        for x in range(min(24, image.width()))  # the indicator, left of the words
        for y in range(image.height())
        if QColor(image.pixel(x, y)).lightness() > 200
    )
    image.save(str(tmp_path / "pickup.png"))
    dark = QColor(image.pixel(image.width() - 2, 1)).lightness()
    assert dark < 40  # a black screen...
    assert bright > 20  # ...with a white-bordered box on it

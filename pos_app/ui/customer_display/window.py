"""The customer display window: the lines as they are scanned, the total with its tax
breakdown, the payment state in the customer's words, and the age question.

It never takes the keyboard focus: the window does not accept focus, is shown
without activating, and none of its widgets accepts focus, so a scanner burst
or a cashier's key always lands in the cashier window, even right after the
customer touched a button here. It holds no state of the sale beyond the last
copies it was sent (``show_basket``, ``show_payment``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.basket import BasketSnapshot
from pos_app.core.money import Money
from pos_app.terminal.checkout.state import AGE_CHECK_REFUSED
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
from pos_app.ui.customer_display.texts import CustomerTexts
from pos_app.ui.theme import FONT_FAMILY, SYMBOLS, phase_style
from pos_app.ui.widgets import button, label

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter
_NEEDS_AMOUNT = {
    PaymentPhase.WAITING_FOR_CODE,
    PaymentPhase.CUSTOMER_APPROVAL,
    PaymentPhase.APPROVED,
    PaymentPhase.OFFLINE_ACCEPTED,
    PaymentPhase.VOIDED,
}


@dataclass(frozen=True, slots=True)
class Palette:
    """Every colour pair the display draws text with (each at least 4.5:1)."""

    text: str
    window: str
    muted: str  # store name, tax line, column titles
    rule: str
    yes: tuple[str, str]  # background, text
    plain: tuple[str, str]  # "No" and the language button
    border: str
    border_px: int


PALETTES = {
    "standard": Palette(
        "#212121", "#ffffff", "#37474f", "#b0bec5",
        ("#1b5e20", "#ffffff"), ("#eceff1", "#000000"), "#263238", 3,
    ),
    # Like the cashier's high contrast: black ground, white words, yellow outlines.
    "high_contrast": Palette(
        "#ffffff", "#000000", "#ffffff", "#ffff00",
        ("#00ff00", "#000000"), ("#000000", "#ffffff"), "#ffff00", 4,
    ),
}  # fmt: skip


def stylesheet(theme: str, font_scale: float) -> str:
    """The display's look for the cashier's theme and ``ui.font_scale`` (sizes in px at 1.0)."""
    p = PALETTES.get(theme, PALETTES["standard"])

    def px(size: int) -> str:
        return f"{round(size * font_scale)}px"

    return f"""
QWidget {{ font-family: {FONT_FAMILY}; font-size: {px(24)}; color: {p.text};
           background: {p.window}; }}
QLabel#store {{ font-size: {px(26)}; font-weight: bold; color: {p.muted}; }}
QTableWidget {{ font-size: {px(28)}; border: none; gridline-color: {p.rule}; }}
QHeaderView::section {{ font-size: {px(20)}; color: {p.muted}; background: {p.window};
                        border: none; border-bottom: 2px solid {p.rule}; padding: 6px; }}
QLabel#total {{ font-size: {px(64)}; font-weight: bold; }}
QLabel#tax {{ font-size: {px(22)}; color: {p.muted}; }}
QLabel#stateSymbol {{ font-size: {px(88)}; font-weight: bold; }}
QLabel#stateTitle {{ font-size: {px(40)}; font-weight: bold; }}
QLabel#stateBody {{ font-size: {px(28)}; }}
QPushButton {{ min-height: {px(110)}; font-size: {px(36)}; font-weight: bold;
               border-radius: 16px; border: {p.border_px}px solid {p.border};
               padding: 8px 24px; }}
QPushButton#ageYes {{ background: {p.yes[0]}; color: {p.yes[1]}; }}
QPushButton#ageNo {{ background: {p.plain[0]}; color: {p.plain[1]}; }}
QPushButton#language {{ min-height: {px(48)}; font-size: {px(22)};
                        border-width: {p.border_px - 2}px;
                        background: {p.plain[0]}; color: {p.plain[1]}; }}
"""


class CustomerDisplay(QWidget):
    age_answered = Signal(bool)  # True: "I am 20 or older"; False: "No"
    closed = Signal()  # its window was closed (the demo's window has a close button)

    def __init__(
        self,
        *,
        store_name: str,
        lang: str = "ja",
        framed: bool = True,
        theme: str = "standard",
        font_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        flags = Qt.WindowType.Window | Qt.WindowType.WindowDoesNotAcceptFocus
        if not framed:  # a monitor of its own: nothing to move or close
            flags |= Qt.WindowType.FramelessWindowHint
        super().__init__(None, flags)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.texts, self._clock, self._store = CustomerTexts(lang), clock, store_name
        self.snapshot: BasketSnapshot | None = None
        self.update_shown: PaymentUpdate | None = None
        self._build()
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._render_state)
        for widget in (self, *self.findChildren(QWidget)):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.font_scale = font_scale
        self.theme = ""
        self.set_theme(theme)
        self.resize(1024, 640)
        self.retranslate()

    def _build(self) -> None:
        self.store = label("store")
        self.store.setText(self._store)
        self.language = button("language", on_click=self.toggle_language)
        self.table = QTableWidget(0, 3)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.total = label("total", align=_RIGHT)
        self.tax = label("tax", align=_RIGHT, wrap=True)
        self.state = QFrame()
        self.state.setObjectName("state")
        self.state_symbol = label("stateSymbol", align=_CENTER)
        self.state_title = label("stateTitle", align=_CENTER, wrap=True)
        self.state_body = label("stateBody", align=_CENTER, wrap=True)
        self.age_yes = button("ageYes", on_click=lambda: self._answer(True))
        self.age_no = button("ageNo", on_click=lambda: self._answer(False))
        self._layout()

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.store, 1)
        top.addWidget(self.language)
        answers = QVBoxLayout()  # stacked: each button as wide as the panel, for any window
        answers.addWidget(self.age_yes)
        answers.addWidget(self.age_no)
        panel = QVBoxLayout(self.state)
        panel.addStretch(1)
        panel.addWidget(self.state_symbol)
        panel.addWidget(self.state_title)
        panel.addSpacing(16)
        panel.addWidget(self.state_body)
        panel.addStretch(1)
        panel.addLayout(answers)
        # Fixed shares: the panel must not jump in width as its words change.
        for widget in (self.table, self.state):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 1)
        middle.addWidget(self.state, 1)  # the state is what the customer watches
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(middle, 1)
        layout.addWidget(self.tax)
        layout.addWidget(self.total)

    # inputs from the cashier window ---------------------------------------------

    def show_basket(self, snapshot: BasketSnapshot) -> None:
        self.snapshot = snapshot
        self._render_basket()
        self._render_state()

    def show_payment(self, update: PaymentUpdate | None) -> None:
        self.update_shown = update
        if update is not None and update.phase is PaymentPhase.CUSTOMER_APPROVAL:
            self._countdown.start()
        else:
            self._countdown.stop()
        self._render_state()

    def set_theme(self, theme: str) -> None:
        """The cashier's theme (standard or high contrast), at the till's ``ui.font_scale``."""
        theme = theme if theme in PALETTES else "standard"
        if theme != self.theme:
            self.theme = theme
            self.setStyleSheet(stylesheet(theme, self.font_scale))
            self._render_state()

    def toggle_language(self) -> None:
        self.texts.lang = "en" if self.texts.lang == "ja" else "ja"
        self.retranslate()

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closed.emit()

    def _answer(self, yes: bool) -> None:
        if self.phase is PaymentPhase.AGE_CHECK:
            self.age_answered.emit(yes)

    @property
    def phase(self) -> PaymentPhase | None:
        return None if self.update_shown is None else self.update_shown.phase

    # rendering ------------------------------------------------------------------

    def retranslate(self) -> None:
        t = self.texts.t
        self.setWindowTitle(t("title"))
        self.language.setText(t("switch"))
        self.table.setHorizontalHeaderLabels([t("col.item"), t("col.qty"), t("col.amount")])
        self.age_yes.setText(t("age.yes"))
        self.age_no.setText(t("age.no"))
        self._render_basket()
        self._render_state()

    def _money(self, amount: int) -> str:
        currency = self.snapshot.currency if self.snapshot else "JPY"
        return Money(amount, currency).format()

    def _render_basket(self) -> None:
        snap, t = self.snapshot, self.texts.t
        lines = snap.lines if snap else ()
        self.table.setRowCount(len(lines))
        for row, line in enumerate(lines):
            cells = (line.product.name(self.texts.lang), str(line.quantity))
            for col, text in enumerate((*cells, self._money(line.line_total))):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(_RIGHT)
                self.table.setItem(row, col, item)
        self.table.scrollToBottom()  # the line just scanned
        total = snap.total if snap else 0
        self.total.setText(f"{t('total')}  {self._money(total)}")
        parts = [t("items", count=snap.item_count if snap else 0)]
        for tax in snap.taxes if snap else ():
            gross, amount = self._money(tax.gross), self._money(tax.tax)
            parts.append(t("tax", rate=tax.rate, gross=gross, tax=amount))
        self.tax.setText("    ".join(parts))

    def _render_state(self) -> None:
        title, body, style_key = self._state_words()
        style, palette = phase_style(style_key, self.theme), PALETTES[self.theme]
        # High contrast outlines the panel: on black, a black panel would have no edge.
        outlined = self.theme != "standard"
        edge = f"{palette.border_px}px solid {palette.border}" if outlined else "none"
        self.state.setStyleSheet(
            f"QFrame#state {{ background: {style.background}; border-radius: 16px;"
            f" border: {edge}; }}"
            f"QFrame#state QLabel {{ background: transparent; color: {style.foreground}; }}"
        )
        # Read from a step away without the words, like the cashier's panel (✓ ✕ ☎ …);
        # the age question keeps its room for the two big buttons.
        symbol = SYMBOLS.get(style_key, "") if isinstance(style_key, PaymentPhase) else ""
        self.state_symbol.setText(symbol)
        self.state_symbol.setVisible(bool(symbol) and style_key is not PaymentPhase.AGE_CHECK)
        self.state_title.setText(title)
        self.state_body.setText(body)
        asking = self.phase is PaymentPhase.AGE_CHECK
        self.age_yes.setVisible(asking)
        self.age_no.setVisible(asking)

    def _state_words(self) -> tuple[str, str, PaymentPhase | str]:
        t, update = self.texts.t, self.update_shown
        if update is None:
            if self.snapshot and self.snapshot.lines:
                return t("basket.title"), t("basket.body"), "idle"
            return t("welcome.title"), t("welcome.body"), "idle"
        phase, key = update.phase, update.phase.value
        if phase is PaymentPhase.AGE_CHECK:
            return t("age.title"), t("age.question"), phase
        if phase is PaymentPhase.CANCELLED and update.reason == AGE_CHECK_REFUSED:
            return t("age_refused.title"), t("age_refused.body"), phase
        if phase is PaymentPhase.DECLINED:
            return t("declined.title"), self.texts.declined_help(update.reason), phase
        values: dict[str, object] = {}
        if phase in _NEEDS_AMOUNT:
            values["amount"] = Money(update.total, update.currency).format()
        if phase is PaymentPhase.CUSTOMER_APPROVAL:
            values.update(store=self._store, seconds=self.seconds_left())
        return t(f"{key}.title"), t(f"{key}.body", **values), phase

    def seconds_left(self) -> int:
        update = self.update_shown
        if update is None or update.expires_at is None:
            return 0
        return max(0, int(update.expires_at - self._clock()))

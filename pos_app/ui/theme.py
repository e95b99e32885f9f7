"""Colours and the application stylesheet (standard and high-contrast).

Each payment phase has a colour, a large symbol *and* a title in words, so a
cashier two metres away, or one who cannot tell red from green, still reads
the state. Every phase's text is at least 4.5:1 against its colour (WCAG AA);
the two approvals (customer: dark orange and a phone, manager: amber and "!")
and the two acceptances (approved: green ✓, offline: teal ✓ with an envelope,
"to be sent") differ in colour and in symbol. High contrast uses black
backgrounds, white text and saturated phase colours with thick borders.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_app.terminal.checkout.types import PaymentPhase


@dataclass(frozen=True, slots=True)
class PhaseStyle:
    background: str
    foreground: str


_STANDARD = {
    "idle": PhaseStyle("#eceff1", "#263238"),
    PaymentPhase.WAITING_FOR_CODE: PhaseStyle("#1565c0", "#ffffff"),
    PaymentPhase.VERIFYING: PhaseStyle("#5e35b1", "#ffffff"),
    PaymentPhase.APPROVED: PhaseStyle("#2e7d32", "#ffffff"),
    PaymentPhase.DECLINED: PhaseStyle("#c62828", "#ffffff"),
    PaymentPhase.CUSTOMER_APPROVAL: PhaseStyle("#b34700", "#ffffff"),  # white on #ef6c00: 3.1:1
    PaymentPhase.MANAGER_APPROVAL: PhaseStyle("#f9a825", "#000000"),
    PaymentPhase.OFFLINE_ACCEPTED: PhaseStyle("#004d40", "#ffffff"),  # darker than approved
    PaymentPhase.CANCELLED: PhaseStyle("#546e7a", "#ffffff"),
    PaymentPhase.VOIDED: PhaseStyle("#6a1b9a", "#ffffff"),
    PaymentPhase.AGE_CHECK: PhaseStyle("#ad1457", "#ffffff"),
}

_HIGH = {
    "idle": PhaseStyle("#000000", "#ffffff"),
    PaymentPhase.WAITING_FOR_CODE: PhaseStyle("#0033ff", "#ffffff"),
    PaymentPhase.VERIFYING: PhaseStyle("#000000", "#ffff00"),
    PaymentPhase.APPROVED: PhaseStyle("#00ff00", "#000000"),
    PaymentPhase.DECLINED: PhaseStyle("#cc0000", "#ffffff"),  # white on #ff0000: 4.0:1
    PaymentPhase.CUSTOMER_APPROVAL: PhaseStyle("#ff8800", "#000000"),
    PaymentPhase.MANAGER_APPROVAL: PhaseStyle("#ffff00", "#000000"),
    PaymentPhase.OFFLINE_ACCEPTED: PhaseStyle("#008080", "#ffffff"),  # darker than approved
    PaymentPhase.CANCELLED: PhaseStyle("#ffffff", "#000000"),
    PaymentPhase.VOIDED: PhaseStyle("#ff00ff", "#000000"),
    PaymentPhase.AGE_CHECK: PhaseStyle("#ff66cc", "#000000"),
}


# Read without the words: one symbol per phase, shown large in the panel.
SYMBOLS = {
    PaymentPhase.WAITING_FOR_CODE: "▣",
    PaymentPhase.VERIFYING: "…",
    PaymentPhase.APPROVED: "✓",
    PaymentPhase.OFFLINE_ACCEPTED: "✓✉",
    PaymentPhase.DECLINED: "✕",
    PaymentPhase.CUSTOMER_APPROVAL: "☎",
    PaymentPhase.MANAGER_APPROVAL: "!",
    PaymentPhase.CANCELLED: "↩",
    PaymentPhase.VOIDED: "⊘",
    PaymentPhase.AGE_CHECK: "20+",
}


def phase_style(phase: PaymentPhase | str, theme: str) -> PhaseStyle:
    table = _HIGH if theme == "high_contrast" else _STANDARD
    return table.get(phase, table["idle"])


FONT_FAMILY = '"Noto Sans CJK JP", "Noto Sans", "DejaVu Sans", sans-serif'


def stylesheet(theme: str, font_scale: float) -> str:
    base = round(15 * font_scale)
    if theme == "high_contrast":
        window, text, panel, accent, border = "#000000", "#ffffff", "#111111", "#ffff00", "3px"
    else:
        window, text, panel, accent, border = "#fafafa", "#212121", "#ffffff", "#1565c0", "1px"
    return f"""
    QWidget {{ font-family: {FONT_FAMILY}; font-size: {base}px; color: {text};
               background: {window}; }}
    QTableView {{ background: {panel}; gridline-color: #b0bec5; font-size: {base + 3}px;
                  selection-background-color: {accent}; selection-color: {window}; }}
    QHeaderView::section {{ background: {panel}; color: {text}; font-weight: bold;
                            padding: 6px; border: {border} solid #90a4ae; }}
    QPushButton {{ min-height: {round(base * 2.6)}px; padding: 4px 12px; border-radius: 6px;
                   border: {border} solid #78909c; background: {panel}; font-weight: bold; }}
    QPushButton:focus {{ border: 3px solid {accent}; }}
    QPushButton:disabled {{ color: #9e9e9e; }}
    QPushButton#pay {{ background: #2e7d32; color: #ffffff; font-size: {base + 6}px; }}
    QPushButton#cancel {{ background: #b71c1c; color: #ffffff; }}
    QPushButton#pay:disabled, QPushButton#cancel:disabled {{ background: #cfd8dc;
                                                             color: #78909c; }}
    QLineEdit {{ min-height: {round(base * 2.2)}px; padding: 2px 8px; font-size: {base + 3}px;
                 border: {border} solid #78909c; background: {panel}; }}
    QLabel#total {{ font-size: {base * 3}px; font-weight: bold; }}
    QLabel#message {{ font-size: {base + 2}px; font-weight: bold; color: {accent}; }}
    QLabel#error {{ font-size: {base + 2}px; font-weight: bold; color: #c62828; }}
    QStatusBar QLabel {{ padding: 0 8px; }}
    QLabel#warn {{ background: #c62828; color: #ffffff; font-weight: bold; padding: 0 8px; }}
    QCheckBox::indicator {{ width: {base + 5}px; height: {base + 5}px;
                            border: 2px solid {text}; background: {panel}; }}
    QCheckBox::indicator:checked {{ background: {accent}; }}
    QCheckBox:disabled {{ color: #9e9e9e; }}
    """

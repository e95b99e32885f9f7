"""Keyboard-wedge parser with realistic key timings (times injected)."""

from __future__ import annotations

import random

import pytest

from pos_app.scanning.symbols import SymbolKind
from pos_app.scanning.wedge import (
    WedgeParser,
    WedgeResult,
    WedgeScan,
    repair_payment_text,
    to_half_width,
)
from tests.scanning.scan_testkit import EAN13_A, payment_text

US_ON_JIS = str.maketrans({":": "+", "*": "(", "+": "~"})
JIS_ON_US = str.maketrans({":": "'", "*": '"', "+": ":"})


def scanner_keys(text: str, *, start: float, seed: int = 0) -> list[tuple[str, float]]:
    """A USB scanner: 2-12 ms between characters, Enter at the end."""
    rng = random.Random(seed)
    at, keys = start, []
    for ch in [*text, "\r"]:
        keys.append((ch, at))
        at += rng.uniform(0.002, 0.012)
    return keys


def typed_keys(text: str, *, start: float, seed: int = 0) -> list[tuple[str, float]]:
    """A person: 90-300 ms between keys."""
    rng = random.Random(seed)
    at, keys = start, []
    for ch in text:
        keys.append((ch, at))
        at += rng.uniform(0.09, 0.3)
    return keys


class Widget:
    """What the focused text field ends up receiving, driven like the Qt filter."""

    def __init__(self, parser: WedgeParser) -> None:
        self.parser = parser
        self.text = ""
        self.scans: list[WedgeScan] = []

    def key(self, ch: str, at: float) -> None:
        # The Qt side's timer fires poll() at parser.deadline before the next key.
        deadline = self.parser.deadline
        if deadline is not None and deadline < at:
            self.text += self.parser.poll(deadline + 0.001)
        result: WedgeResult = self.parser.feed(ch, at)
        self.text += result.release
        if not result.consume:
            self.text += ch
        if result.scan:
            self.scans.append(result.scan)

    def idle(self, at: float) -> None:
        self.text += self.parser.poll(at)


def drive(keys: list[tuple[str, float]], widget: Widget | None = None) -> Widget:
    widget = widget or Widget(WedgeParser())
    for ch, at in keys:
        widget.key(ch, at)
    widget.idle(keys[-1][1] + 1.0)
    return widget


def test_scanner_burst_is_a_scan_and_stays_out_of_the_widget() -> None:
    token = payment_text(3)
    widget = drive(scanner_keys(token, start=10.0))
    assert widget.text == ""
    assert [(s.kind, s.text, s.ok) for s in widget.scans] == [
        (SymbolKind.PAYMENT_TOKEN, token, True)
    ]


def test_ean_from_a_scanner_is_a_product_scan() -> None:
    widget = drive(scanner_keys(EAN13_A, start=0.0))
    assert [(s.kind, s.text) for s in widget.scans] == [(SymbolKind.GTIN, EAN13_A)]


def test_typing_reaches_the_widget_unchanged() -> None:
    widget = drive([*typed_keys("Tanaka 3", start=0.0), ("\r", 3.0)])
    assert widget.scans == []
    assert widget.text == "Tanaka 3\r"


def test_typing_digits_and_enter_quickly_is_still_typing() -> None:
    # A fast typist can roll two keys within 30 ms, but not eight in a row.
    keys = [("4", 0.0), ("9", 0.025), ("0", 0.2), ("1", 0.22), ("\r", 0.4)]
    widget = drive(keys)
    assert widget.scans == []
    assert widget.text == "4901\r"


def test_a_scan_right_after_typing_is_separated() -> None:
    keys = typed_keys("12", start=0.0) + scanner_keys(EAN13_A, start=2.0)
    widget = drive(keys)
    assert widget.text == "12"
    assert [s.text for s in widget.scans] == [EAN13_A]


def test_held_character_is_released_at_the_deadline() -> None:
    parser = WedgeParser()
    assert parser.feed("a", 1.0) == WedgeResult(consume=True)
    assert parser.deadline == pytest.approx(1.05)
    assert parser.poll(1.04) == ""  # too early: could still be a scanner
    assert parser.poll(1.06) == "a"
    assert parser.deadline is None


def test_tab_hands_held_characters_back() -> None:
    parser = WedgeParser()
    parser.feed("x", 0.0)
    assert parser.feed("\t", 0.01) == WedgeResult(consume=False, release="x")


def test_short_fast_burst_with_enter_is_not_a_scan() -> None:
    keys = scanner_keys("1234", start=0.0)  # shorter than min_length
    widget = drive(keys)
    assert widget.scans == []
    assert widget.text == "1234\r"


def test_scanner_without_enter_is_released_as_text() -> None:
    widget = drive(scanner_keys(EAN13_A, start=0.0)[:-1])
    assert widget.scans == []
    assert widget.text == EAN13_A


def test_us_scanner_on_japanese_layout_is_repaired() -> None:
    token = "PT1:" + "AB*C+D:E$%-./ 9" * 10
    garbled = token.translate(US_ON_JIS)
    assert garbled.startswith("PT1+")
    widget = drive(scanner_keys(garbled, start=0.0))
    scan = widget.scans[0]
    assert (scan.kind, scan.text, scan.ok) == (SymbolKind.PAYMENT_TOKEN, token, True)
    assert "Japanese" in scan.layout_note
    assert scan.typed == garbled


def test_japanese_scanner_on_us_layout_is_repaired() -> None:
    token = payment_text(4)
    garbled = token.translate(JIS_ON_US)
    scan = drive(scanner_keys(garbled, start=0.0)).scans[0]
    assert scan.text == token
    assert scan.ok


def test_characters_that_cannot_be_placed_are_reported_clearly() -> None:
    garbled = "PT1:ABC@DEF" + "A" * 20  # '@' is not base45 in any layout we know
    scan = drive(scanner_keys(garbled, start=0.0)).scans[0]
    assert scan.kind is SymbolKind.PAYMENT_TOKEN
    assert not scan.ok
    assert "'@' at position 7" in scan.problem
    assert "keyboard layout" in scan.problem


def test_full_width_input_from_an_active_ime_is_normalised() -> None:
    assert to_half_width("ＰＴ１：ＡＢ　１") == "PT1:AB 1"
    full = "".join(chr(ord(c) + 0xFEE0) for c in EAN13_A)
    assert drive(scanner_keys(full, start=0.0)).scans[0].text == EAN13_A


def test_caps_lock_swaps_letters_back() -> None:
    text, _note, problem = repair_payment_text("pt1:abc 123")
    assert (text, problem) == ("PT1:ABC 123", "")


def test_a_scanner_set_to_send_tab_ends_the_burst_with_it() -> None:
    token = payment_text(5)
    keys = [(ch, at) for ch, at in scanner_keys(token, start=10.0)]
    keys[-1] = ("\t", keys[-1][1])
    widget = drive(keys)
    assert widget.text == ""
    assert [(s.kind, s.text) for s in widget.scans] == [(SymbolKind.PAYMENT_TOKEN, token)]


def test_a_person_pressing_tab_moves_on_with_what_they_typed() -> None:
    widget = drive([*typed_keys("42", start=10.0), ("\t", 10.5)])
    assert widget.text == "42\t"
    assert widget.scans == []

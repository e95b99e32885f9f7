"""Keyboard-wedge scanners: tell a scanner burst from a person typing.

A USB scanner "types" its code a character every few milliseconds and ends
with Enter. The Qt event filter (in ``pos_app.ui``) feeds every typed
character with its timestamp to :class:`WedgeParser` and obeys the answer:

- ``consume``: keep this key from the focused widget (it may be a scan);
- ``release``: characters held back that turned out to be typing; deliver
  them to the widget now, before the current key;
- ``scan``: a complete scan.

A lone first character cannot be classified until the next one arrives, so it
is held for at most ``max_gap_s``; the UI calls :meth:`WedgeParser.poll` at
:attr:`WedgeParser.deadline` to release it. People see a 50 ms delay at most.

Layout repair: a scanner set to a US layout on a PC set to Japanese (JIS)
turns ``:`` into ``+``, ``*`` into ``(`` and ``+`` into ``~``; a JIS scanner on a
US PC turns ``:`` into ``'``, ``*`` into ``"`` and ``+`` into ``:``. The other
base45 characters (``$ % - . /``, space, digits, capitals) survive both. The
parser recognises the layout from the mangled ``PT1:`` prefix, undoes it and
reports any character it still cannot place.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from pos_app.core.gtin import is_valid_gtin
from pos_app.scanning.config import WedgeConfig
from pos_app.scanning.symbols import SymbolKind

BASE45_ALPHABET = frozenset(string.digits + string.ascii_uppercase + " $%*+-./:")
_US_ON_JIS = str.maketrans({"+": ":", "(": "*", "~": "+"})
_JIS_ON_US = str.maketrans({"'": ":", '"': "*", ":": "+"})
_LAYOUT_BY_PREFIX = {
    "PT1:": ("", None),
    "PT1+": ("US scanner on a Japanese keyboard layout", _US_ON_JIS),
    "PT1'": ("Japanese scanner on a US keyboard layout", _JIS_ON_US),
}


@dataclass(frozen=True, slots=True)
class WedgeScan:
    """A complete scanner burst. ``text`` is repaired, ``typed`` as received;
    ``problem`` is empty unless the text is unusable (then it says why)."""

    text: str
    typed: str
    kind: SymbolKind
    started_at: float
    ended_at: float
    layout_note: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True, slots=True)
class WedgeResult:
    consume: bool
    release: str = ""
    scan: WedgeScan | None = None


def to_half_width(text: str) -> str:
    """Full-width ASCII (an active Japanese IME) to plain ASCII."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif code == 0x3000:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def repair_payment_text(typed: str) -> tuple[str, str, str]:
    """(text, layout note, problem) for a burst that looks like a PT1 code."""
    text = to_half_width(typed)
    if text[:3] == "pt1":
        text = text.swapcase()  # Caps Lock inverts the letters a scanner sends
    note, table = _LAYOUT_BY_PREFIX.get(text[:4], ("", None))
    if table is not None:
        text = text.translate(table)
    for position, ch in enumerate(text[4:], start=4):
        if ch not in BASE45_ALPHABET:
            problem = (
                f"payment code character {ch!r} at position {position} is not valid; "
                "set the scanner's keyboard layout to match this computer (US or Japanese)"
            )
            return text, note, problem
    return text, note, ""


def looks_like_payment(typed: str) -> bool:
    head = to_half_width(typed[:4]).upper()
    return head in _LAYOUT_BY_PREFIX


def classify_burst(typed: str, *, started_at: float, ended_at: float) -> WedgeScan:
    if looks_like_payment(typed):
        text, note, problem = repair_payment_text(typed)
        return WedgeScan(text, typed, SymbolKind.PAYMENT_TOKEN, started_at, ended_at, note, problem)
    text = to_half_width(typed).strip()
    if is_valid_gtin(text):
        return WedgeScan(text, typed, SymbolKind.GTIN, started_at, ended_at)
    return WedgeScan(text, typed, SymbolKind.QR_TEXT, started_at, ended_at)


class WedgeParser:
    """Feed (character, timestamp) pairs in order; single-threaded (the GUI thread)."""

    def __init__(self, config: WedgeConfig | None = None) -> None:
        self.config = config or WedgeConfig()
        self._chars: list[str] = []
        self._first_at = 0.0
        self._last_at = 0.0

    @property
    def deadline(self) -> float | None:
        """When to call :meth:`poll` if no other key comes; ``None`` if nothing is held."""
        return self._last_at + self.config.max_gap_s if self._chars else None

    def poll(self, at: float) -> str:
        """Release held characters if the burst has gone quiet (they were typed)."""
        if self._chars and at - self._last_at > self.config.max_gap_s:
            return self._flush()
        return ""

    def feed(self, char: str, at: float) -> WedgeResult:
        released = self.poll(at)
        if char in self.config.terminators:
            return self._terminate(at, released)
        if len(char) != 1 or not char.isprintable():
            # Tab, Backspace, arrows: a person is editing; hand everything back.
            return WedgeResult(consume=False, release=released + self._flush())
        if not self._chars:
            self._first_at = at
        self._chars.append(char)
        self._last_at = at
        return WedgeResult(consume=True, release=released)

    def _terminate(self, at: float, released: str) -> WedgeResult:
        if len(self._chars) < self.config.min_length:
            return WedgeResult(consume=False, release=released + self._flush())
        typed = self._flush()
        scan = classify_burst(typed, started_at=self._first_at, ended_at=at)
        return WedgeResult(consume=True, release=released, scan=scan)

    def _flush(self) -> str:
        text = "".join(self._chars)
        self._chars = []
        return text

"""Per-frame reads to deliberate scans. All times are passed in (``at``).

Rules (see ``FilterConfig`` for the numbers):

- a payment code is accepted once it has been read identically in
  ``payment_agree_frames`` frames within ``payment_window_s``, or at once
  from a single *clear* frame (``payment_single_clear_read``: the code read
  without undoing a motion smear, and nothing else code-like in that frame
  left unread, so no second phone can be hiding in it); it is not accepted
  again until it has left the view;
- a frame with two different payment codes is rejected with a message and
  counts towards nothing (which phone did the customer mean?); and no payment
  code is accepted while another one was read within ``left_view_s`` (the
  decoder may miss the second phone in some frames; it is still there);
- a product barcode is added once it has been read identically in
  ``product_agree_frames`` frames within ``product_window_s`` (one misread
  frame must never put an item in the basket); the same product is not added
  again within ``product_cooldown_s`` unless it left the view in between (set
  the cooldown to ``math.inf`` to require leaving the view);
- any other text is reported once per appearance as ignored, for the log.

"Left the view" means not read for ``left_view_s``: decoders miss frames, so
one empty frame must not count as the item going away.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pos_app.scanning.config import FilterConfig
from pos_app.scanning.symbols import Corners, Symbol, SymbolKind, Symbology

log = logging.getLogger(__name__)

TWO_PAYMENT_CODES = "two_payment_codes"


class ScanAction(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """A decision the checkout acts on. ``kind``/``text`` are empty for a
    rejection; ``reason`` is a stable code, ``message`` is for the cashier."""

    action: ScanAction
    kind: SymbolKind | None
    text: str
    at: float
    symbology: Symbology | None = None
    corners: Corners = ()
    reason: str = ""
    message: str = ""


def _accepted(symbol: Symbol, at: float) -> ScanEvent:
    return ScanEvent(
        ScanAction.ACCEPTED, symbol.kind, symbol.text, at, symbol.symbology, symbol.corners
    )


class ScanFilter:
    """Stateful; feed it every decoded frame (also the empty ones) in time order."""

    def __init__(self, config: FilterConfig | None = None) -> None:
        self.config = config or FilterConfig()
        self.reset()

    def reset(self) -> None:
        """Forget everything (e.g. when a new sale starts)."""
        self._last_seen: dict[tuple[SymbolKind, str], float] = {}
        self._pending: dict[str, list[float]] = {}
        self._product_reads: dict[str, list[float]] = {}
        self._accepted_tokens: set[str] = set()
        self._added_at: dict[str, float] = {}
        self._reported: set[str] = set()
        self._conflict: frozenset[str] = frozenset()

    def feed(self, symbols: Sequence[Symbol], *, at: float, clear: bool = False) -> list[ScanEvent]:
        """``clear``: the decoder found nothing code-like in this frame beyond
        ``symbols`` (``DecodeResult.clear``); only then may a payment code be
        accepted from this frame alone."""
        events: list[ScanEvent] = []
        self._expire(at)
        payments = {s.text: s for s in symbols if s.kind is SymbolKind.PAYMENT_TOKEN}
        if len(payments) > 1:
            events.extend(self._reject_conflict(frozenset(payments), at))
        elif payments and self._other_payment_in_view(set(payments)):
            self._pending.clear()  # the other phone is still there: wait, say nothing new
        else:
            self._conflict = frozenset()
            for symbol in payments.values():
                events.extend(self._payment(symbol, at, clear=clear))
        for symbol in _unique(symbols, SymbolKind.GTIN):
            events.extend(self._product(symbol, at))
        for symbol in _unique(symbols, SymbolKind.QR_TEXT):
            events.extend(self._other(symbol, at))
        for symbol in symbols:
            self._last_seen[(symbol.kind, symbol.text)] = at
        return events

    def _other_payment_in_view(self, texts: set[str]) -> bool:
        return any(
            kind is SymbolKind.PAYMENT_TOKEN and text not in texts for kind, text in self._last_seen
        )

    def _expire(self, at: float) -> None:
        """Forget codes not read for ``left_view_s``: they left the view."""
        cfg = self.config
        for key in [k for k, seen in self._last_seen.items() if at - seen > cfg.left_view_s]:
            del self._last_seen[key]
            self._accepted_tokens.discard(key[1])
            self._reported.discard(key[1])
            if key[0] is SymbolKind.GTIN:
                self._added_at.pop(key[1], None)  # it left: the next read may add it again
        for pending, window in (
            (self._pending, cfg.payment_window_s),
            (self._product_reads, cfg.product_window_s),
        ):
            for text in [t for t, reads in pending.items() if at - reads[-1] > window]:
                del pending[text]
        for text in [
            t for t, added in self._added_at.items() if at - added >= cfg.product_cooldown_s
        ]:
            del self._added_at[text]

    def _reject_conflict(self, texts: frozenset[str], at: float) -> list[ScanEvent]:
        self._pending.clear()
        if texts == self._conflict:
            return []  # already told the cashier; don't repeat it every frame
        self._conflict = texts
        message = "Two payment codes in view. Show only one phone to the camera."
        log.info("rejected frame with %d payment codes", len(texts))
        return [
            ScanEvent(ScanAction.REJECTED, None, "", at, reason=TWO_PAYMENT_CODES, message=message)
        ]

    def _payment(self, symbol: Symbol, at: float, *, clear: bool) -> list[ScanEvent]:
        if symbol.text in self._accepted_tokens:
            return []
        if symbol.moving:
            # Read only by undoing a motion smear: the phone is still being
            # presented, and a second phone moving with it may not be readable
            # yet. Seen (it holds other payments back), but not an agreeing read.
            return []
        cfg = self.config
        if clear and cfg.payment_single_clear_read:
            # One clean read of a signed token in a frame with nothing else
            # code-like in view: a misread cannot pay (Ed25519, single use),
            # and the frame shows no second phone. Two phones, or clutter
            # that could be one, still need the agreeing frames below.
            self._pending.pop(symbol.text, None)
        elif not _agreed(
            self._pending, symbol.text, at, cfg.payment_window_s, cfg.payment_agree_frames
        ):
            return []
        self._accepted_tokens.add(symbol.text)
        return [_accepted(symbol, at)]

    def _product(self, symbol: Symbol, at: float) -> list[ScanEvent]:
        if symbol.text in self._added_at:
            return []  # added, still in view, cooldown running
        cfg = self.config
        reads, window = self._product_reads, cfg.product_window_s
        if not _agreed(reads, symbol.text, at, window, cfg.product_agree_frames):
            return []
        self._added_at[symbol.text] = at
        return [_accepted(symbol, at)]

    def _other(self, symbol: Symbol, at: float) -> list[ScanEvent]:
        if symbol.text in self._reported:
            return []
        self._reported.add(symbol.text)
        log.info("ignored %s code: %r", symbol.symbology, symbol.text[:80])
        return [
            ScanEvent(
                ScanAction.IGNORED,
                symbol.kind,
                symbol.text,
                at,
                symbol.symbology,
                symbol.corners,
                reason="not_a_payment_or_product_code",
                message="This code is not a payment code or a product barcode.",
            )
        ]


def _agreed(
    pending: dict[str, list[float]], text: str, at: float, window: float, need: int
) -> bool:
    """Record a read of ``text``; true once ``need`` reads at distinct times fall in ``window``."""
    reads = [t for t in pending.get(text, []) if at - t <= window and t < at]
    reads.append(at)
    if len(reads) < need:
        pending[text] = reads
        return False
    pending.pop(text, None)
    return True


def _unique(symbols: Sequence[Symbol], kind: SymbolKind) -> list[Symbol]:
    seen: dict[str, Symbol] = {}
    for symbol in symbols:
        if symbol.kind is kind:
            seen.setdefault(symbol.text, symbol)
    return list(seen.values())

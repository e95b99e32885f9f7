"""What a decoder found in a frame, and what kind of thing it is.

A decoder reports raw bytes where its library allows. The payment prefix is
checked on those bytes, so a PT1 text never goes through a character-set guess
(zxing-cpp and ZBar both guess Shift_JIS or ISO-8859-1 for byte-mode QR codes
without an ECI; base45 is plain ASCII and must come out byte for byte).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from pos_app.core.gtin import is_valid_gtin

PAYMENT_PREFIX = b"PT1:"

GrayImage = npt.NDArray[np.uint8]
Point = tuple[float, float]
Corners = tuple[Point, ...]


class SymbolKind(StrEnum):
    PAYMENT_TOKEN = "payment_token"  # noqa: S105 - a kind name, not a secret
    GTIN = "gtin"
    QR_TEXT = "qr_text"


class Symbology(StrEnum):
    """Names match ``pos_app.core.gtin.GtinKind`` for the product codes."""

    QR = "QR Code"
    EAN13 = "EAN-13"
    EAN8 = "EAN-8"
    UPCA = "UPC-A"
    UPCE = "UPC-E"
    OTHER = "other"


GTIN_SYMBOLOGIES = frozenset({Symbology.EAN13, Symbology.EAN8, Symbology.UPCA, Symbology.UPCE})


@dataclass(frozen=True, slots=True)
class RawSymbol:
    """One decoder hit before classification (coordinates in the decoded image)."""

    symbology: Symbology
    raw: bytes
    text: str
    corners: Corners


@dataclass(frozen=True, slots=True)
class Symbol:
    """A classified read. ``corners``: four points in frame pixels, clockwise
    from the symbol's top-left, for the UI's outline overlay. ``moving``: read
    only by undoing a motion smear (the code moved during the exposure); the
    live filter does not let such reads alone make a payment agree."""

    kind: SymbolKind
    symbology: Symbology
    text: str
    raw: bytes
    corners: Corners
    decoder: str
    moving: bool = False


def bytes_to_text(raw: bytes) -> str:
    """Best-effort text for display and logs: UTF-8, else Shift_JIS (the
    usual charset of Japanese QR codes without an ECI), else Latin-1."""
    for encoding in ("utf-8", "shift_jis"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def payment_text(raw: bytes) -> str | None:
    """The PT1 text if ``raw`` is a payment token, else ``None``.

    Only printable ASCII counts: a token with other bytes was damaged or is
    not ours, and must not be "repaired" by a text decoder.
    """
    if not raw.startswith(PAYMENT_PREFIX):
        return None
    if not all(0x20 <= byte < 0x7F for byte in raw):
        return None
    return raw.decode("ascii")


def classify(
    found: RawSymbol, *, decoder: str, offset: Point = (0.0, 0.0), scale: float = 1.0
) -> Symbol:
    """Turn a decoder hit into a :class:`Symbol`, mapping corners back to the frame."""
    corners = tuple((offset[0] + x / scale, offset[1] + y / scale) for x, y in found.corners)
    token = payment_text(found.raw)
    if token is not None:
        return Symbol(SymbolKind.PAYMENT_TOKEN, found.symbology, token, found.raw, corners, decoder)
    if found.symbology in GTIN_SYMBOLOGIES and is_valid_gtin(
        found.text, symbology=found.symbology.value
    ):
        return Symbol(SymbolKind.GTIN, found.symbology, found.text, found.raw, corners, decoder)
    return Symbol(SymbolKind.QR_TEXT, found.symbology, found.text, found.raw, corners, decoder)

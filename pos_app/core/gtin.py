"""GTIN product barcodes: EAN-13 (JAN), EAN-8, UPC-A and UPC-E.

The check digit is the GS1 mod-10 digit: weights 3 and 1 alternating from the
rightmost data digit. UPC-E is a zero-suppressed UPC-A and is validated by
expanding it first; an 8-digit code is EAN-8 unless the scanner said UPC-E.
Every GTIN normalises to a 13-digit key (UPC-A gets a leading zero) so the
catalog has one lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pos_app.core.errors import BarcodeError


class GtinKind(StrEnum):
    EAN13 = "EAN-13"
    EAN8 = "EAN-8"
    UPCA = "UPC-A"
    UPCE = "UPC-E"


@dataclass(frozen=True, slots=True)
class Gtin:
    digits: str  # as scanned
    kind: GtinKind
    key: str  # normalised 13-digit form used for catalog lookup


def check_digit(data: str) -> int:
    """GS1 check digit for the data digits (the code without its check digit)."""
    if not data.isascii() or not data.isdigit():
        raise BarcodeError(f"{data!r} has non-digit characters")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data)))
    return (10 - total % 10) % 10


def _has_valid_check(code: str) -> bool:
    return check_digit(code[:-1]) == int(code[-1])


def expand_upce(code: str) -> str:
    """Expand an 8-digit UPC-E (number system, 6 digits, check) to 12-digit UPC-A."""
    if len(code) != 8 or not code.isdigit() or code[0] not in "01":
        raise BarcodeError(f"{code!r} is not a UPC-E code (8 digits starting with 0 or 1)")
    ns, m, check = code[0], code[1:7], code[7]
    last = m[5]
    if last in "012":
        body = m[0:2] + last + "0000" + m[2:5]
    elif last == "3":
        body = m[0:3] + "00000" + m[3:5]
    elif last == "4":
        body = m[0:4] + "00000" + m[4]
    else:
        body = m[0:5] + "0000" + last
    return ns + body + check


def parse_gtin(text: str, *, symbology: str | None = None) -> Gtin:
    """Validate a scanned or typed GTIN; raise BarcodeError saying what is wrong."""
    code = text.strip()
    if not code.isascii() or not code.isdigit():
        raise BarcodeError(f"{text!r} is not a product barcode: it must be digits only")
    hint = (symbology or "").upper().replace("_", "-").replace("UPCE", "UPC-E")
    if len(code) == 6:
        raise BarcodeError(f"{text!r}: a 6-digit UPC-E needs its number system and check digit")
    if len(code) == 8 and hint == "UPC-E":
        upca = expand_upce(code)
        if not _has_valid_check(upca):
            raise BarcodeError(f"{text!r}: wrong UPC-E check digit; scan it again")
        return Gtin(code, GtinKind.UPCE, "0" + upca)
    kinds = {13: GtinKind.EAN13, 8: GtinKind.EAN8, 12: GtinKind.UPCA}
    kind = kinds.get(len(code))
    if kind is None:
        raise BarcodeError(f"{text!r} has {len(code)} digits: a product barcode has 8, 12 or 13")
    if not _has_valid_check(code):
        raise BarcodeError(f"{text!r}: wrong check digit; scan it again or type it carefully")
    key = code if kind is GtinKind.EAN13 else code.zfill(13)
    return Gtin(code, kind, key)


def is_valid_gtin(text: str, *, symbology: str | None = None) -> bool:
    try:
        parse_gtin(text, symbology=symbology)
    except BarcodeError:
        return False
    return True


def make_gtin(data: str) -> str:
    """Append the check digit to the data digits (used to build demo catalogs)."""
    return data + str(check_digit(data))

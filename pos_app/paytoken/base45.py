"""Strict base45 (RFC 9285), the QR alphanumeric-friendly text encoding of PT1.

Strict means: only the 45 alphabet characters, length mod 3 != 1, every
three-character group at most 65535 and a trailing pair at most 255. Any
other input raises :class:`Base45Error`; nothing is silently repaired, because
two texts decoding to the same bytes would let a token exist in several forms.
"""

from __future__ import annotations

import struct

from pos_app.paytoken.errors import Base45Error

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

# Byte -> digit value; 0xFF marks a byte outside the alphabet. Translating the
# whole string at once keeps the per-character work in C.
_INVALID = 0xFF
_DECODE_TABLE = bytes(
    ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256)
)


def encode(data: bytes) -> str:
    """Encode bytes as base45 text."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        e, rest = divmod(n, 45 * 45)
        d, c = divmod(rest, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def decode(text: str) -> bytes:
    """Decode strict base45 text; raise :class:`Base45Error` on anything else."""
    if len(text) % 3 == 1:
        raise Base45Error("base45 length mod 3 is 1")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise Base45Error("base45 text contains a non-ASCII character") from None
    digits = raw.translate(_DECODE_TABLE)
    if _INVALID in digits:
        raise Base45Error("base45 text contains a character outside the alphabet")
    full = len(digits) - len(digits) % 3
    words = [
        c + 45 * d + 2025 * e
        for c, d, e in zip(digits[0:full:3], digits[1:full:3], digits[2:full:3], strict=True)
    ]
    if words and max(words) > 0xFFFF:
        raise Base45Error("base45 group out of range")
    out = struct.pack(f">{len(words)}H", *words)
    if full < len(digits):
        last = digits[full] + 45 * digits[full + 1]
        if last > 0xFF:
            raise Base45Error("base45 final pair out of range")
        out += bytes((last,))
    return out

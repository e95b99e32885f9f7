"""Strict base45 (RFC 9285), the QR alphanumeric-friendly text encoding of PT1.

Strict means: only the 45 alphabet characters, length mod 3 != 1, every
three-character group at most 65535 and a trailing pair at most 255. Any
other input raises :class:`Base45Error`; nothing is silently repaired, because
two texts decoding to the same bytes would let a token exist in several forms.
"""

from __future__ import annotations

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
    out = _decode_groups(digits[:full])
    if full < len(digits):
        last = digits[full] + 45 * digits[full + 1]
        if last > 0xFF:
            raise Base45Error("base45 final pair out of range")
        out.append(last)
    return bytes(out)


def _decode_groups(digits: bytes) -> bytearray:
    """Every 3-digit group ``c d e`` to the 2 bytes of ``c + 45*d + 2025*e``, at once.

    This runs on every scan, so instead of a Python loop over ~85 groups it
    places each group in its own 4-byte little-endian lane of one big integer
    and lets a single integer expression compute all groups. A lane holds at
    most 44 * (1 + 45 + 2025) = 91124 < 2**24, so no carry crosses lanes, and
    a group is over 65535 exactly when its lane's third byte is not zero.
    """
    groups = len(digits) // 3
    lanes = bytearray(4 * groups)
    lanes[0::4] = digits[0::3]
    c = int.from_bytes(lanes, "little")
    lanes[0::4] = digits[1::3]
    d = int.from_bytes(lanes, "little")
    lanes[0::4] = digits[2::3]
    e = int.from_bytes(lanes, "little")
    words = (c + 45 * d + 2025 * e).to_bytes(4 * groups, "little")
    if words[2::4].count(0) != groups:
        raise Base45Error("base45 group out of range")
    out = bytearray(2 * groups)
    out[0::2] = words[1::4]  # high byte first: base45 groups are big-endian 16-bit
    out[1::2] = words[0::4]
    return out

"""PT1 claims (section 2): the value type, currency codes, flag bits, CBOR mapping."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import cbor2

from pos_app.core.errors import MoneyError
from pos_app.core.money import find_alpha, numeric_code
from pos_app.paytoken import dcbor
from pos_app.paytoken.errors import CborError

# CBOR map keys of section 2.
KEY_SUB = 2
KEY_AUD = 3
KEY_EXP = 4
KEY_IAT = 6
KEY_CTI = 7
KEY_PAY = -65537
CLAIM_KEYS = frozenset({KEY_SUB, KEY_AUD, KEY_EXP, KEY_IAT, KEY_CTI, KEY_PAY})

MAX_SUB_BYTES = 64
MAX_AUD_BYTES = 32
CTI_LENGTH = 16
DEVICE_LENGTH = 8
MAX_LIFETIME = 300
UINT64_MAX = (1 << 64) - 1

# Flag bits the issuer attests (section 2). Unknown bits are the risk policy's business.
FLAG_NEW_DEVICE = 1
FLAG_CREDENTIALS_CHANGED = 2
FLAG_OUTSIDE_HOME_REGION = 4
FLAG_NEW_ACCOUNT = 8
FLAG_NO_USER_VERIFICATION = 16
KNOWN_FLAGS = (
    FLAG_NEW_DEVICE
    | FLAG_CREDENTIALS_CHANGED
    | FLAG_OUTSIDE_HOME_REGION
    | FLAG_NEW_ACCOUNT
    | FLAG_NO_USER_VERIFICATION
)
FLAG_NAMES = {
    FLAG_NEW_DEVICE: "new_device",
    FLAG_CREDENTIALS_CHANGED: "credentials_changed",
    FLAG_OUTSIDE_HOME_REGION: "outside_home_region",
    FLAG_NEW_ACCOUNT: "new_account",
    FLAG_NO_USER_VERIFICATION: "no_user_verification",
}


def currency_numeric(code: str | int) -> int:
    """ISO 4217 numeric for an alpha code (``"JPY"``) or a numeric (``392``, ``"392"``)."""
    if isinstance(code, bool):
        raise ValueError("a currency is not a boolean")
    if isinstance(code, int):
        if not 0 < code <= 999:
            raise ValueError(f"ISO 4217 numeric code out of range: {code}")
        return code
    text = code.strip().upper()
    if text.isdigit():
        return currency_numeric(int(text))
    try:
        return numeric_code(text)
    except MoneyError:
        raise ValueError(f"unknown currency code: {code!r}") from None


def currency_alpha(numeric: int) -> str | None:
    """The alpha code for a numeric code, or None when the ISO 4217 table does not know it."""
    return find_alpha(numeric)


def unknown_flags(flags: int) -> int:
    """The bits of ``flags`` that section 2 does not define."""
    return flags & ~KNOWN_FLAGS


@dataclass(frozen=True, slots=True)
class Claims:
    """The claims of a PT1 token. ``currency`` is ISO 4217 numeric, amounts in minor units."""

    sub: str
    aud: str
    exp: int
    iat: int
    cti: bytes
    limit: int
    currency: int
    device: bytes
    flags: int

    def problems(self) -> list[str]:
        """Everything about these values that section 2 forbids (empty when valid)."""
        found = [
            *_text_problem("sub", self.sub, MAX_SUB_BYTES),
            *_text_problem("aud", self.aud, MAX_AUD_BYTES),
            *_bytes_problem("cti", self.cti, CTI_LENGTH),
            *_bytes_problem("device", self.device, DEVICE_LENGTH),
        ]
        for name in ("exp", "iat", "limit", "currency", "flags"):
            if not _is_uint(getattr(self, name)):
                found.append(f"{name} must be an unsigned integer below 2**64")
        return found

    def to_cbor_map(self) -> dict[int, object]:
        """The section 2 map, ready for deterministic encoding."""
        return {
            KEY_SUB: self.sub,
            KEY_AUD: self.aud,
            KEY_EXP: self.exp,
            KEY_IAT: self.iat,
            KEY_CTI: self.cti,
            KEY_PAY: [self.limit, self.currency, self.device, self.flags],
        }

    def to_json(self) -> dict[str, object]:
        """JSON-friendly form (bytes as lowercase hex) for the CLI and logs."""
        values = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: v.hex() if isinstance(v, bytes) else v for name, v in values}


def encode_claims(claims: Claims) -> bytes:
    """Deterministic CBOR of valid claims, assembled directly (hot path of every verify).

    Equal to ``dcbor.encode(claims.to_cbor_map())`` (a test holds it to that); the
    keys are written in RFC 8949 bytewise order: 2, 3, 4, 6, 7, then -65537.
    """
    out = bytearray(b"\xa6\x02")
    _append_text(claims.sub, out)
    out.append(0x03)
    _append_text(claims.aud, out)
    out.append(0x04)
    dcbor.append_head(0, claims.exp, out)
    out.append(0x06)
    dcbor.append_head(0, claims.iat, out)
    out += b"\x07\x50"  # key 7, then a 16-byte string head
    out += claims.cti
    out += b"\x3a\x00\x01\x00\x00\x84"  # key -65537, then a 4-element array head
    dcbor.append_head(0, claims.limit, out)
    dcbor.append_head(0, claims.currency, out)
    out.append(0x48)  # an 8-byte string head
    out += claims.device
    dcbor.append_head(0, claims.flags, out)
    return bytes(out)


def decode_claims(payload: bytes) -> Claims | None:
    """Step 9: claims from payload bytes, or None unless keys, types and encoding are exact."""
    try:
        value = cbor2.loads(payload)
    except Exception:  # third-party boundary: any decoder failure means "not claims"
        return None
    claims = claims_from_cbor(value)
    if claims is None:
        return None
    # Re-encoding valid claims and comparing bytes rejects trailing bytes,
    # duplicate or unsorted keys and non-minimal heads in one test.
    try:
        return claims if encode_claims(claims) == payload else None
    except CborError:
        return None


def _append_text(text: str, out: bytearray) -> None:
    data = text.encode("utf-8")
    dcbor.append_head(3, len(data), out)
    out += data


def claims_from_cbor(value: Any) -> Claims | None:
    """Claims from a decoded section 2 map, or None if keys or types are wrong."""
    if type(value) not in (dict, cbor2.frozendict) or len(value) != len(CLAIM_KEYS):
        return None
    # A key decoded from CBOR true would compare equal to 1; require real ints.
    if any(type(key) is not int for key in value) or set(value) != CLAIM_KEYS:
        return None
    pay = value[KEY_PAY]
    if type(pay) not in (list, tuple) or len(pay) != 4:
        return None
    claims = Claims(
        sub=value[KEY_SUB],
        aud=value[KEY_AUD],
        exp=value[KEY_EXP],
        iat=value[KEY_IAT],
        cti=value[KEY_CTI],
        limit=pay[0],
        currency=pay[1],
        device=pay[2],
        flags=pay[3],
    )
    return None if claims.problems() else claims


def _is_uint(value: object) -> bool:
    return type(value) is int and 0 <= value <= UINT64_MAX


def _text_problem(name: str, value: object, max_bytes: int) -> list[str]:
    if type(value) is not str:
        return [f"{name} must be text"]
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return [f"{name} must be valid UTF-8"]
    return [] if 1 <= size <= max_bytes else [f"{name} must be 1..{max_bytes} bytes of UTF-8"]


def _bytes_problem(name: str, value: object, length: int) -> list[str]:
    if type(value) is not bytes or len(value) != length:
        return [f"{name} must be exactly {length} bytes"]
    return []

"""Deterministic CBOR (RFC 8949 section 4.2.1) for the subset PT1 uses.

cbor2 decodes (in C, fast and robust against hostile input) and this module
re-encodes; :func:`decode_deterministic` accepts bytes only if the re-encoding
is identical. That one rule rejects trailing bytes, indefinite lengths,
non-minimal heads, duplicate map keys, unsorted keys and bignum tags.

We encode ourselves because cbor2's ``canonical=True`` sorts map keys
length-first (RFC 7049), e.g. ``-1`` (0x20) before ``24`` (0x18 0x18), while
RFC 8949 sorts bytewise. Types outside the subset (floats, simple values,
undefined, and the Python objects cbor2 builds for semantic tags such as
datetimes) are refused: PT1 never uses them, so they can only be an attack.
"""

from __future__ import annotations

from typing import Any

import cbor2

from pos_app.paytoken.errors import CborError

# PT1 structures are at most four levels deep; the limit also stops the
# cycles cbor2 can build from shared-reference tags (28/29).
MAX_DEPTH = 8
_UINT64_LIMIT = 1 << 64


def encode(value: object) -> bytes:
    """Deterministically encode ``value``; raise :class:`CborError` if unsupported."""
    out = bytearray()
    _encode_into(value, out, 0)
    return bytes(out)


def decode_deterministic(data: bytes) -> Any:
    """Decode exactly one CBOR item that is deterministically encoded."""
    value = loads(data)
    if encode(value) != data:
        raise CborError("CBOR is not deterministically encoded (or has trailing bytes)")
    return value


def loads(data: bytes) -> Any:
    """Decode the first CBOR item (no determinism check); :class:`CborError` if malformed.

    Callers that know the exact expected shape may rebuild the bytes
    themselves and compare, instead of calling :func:`decode_deterministic`.
    """
    try:
        return cbor2.loads(data)
    except Exception as exc:  # third-party boundary: any decoder failure is "not CBOR"
        raise CborError(f"not well-formed CBOR ({type(exc).__name__})") from None


def append_head(major: int, n: int, out: bytearray) -> None:
    """Append the shortest head for major type ``major`` and argument ``n``."""
    if n < 24:
        out.append(major << 5 | n)
    elif n < 0x100:
        out += bytes((major << 5 | 24, n))
    elif n < 0x10000:
        out.append(major << 5 | 25)
        out += n.to_bytes(2, "big")
    elif n < 0x100000000:
        out.append(major << 5 | 26)
        out += n.to_bytes(4, "big")
    elif n < _UINT64_LIMIT:
        out.append(major << 5 | 27)
        out += n.to_bytes(8, "big")
    else:
        raise CborError("integer does not fit a CBOR head (would need a bignum tag)")


def _encode_into(value: object, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CborError("CBOR nesting too deep")
    kind = type(value)
    # type() not isinstance(): bool is a subclass of int and must not pass as one.
    if kind is int:
        n = int(value)  # type: ignore[call-overload]
        append_head(0, n, out) if n >= 0 else append_head(1, -1 - n, out)
    elif kind is bytes:
        data = bytes(value)  # type: ignore[call-overload]
        append_head(2, len(data), out)
        out += data
    elif kind is str:
        _encode_text(str(value), out)
    elif kind is list or kind is tuple:
        items: list[object] | tuple[object, ...] = value  # type: ignore[assignment]
        append_head(4, len(items), out)
        for item in items:
            _encode_into(item, out, depth + 1)
    elif kind is dict or kind is cbor2.frozendict:
        _encode_map(value, out, depth)  # type: ignore[arg-type]
    elif kind is cbor2.CBORTag:
        tag: cbor2.CBORTag = value  # type: ignore[assignment]
        append_head(6, tag.tag, out)
        _encode_into(tag.value, out, depth + 1)
    elif value is False or value is True or value is None:
        out.append({False: 0xF4, True: 0xF5, None: 0xF6}[value])
    else:
        raise CborError(f"CBOR item of type {kind.__name__} is not allowed in PT1")


def _encode_text(text: str, out: bytearray) -> None:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise CborError("text is not valid UTF-8") from None
    append_head(3, len(data), out)
    out += data


def _encode_map(mapping: dict[object, object], out: bytearray, depth: int) -> None:
    entries: list[tuple[bytes, object]] = []
    for key, item in mapping.items():
        encoded_key = bytearray()
        _encode_into(key, encoded_key, depth + 1)
        entries.append((bytes(encoded_key), item))
    # RFC 8949 4.2.1: bytewise lexicographic order of the encoded keys.
    entries.sort(key=lambda entry: entry[0])
    append_head(5, len(entries), out)
    for key_bytes, item in entries:
        out += key_bytes
        _encode_into(item, out, depth + 1)

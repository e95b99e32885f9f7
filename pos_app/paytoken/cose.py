"""The PT1 profile of COSE_Sign1 (RFC 9052): header, Sig_structure, framing.

Only what PT1 allows: tag 18, protected ``{1: -19, 4: kid}``, an empty
unprotected map, ``alg`` never read from the unprotected header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cbor2

from pos_app.paytoken import dcbor

PREFIX = "PT1:"
EXTERNAL_AAD = b"pos-pay-token/v1"
COSE_SIGN1_TAG = 18
HEADER_ALG = 1
HEADER_KID = 4
ALG_EDDSA_ED25519 = -19
SIGNATURE_LENGTH = 64
KID_LENGTH = 8
# Ed25519 group order: a signature's S must be below it (RFC 8032 5.1.7).
ED25519_L = 2**252 + 27742317777372353535851937790883648493

_MAPS = (dict, cbor2.frozendict)
_ARRAYS = (list, tuple)


@dataclass(frozen=True, slots=True)
class Sign1Parts:
    """The four members of a decoded COSE_Sign1 (after step 5)."""

    protected: bytes
    payload: bytes
    signature: bytes


def protected_header(kid: bytes) -> bytes:
    """Deterministic bytes of ``{1: -19, 4: kid}``."""
    return dcbor.encode({HEADER_ALG: ALG_EDDSA_ED25519, HEADER_KID: kid})


# Fixed leading bytes of the two structures PT1 builds on every verify, written
# out directly because they are on the hot path; tests hold them equal to the
# generic deterministic encoder's output.
_SIG_STRUCTURE_HEAD = bytes((0x84, 0x6A)) + b"Signature1"
_AAD_ITEM = bytes((0x40 | len(EXTERNAL_AAD),)) + EXTERNAL_AAD
_SIGN1_HEAD = bytes((0xD2, 0x84))  # tag 18, array of 4


def _bstr(data: bytes) -> bytes:
    out = bytearray()
    dcbor.append_head(2, len(data), out)
    out += data
    return bytes(out)


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """``cbor(["Signature1", protected, external_aad, payload])`` (RFC 9052 4.4)."""
    return _SIG_STRUCTURE_HEAD + _bstr(protected) + _AAD_ITEM + _bstr(payload)


def sign1_tagged(parts: Sign1Parts) -> bytes:
    """Deterministic bytes of ``18([protected, {}, payload, signature])``."""
    return (
        _SIGN1_HEAD
        + _bstr(parts.protected)
        + b"\xa0"
        + _bstr(parts.payload)
        + _bstr(parts.signature)
    )


def split_sign1(item: Any) -> Sign1Parts | None:
    """Step 5: tag 18 around ``[bstr, map, bstr, bstr]`` with a 64-byte signature."""
    if type(item) is not cbor2.CBORTag or item.tag != COSE_SIGN1_TAG:
        return None
    members = item.value
    if type(members) not in _ARRAYS or len(members) != 4:
        return None
    protected, unprotected, payload, signature = members
    if type(protected) is not bytes or type(unprotected) not in _MAPS:
        return None
    if type(payload) is not bytes or type(signature) is not bytes:
        return None
    if len(signature) != SIGNATURE_LENGTH:
        return None
    return Sign1Parts(protected=protected, payload=payload, signature=signature)


def unprotected_is_empty(item: Any) -> bool:
    """Part of step 6 (call after :func:`split_sign1` succeeded)."""
    return len(item.value[1]) == 0


# Deterministic CBOR gives {1: -19, 4: <8 bytes>} exactly one encoding:
# a2 01 32 04 48 <kid>. Comparing bytes is the whole of step 6's header check
# and needs no decoder (cheaper, and nothing else can slip through).
_PROTECTED_PREFIX = bytes((0xA2, 0x01, 0x32, 0x04, 0x48))
_PROTECTED_LENGTH = len(_PROTECTED_PREFIX) + KID_LENGTH


def kid_from_protected(protected: bytes) -> bytes | None:
    """Step 6: the kid if the protected header is exactly ``{1: -19, 4: <8 bytes>}``."""
    if len(protected) != _PROTECTED_LENGTH or not protected.startswith(_PROTECTED_PREFIX):
        return None
    return protected[len(_PROTECTED_PREFIX) :]


def signature_s_is_canonical(signature: bytes) -> bool:
    """True when S < L: refuses the S + L malleated twin of a valid signature."""
    return int.from_bytes(signature[32:], "little") < ED25519_L

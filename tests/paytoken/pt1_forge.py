"""Test-only builders for PT1 tokens, including deliberately broken ones.

Everything here goes around the issuer's safety checks on purpose, so each
test can change exactly one thing (a single-fault token).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.paytoken import base45, cose, dcbor
from pos_app.paytoken.claims import Claims
from pos_app.paytoken.keys import kid_of
from pos_app.paytoken.trust_list import (
    TrustList,
    key_entry,
    parse_trust_list,
    sign_trust_list,
)

NOW = 1_795_000_000
AUDIENCE = "pos.jp"
JPY = 392


def good_claims(**changes: Any) -> Claims:
    base = Claims(
        sub="wallet-0001",
        aud=AUDIENCE,
        exp=NOW + 120,
        iat=NOW,
        cti=bytes(range(16)),
        limit=5000,
        currency=JPY,
        device=bytes.fromhex("0011223344556677"),
        flags=0,
    )
    return replace(base, **changes)


def claims_map(**changes: Any) -> dict[Any, Any]:
    return good_claims(**changes).to_cbor_map()


def sign_parts(
    key: Ed25519PrivateKey,
    *,
    protected: bytes | None = None,
    payload: bytes | None = None,
    aad: bytes = cose.EXTERNAL_AAD,
    kid: bytes | None = None,
) -> tuple[bytes, bytes, bytes]:
    """(protected, payload, signature) signed by ``key`` over any bytes."""
    protected = cose.protected_header(kid or kid_of(key)) if protected is None else protected
    payload = dcbor.encode(good_claims().to_cbor_map()) if payload is None else payload
    sig_structure = dcbor.encode(["Signature1", protected, aad, payload])
    return protected, payload, key.sign(sig_structure)


def cose_bytes(
    key: Ed25519PrivateKey,
    *,
    protected: bytes | None = None,
    unprotected: Any = None,
    payload: bytes | None = None,
    aad: bytes = cose.EXTERNAL_AAD,
    kid: bytes | None = None,
    tag: int = cose.COSE_SIGN1_TAG,
) -> bytes:
    protected, payload, signature = sign_parts(
        key, protected=protected, payload=payload, aad=aad, kid=kid
    )
    unprotected = {} if unprotected is None else unprotected
    return dcbor.encode(cbor2.CBORTag(tag, [protected, unprotected, payload, signature]))


def text_of(raw: bytes) -> str:
    return cose.PREFIX + base45.encode(raw)


def token(key: Ed25519PrivateKey, **kwargs: Any) -> str:
    return text_of(cose_bytes(key, **kwargs))


def token_with_claims(key: Ed25519PrivateKey, **changes: Any) -> str:
    return token(key, payload=dcbor.encode(claims_map(**changes)))


def payload_bytes(value: Any) -> bytes:
    return dcbor.encode(value)


def make_trust_list(
    root: Ed25519PrivateKey,
    entries: list[dict[str, Any]],
    *,
    seq: int = 1,
    next_update: int = NOW + 86_400,
) -> TrustList:
    envelope = sign_trust_list(
        root, {"seq": seq, "issued_at": NOW - 60, "next_update": next_update, "keys": entries}
    )
    return parse_trust_list(envelope, root.public_key())


def entry(key: Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": "active",
        "issue_not_before": NOW - 86_400,
        "issue_not_after": NOW + 86_400,
        "verify_until": NOW + 2 * 86_400,
    }
    fields.update(changes)
    return key_entry(key.public_key(), **fields)

"""Manager proofs: a manager's own Ed25519 key signs each approval, void and review decision.

Before, a manager's approval was a ``manager_id`` in a terminal-signed request, and
the only secret behind it a 4-digit PIN whose scrypt hash sits in the till's
database: whoever holds the till's files could brute-force the PIN offline (or
skip it and type any id). Now the backend accepts a manager action only with a
signature by a key enrolled for that manager (docs/BACKEND.md, "Manager proofs").

The key is derived from the manager's passphrase, never stored:
``seed = scrypt(passphrase, salt="pos-app manager key v1" 0 store_id 0 manager_id)``,
N=2^17, r=8 (128 MiB per guess). The till keeps no verifier of it; the backend keeps
only the public key. A passphrase must not look like a PIN (``check_passphrase``):
at least 12 characters, not only digits, so a copy of the till's files plus every
4-digit PIN gives nothing. Offline guessing against the public key costs one
128 MiB scrypt per guess; a generated passphrase (``new_passphrase``, 80 bits)
makes that hopeless.

Messages are compact JSON with sorted keys (as the step-up message), with a
``kind`` so a signature for one purpose never verifies for another.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass, fields
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.paytoken import keys

KDF_N, KDF_R, KDF_P = 2**17, 8, 1
MIN_PASSPHRASE = 12
KIND_SALE = "pos-manager-sale-approval-v1"
KIND_DECISION = "pos-manager-review-decision-v1"
KIND_VOID = "pos-manager-void-v1"
_SALT = b"pos-app manager key v1"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed by hand


class PassphraseError(ValueError):
    """A passphrase too weak to protect a manager key."""


def check_passphrase(passphrase: str) -> None:
    text = unicodedata.normalize("NFC", passphrase)
    if len(text) < MIN_PASSPHRASE:
        raise PassphraseError(f"a manager passphrase has at least {MIN_PASSPHRASE} characters")
    if text.isdigit():
        raise PassphraseError("a manager passphrase must not be only digits (that is a PIN)")
    if len(set(text)) < 6:
        raise PassphraseError("a manager passphrase needs at least 6 different characters")


def new_passphrase() -> str:
    """16 random characters in four groups (about 79 bits), e.g. ``k7mp-2xqa-9rtd-hw4e``."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def derive_key(
    passphrase: str, *, store_id: str, manager_id: str, n: int | None = None
) -> Ed25519PrivateKey:
    """The manager's signing key: the same passphrase gives the same key on every till."""
    cost = KDF_N if n is None else n
    salt = b"\0".join((_SALT, store_id.encode(), manager_id.encode()))
    secret = unicodedata.normalize("NFC", passphrase).encode()
    seed = keys.scrypt(secret, salt, n=cost, r=KDF_R, p=KDF_P, max_mib=256)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    return keys.b64url_encode(keys.public_raw(key))


def token_digest(token: str) -> str:
    """The sale approval names the customer's code by hash, not by the code itself."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Signed:
    """A statement a manager signs: its fields as compact JSON with sorted keys, plus a
    ``kind`` (``KIND``) so a signature for one purpose never verifies for another."""

    KIND: ClassVar[str]

    def message(self) -> bytes:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return _canonical({"kind": self.KIND, **values})


@dataclass(frozen=True, slots=True, kw_only=True)
class _OnSale(_Signed):
    """What an approval at the till and a void both bind: who, why, which sale of which
    store, this amount, and when."""

    manager_id: str
    reason: str
    sale_id: str
    store_id: str
    total: int
    currency: str
    approved_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleApproval(_OnSale):
    """What a manager approves at the till: this sale, this code, this amount, now."""

    KIND = KIND_SALE
    terminal_id: str
    token_sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Void(_OnSale):
    """A manager's void of one approved sale: the refund of this amount to its wallet."""

    KIND = KIND_VOID


@dataclass(frozen=True, slots=True)
class ReviewDecision(_Signed):
    """A manager's review decision on one sale."""

    KIND = KIND_DECISION
    reviewer_id: str
    sale_id: str
    store_id: str
    decision: str
    note: str
    decided_at: int


Proof = SaleApproval | ReviewDecision | Void


def sign(key: Ed25519PrivateKey, what: Proof) -> str:
    return keys.b64url_encode(key.sign(what.message()))


def verify(public_raw: bytes, what: Proof, signature: str) -> bool:
    try:
        keys.public_from_raw(public_raw).verify(keys.b64url_decode(signature), what.message())
    except (InvalidSignature, ValueError):
        return False
    return True


def _canonical(obj: dict[str, object]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

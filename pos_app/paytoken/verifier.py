"""Offline PT1 verification: steps 1-17 of PT1-TOKEN.md section 4, in order.

:meth:`Verifier.verify` never raises for any input and never reads the clock:
``now`` is an argument. The first failing step is the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature

from pos_app.core.reasons import ReasonCode
from pos_app.paytoken import base45, cose, dcbor
from pos_app.paytoken.claims import MAX_LIFETIME, Claims, currency_numeric, decode_claims
from pos_app.paytoken.errors import Base45Error, CborError
from pos_app.paytoken.trust_list import TrustedKey, TrustList

MAX_TEXT_LENGTH = 600
DEFAULT_SKEW = 30


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of steps 1-17.

    ``claims`` and ``key`` are set once the signature verified and the claims
    parsed (step 9), also when a later step fails, so logs and the UI can say
    which wallet's token expired; only ``ok`` means authentic.
    """

    ok: bool
    reason: str | None
    claims: Claims | None = None
    key: TrustedKey | None = None


@dataclass(frozen=True, slots=True)
class _Authentic:
    """What steps 1-8 yield: the verified payload and every key that verified."""

    payload: bytes
    keys: tuple[TrustedKey, ...]


class Verifier:
    """Verifies PT1 text against one trust list, audience and currency."""

    def __init__(
        self,
        trust_list: TrustList,
        *,
        audience: str,
        currency: str | int,
        skew: int = DEFAULT_SKEW,
    ) -> None:
        self.trust_list = trust_list
        self.audience = audience
        self.currency = currency_numeric(currency)
        self.skew = skew

    def verify(self, text: str, *, now: int) -> VerifyResult:
        """Run steps 1-17 on QR text; see the module docstring."""
        signed = self._authenticate(text)
        if isinstance(signed, str):
            return VerifyResult(ok=False, reason=signed)
        claims = decode_claims(signed.payload)
        if claims is None:
            return VerifyResult(ok=False, reason=ReasonCode.BAD_CLAIMS)  # step 9
        reason = self._check_claims(claims, now=now) or _check_keys(signed.keys, claims, now=now)
        key = signed.keys[0]
        return VerifyResult(ok=reason is None, reason=reason, claims=claims, key=key)

    def _authenticate(self, text: object) -> _Authentic | str:
        """Steps 1-8: the signed payload, or the reason code of the first failure."""
        raw = _unwrap(text)
        if isinstance(raw, str):
            return raw
        framed = _frame(raw)
        if isinstance(framed, str):
            return framed
        parts, kid = framed
        candidates = self.trust_list.keys_for(kid)
        if not candidates:
            return ReasonCode.UNKNOWN_KID  # step 7
        verified = _verifying_keys(candidates, parts)
        if not verified:
            return ReasonCode.BAD_SIGNATURE  # step 8
        return _Authentic(payload=parts.payload, keys=verified)

    def _check_claims(self, claims: Claims, *, now: int) -> str | None:
        """Steps 10-14."""
        if claims.aud != self.audience:
            return ReasonCode.WRONG_AUDIENCE
        if claims.currency != self.currency:
            return ReasonCode.WRONG_CURRENCY
        if not 0 < claims.exp - claims.iat <= MAX_LIFETIME:
            return ReasonCode.LIFETIME_TOO_LONG
        if claims.iat > now + self.skew:
            return ReasonCode.NOT_YET_VALID
        if now > claims.exp + self.skew:
            return ReasonCode.EXPIRED
        return None


def _unwrap(text: object) -> bytes | str:
    """Steps 1-3: the base45-decoded bytes, or a reason code."""
    if not isinstance(text, str):
        return ReasonCode.BAD_PREFIX  # not text at all: there is no PT1 prefix to find
    if len(text) > MAX_TEXT_LENGTH:
        return ReasonCode.TOO_LONG  # step 1, before any decoding work
    if not text.startswith(cose.PREFIX):
        return ReasonCode.BAD_PREFIX  # step 2
    try:
        return base45.decode(text[len(cose.PREFIX) :])  # step 3
    except Base45Error:
        return ReasonCode.BAD_BASE45


def _frame(raw: bytes) -> tuple[cose.Sign1Parts, bytes] | str:
    """Steps 4-6: the COSE_Sign1 parts and kid, or a reason code."""
    try:
        item: Any = dcbor.loads(raw)
    except CborError:
        return ReasonCode.BAD_CBOR  # step 4: not well-formed
    parts = cose.split_sign1(item)
    if parts is not None and cose.unprotected_is_empty(item):
        # The usual shape has exactly one deterministic encoding; rebuilding it
        # is the step 4 re-encode check without the generic encoder.
        canonical = cose.sign1_tagged(parts) == raw
    else:
        canonical = _encodes_to(item, raw)
    if not canonical:
        return ReasonCode.BAD_CBOR  # step 4: trailing bytes or not deterministic
    if parts is None:
        return ReasonCode.NOT_SIGN1  # step 5
    kid = cose.kid_from_protected(parts.protected)
    if kid is None or not cose.unprotected_is_empty(item):
        return ReasonCode.BAD_HEADER  # step 6
    return parts, kid


def _encodes_to(item: Any, raw: bytes) -> bool:
    try:
        return dcbor.encode(item) == raw
    except CborError:
        return False


def _verifying_keys(
    candidates: tuple[TrustedKey, ...], parts: cose.Sign1Parts
) -> tuple[TrustedKey, ...]:
    """Step 8: every candidate whose key verifies (kids may collide: try them all)."""
    if not cose.signature_s_is_canonical(parts.signature):
        return ()  # S >= L: the malleated twin of some signature; never accept it
    message = cose.sig_structure(parts.protected, parts.payload)
    verified: list[TrustedKey] = []
    outcome: dict[bytes, bool] = {}  # one list may name the same key twice
    for key in candidates:
        if key.public_raw not in outcome:
            try:
                key.public_key.verify(parts.signature, message)
                outcome[key.public_raw] = True
            except InvalidSignature:
                outcome[key.public_raw] = False
        if outcome[key.public_raw]:
            verified.append(key)
    return tuple(verified)


def _check_keys(keys: tuple[TrustedKey, ...], claims: Claims, *, now: int) -> str | None:
    """Steps 15-17, step by step over every verifying entry.

    Normally one entry verifies. If a list names the same key twice with
    different status or windows, the token must pass under every entry
    (fail closed rather than pick the friendliest one).
    """
    if any(key.status == "revoked" for key in keys):
        return ReasonCode.KEY_REVOKED
    if not all(key.issue_not_before <= claims.iat <= key.issue_not_after for key in keys):
        return ReasonCode.KEY_NOT_VALID_FOR_IAT
    if not all(now <= key.verify_until for key in keys):
        return ReasonCode.KEY_EXPIRED
    return None

"""Minting PT1 tokens (used by the reference backend and the demo wallet).

The issuer refuses to produce anything a PT1 verifier would reject for its
shape: claims are checked against section 2, the lifetime against step 12,
and the COSE bytes against the 204-byte QR budget.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.paytoken import base45, cose
from pos_app.paytoken.claims import (
    CTI_LENGTH,
    MAX_LIFETIME,
    Claims,
    currency_numeric,
    encode_claims,
)
from pos_app.paytoken.errors import TokenEncodeError
from pos_app.paytoken.keys import kid_of

# Section 2: issuers keep tokens at or under 204 bytes (QR version 10 at level M).
MAX_TOKEN_BYTES = 204
DEFAULT_TTL = 120


class Issuer:
    """Signs claims into PT1 text with one issuer key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.kid: bytes = kid_of(private_key)
        self._protected = cose.protected_header(self.kid)

    def mint(self, claims: Claims) -> str:
        """Return ``"PT1:" + base45(COSE_Sign1_Tagged)`` for these claims."""
        return cose.PREFIX + base45.encode(self.mint_bytes(claims))

    def mint_bytes(self, claims: Claims) -> bytes:
        """The tagged COSE_Sign1 bytes (before base45)."""
        problems = claims.problems()
        lifetime = claims.exp - claims.iat if not problems else 0
        if not problems and not 0 < lifetime <= MAX_LIFETIME:
            problems.append(f"exp - iat must be in 1..{MAX_LIFETIME} seconds")
        if problems:
            raise TokenEncodeError("cannot mint: " + "; ".join(problems))
        payload = encode_claims(claims)
        signature = self._key.sign(cose.sig_structure(self._protected, payload))
        token = cose.sign1_tagged(
            cose.Sign1Parts(protected=self._protected, payload=payload, signature=signature)
        )
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenEncodeError(
                f"token would be {len(token)} bytes, over the {MAX_TOKEN_BYTES}-byte QR budget;"
                " shorten sub or aud"
            )
        return token


def new_cti() -> bytes:
    """A fresh random 16-byte token id."""
    return secrets.token_bytes(CTI_LENGTH)


def mint_token(
    key: Ed25519PrivateKey,
    *,
    sub: str,
    aud: str,
    limit: int,
    currency: str | int,
    device: bytes,
    flags: int,
    iat: int,
    ttl: int = DEFAULT_TTL,
    cti: bytes | None = None,
) -> str:
    """Convenience: mint one token; ``currency`` may be ``"JPY"`` or ``392``."""
    try:
        numeric = currency_numeric(currency)
    except ValueError as exc:
        raise TokenEncodeError(str(exc)) from None
    claims = Claims(
        sub=sub,
        aud=aud,
        exp=iat + ttl,
        iat=iat,
        cti=new_cti() if cti is None else cti,
        limit=limit,
        currency=numeric,
        device=device,
        flags=flags,
    )
    return Issuer(key).mint(claims)

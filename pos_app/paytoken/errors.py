"""Exceptions of the PT1 package, all under :class:`pos_app.core.errors.TokenError`.

The verifier never raises for a bad token (it returns a reason code); these are
for programming errors on the issuing side, bad key files, invalid trust lists
and an unusable seen-token store.
"""

from __future__ import annotations

from pos_app.core.errors import TokenError


class TokenEncodeError(TokenError):
    """The issuer was asked to mint a token that would break PT1 section 2."""

    code = "token_encode_error"


class CborError(TokenError):
    """Bytes are not deterministic CBOR of the subset PT1 uses (internal)."""

    code = "bad_cbor"


class Base45Error(TokenError):
    """Text is not strict base45 (RFC 9285)."""

    code = "bad_base45"


class KeyFileError(TokenError):
    """A key file is missing, unreadable or not an Ed25519 key of the expected kind."""

    code = "key_file_invalid"


class TrustListInvalid(TokenError):
    """The trust-list envelope or payload is malformed or its root signature fails."""

    code = "trust_list_invalid"


class SeenStoreError(TokenError):
    """The seen-token database could not be opened or written."""

    code = "seen_store_error"


class AcceptanceUsageError(TokenError):
    """Acceptance was called with arguments that cannot describe a sale."""

    code = "acceptance_usage_error"

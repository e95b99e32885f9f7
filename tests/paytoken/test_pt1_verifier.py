"""Steps 1-8 by single-fault tokens (steps 9-17: test_pt1_verifier_claims.py)."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.reasons import ReasonCode
from pos_app.paytoken import dcbor
from pos_app.paytoken.issuer import Issuer
from pos_app.paytoken.keys import kid_of
from pos_app.paytoken.verifier import Verifier, VerifyResult
from tests.paytoken.pt1_forge import (
    NOW,
    claims_map,
    cose_bytes,
    good_claims,
    text_of,
    token,
)


def check(verifier: Verifier, text: str, *, now: int = NOW) -> VerifyResult:
    return verifier.verify(text, now=now)


def test_valid_token_verifies_with_claims_and_key(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    result = check(verifier, Issuer(issuer_key).mint(good_claims()))
    assert result == VerifyResult(
        ok=True, reason=None, claims=good_claims(), key=verifier.trust_list.keys[0]
    )
    assert result.key is not None and result.key.kid == kid_of(issuer_key)


# --- steps 1-3 ---------------------------------------------------------------------------


def test_too_long_is_checked_before_anything_else(verifier: Verifier) -> None:
    assert check(verifier, "x" * 601).reason == ReasonCode.TOO_LONG
    assert check(verifier, "PT1:" + "0" * 597).reason == ReasonCode.TOO_LONG


def test_exactly_600_characters_passes_step_1(verifier: Verifier) -> None:
    text = "PT1:" + "0" * 596  # 596 % 3 == 2: valid base45, garbage CBOR
    assert len(text) == 600
    assert check(verifier, text).reason == ReasonCode.BAD_CBOR


@pytest.mark.parametrize("prefix", ["pt1:", "PT2:", " PT1:", "PT1", "PT1;", "HC1:"])
def test_bad_prefix(verifier: Verifier, issuer_key: Ed25519PrivateKey, prefix: str) -> None:
    good = token(issuer_key)
    assert check(verifier, prefix + good[4:]).reason == ReasonCode.BAD_PREFIX


def test_empty_text_is_bad_prefix_and_bare_prefix_is_bad_cbor(verifier: Verifier) -> None:
    assert check(verifier, "").reason == ReasonCode.BAD_PREFIX
    assert check(verifier, "PT1:").reason == ReasonCode.BAD_CBOR


@pytest.mark.parametrize(
    "mutate",
    [
        lambda body: body[:-3] + body[-3:].lower() + "a",  # outside the alphabet
        lambda body: body + "0" * ((1 - len(body)) % 3),  # length mod 3 == 1
        lambda body: "GGW" + body[3:],  # group value 65535 < 6 + 16*45 + 32*2025
        lambda body: body[:5] + "\u00e9" + body[6:],  # non-ASCII
        lambda body: body[:-2] + "::" if len(body) % 3 == 2 else body[:-3] + ":::",
    ],
)
def test_bad_base45(verifier: Verifier, issuer_key: Ed25519PrivateKey, mutate: object) -> None:
    body = token(issuer_key)[4:]
    text = "PT1:" + mutate(body)  # type: ignore[operator]
    assert check(verifier, text).reason == ReasonCode.BAD_BASE45


def test_base45_trailing_pair_out_of_range(verifier: Verifier) -> None:
    assert check(verifier, "PT1::7").reason == ReasonCode.BAD_BASE45  # 44 + 7*45 = 359 > 255


# --- step 4 ------------------------------------------------------------------------------


def _outer(issuer_key: Ed25519PrivateKey) -> bytes:
    return cose_bytes(issuer_key)


def test_trailing_bytes_are_bad_cbor(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    assert check(verifier, text_of(_outer(issuer_key) + b"\x00")).reason == ReasonCode.BAD_CBOR


def test_non_minimal_length_is_bad_cbor(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    raw = _outer(issuer_key)
    assert raw[2] == 0x4D  # protected bstr, length 13 in the initial byte
    longer = raw[:2] + b"\x58\x0d" + raw[3:]  # same length, one-byte length argument
    assert check(verifier, text_of(longer)).reason == ReasonCode.BAD_CBOR


def test_indefinite_array_is_bad_cbor(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    raw = _outer(issuer_key)
    assert raw[1] == 0x84
    indefinite = raw[:1] + b"\x9f" + raw[2:] + b"\xff"
    assert check(verifier, text_of(indefinite)).reason == ReasonCode.BAD_CBOR


def test_duplicate_and_unsorted_keys_in_outer_map_are_bad_cbor(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    raw = _outer(issuer_key)
    at = 16  # the empty unprotected map after the 3-byte prefix and 13-byte protected
    assert raw[at] == 0xA0
    duplicate = raw[:at] + b"\xa2\x04\x40\x04\x40" + raw[at + 1 :]
    unsorted = raw[:at] + b"\xa2\x04\x40\x01\x40" + raw[at + 1 :]
    assert check(verifier, text_of(duplicate)).reason == ReasonCode.BAD_CBOR
    assert check(verifier, text_of(unsorted)).reason == ReasonCode.BAD_CBOR


def test_float_and_bignum_are_bad_cbor(verifier: Verifier) -> None:
    assert check(verifier, text_of(cbor2.dumps(1.5))).reason == ReasonCode.BAD_CBOR
    assert (
        check(verifier, text_of(bytes.fromhex("c249010000000000000000"))).reason
        == ReasonCode.BAD_CBOR
    )


# --- step 5 ------------------------------------------------------------------------------


def test_unsigned_claims_map_is_not_sign1(verifier: Verifier) -> None:
    assert check(verifier, text_of(dcbor.encode(claims_map()))).reason == ReasonCode.NOT_SIGN1


@pytest.mark.parametrize("tag", [17, 97, 98, 16, 61])
def test_other_cose_types_are_not_sign1(
    verifier: Verifier, issuer_key: Ed25519PrivateKey, tag: int
) -> None:
    assert check(verifier, token(issuer_key, tag=tag)).reason == ReasonCode.NOT_SIGN1


def test_untagged_sign1_is_not_sign1(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    untagged = _outer(issuer_key)[1:]  # drop 0xd2
    assert check(verifier, text_of(untagged)).reason == ReasonCode.NOT_SIGN1


@pytest.mark.parametrize(
    "members",
    [
        lambda p, u, c, s: [p, u, c],
        lambda p, u, c, s: [p, u, c, s, b""],
        lambda p, u, c, s: [p, u, c, s[:63]],
        lambda p, u, c, s: [p, u, c, s + b"\x00"],
        lambda p, u, c, s: [p, u, None, s],  # detached payload
        lambda p, u, c, s: [p, [], c, s],
        lambda p, u, c, s: [{1: -19}, u, c, s],
        lambda p, u, c, s: [p, u, c.decode("latin-1"), s],
    ],
)
def test_malformed_sign1_is_not_sign1(
    verifier: Verifier, issuer_key: Ed25519PrivateKey, members: object
) -> None:
    item = dcbor.decode_deterministic(_outer(issuer_key))
    p, u, c, s = item.value
    raw = dcbor.encode(cbor2.CBORTag(18, members(p, dict(u), c, s)))  # type: ignore[operator]
    assert check(verifier, text_of(raw)).reason == ReasonCode.NOT_SIGN1


# --- step 6 ------------------------------------------------------------------------------


def _with_protected(key: Ed25519PrivateKey, header: object, **kwargs: object) -> str:
    return token(key, protected=dcbor.encode(header), **kwargs)


@pytest.mark.parametrize(
    "header",
    [
        {1: -8, 4: "KID"},  # EdDSA (polymorphic) instead of Ed25519
        {1: -7, 4: "KID"},  # ES256
        {1: 0, 4: "KID"},
        {1: "Ed25519", 4: "KID"},
        {4: "KID"},  # no alg
        {1: -19},  # no kid
        {1: -19, 4: "SHORT"},  # 7-byte kid
        {1: -19, 4: "KID", 3: 0},  # extra parameter
        {1: -19, 4: "TEXT"},  # kid as text
        {1: -19, 4: "KID", -1: 0},
    ],
)
def test_bad_protected_header(
    verifier: Verifier, issuer_key: Ed25519PrivateKey, header: dict[int, object]
) -> None:
    kid = kid_of(issuer_key)
    values = {"KID": kid, "SHORT": kid[:7], "TEXT": kid.hex()}
    fixed = {k: values.get(v, v) if isinstance(v, str) else v for k, v in header.items()}
    assert check(verifier, _with_protected(issuer_key, fixed)).reason == ReasonCode.BAD_HEADER


def test_alg_in_unprotected_header_is_bad_header(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    kid = kid_of(issuer_key)
    only_kid = _with_protected(issuer_key, {4: kid}, unprotected={1: -19})
    assert check(verifier, only_kid).reason == ReasonCode.BAD_HEADER
    extra = token(issuer_key, unprotected={1: -19})
    assert check(verifier, extra).reason == ReasonCode.BAD_HEADER
    kid_outside = token(issuer_key, unprotected={4: kid})
    assert check(verifier, kid_outside).reason == ReasonCode.BAD_HEADER


def test_non_canonical_protected_bytes_are_bad_header(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    kid = kid_of(issuer_key)
    reversed_order = b"\xa2\x04\x48" + kid + b"\x01\x32"
    long_int = b"\xa2\x01\x38\x12\x04\x48" + kid  # -19 with a one-byte argument
    bool_key = b"\xa2\xf5\x32\x04\x48" + kid  # key true instead of 1
    for protected in (reversed_order, long_int, bool_key, b"", b"\xa0", b"\xa1\x01\x32"):
        assert (
            check(verifier, token(issuer_key, protected=protected)).reason == ReasonCode.BAD_HEADER
        )


# --- steps 7-8 ---------------------------------------------------------------------------


def test_unknown_kid(verifier: Verifier) -> None:
    stranger = Ed25519PrivateKey.generate()
    assert check(verifier, Issuer(stranger).mint(good_claims())).reason == ReasonCode.UNKNOWN_KID


def test_attacker_key_reusing_a_trusted_kid_is_bad_signature(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    attacker = Ed25519PrivateKey.generate()
    forged = token(attacker, kid=kid_of(issuer_key))
    assert check(verifier, forged).reason == ReasonCode.BAD_SIGNATURE


def test_flipped_signature_bit_is_bad_signature(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    raw = bytearray(_outer(issuer_key))
    raw[-1] ^= 0x01
    assert check(verifier, text_of(bytes(raw))).reason == ReasonCode.BAD_SIGNATURE


def test_edited_claims_are_bad_signature(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    item = dcbor.decode_deterministic(_outer(issuer_key))
    protected, _, _, signature = item.value
    edited = dcbor.encode(claims_map(limit=9_999_999))
    raw = dcbor.encode(cbor2.CBORTag(18, [protected, {}, edited, signature]))
    assert check(verifier, text_of(raw)).reason == ReasonCode.BAD_SIGNATURE


def test_signature_without_or_with_other_external_aad_is_bad_signature(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    for aad in (b"", b"pos-pay-token/v2", b"pos-trust-list/v1\x00"):
        assert check(verifier, token(issuer_key, aad=aad)).reason == ReasonCode.BAD_SIGNATURE

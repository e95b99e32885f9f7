"""Every reason code of steps 1-17 reached by a single-fault token, and the order."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pt1_forge import (
    NOW,
    claims_map,
    cose_bytes,
    entry,
    good_claims,
    make_trust_list,
    text_of,
    token,
    token_with_claims,
)

from pos_app.paytoken import base45, cose, dcbor
from pos_app.paytoken import reasons as r
from pos_app.paytoken.issuer import Issuer
from pos_app.paytoken.keys import kid_of
from pos_app.paytoken.trust_list import TrustList
from pos_app.paytoken.verifier import Verifier, VerifyResult


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
    assert check(verifier, "x" * 601).reason == r.TOO_LONG
    assert check(verifier, "PT1:" + "0" * 597).reason == r.TOO_LONG


def test_exactly_600_characters_passes_step_1(verifier: Verifier) -> None:
    text = "PT1:" + "0" * 596  # 596 % 3 == 2: valid base45, garbage CBOR
    assert len(text) == 600
    assert check(verifier, text).reason == r.BAD_CBOR


@pytest.mark.parametrize("prefix", ["pt1:", "PT2:", " PT1:", "PT1", "PT1;", "HC1:"])
def test_bad_prefix(verifier: Verifier, issuer_key: Ed25519PrivateKey, prefix: str) -> None:
    good = token(issuer_key)
    assert check(verifier, prefix + good[4:]).reason == r.BAD_PREFIX


def test_empty_text_is_bad_prefix_and_bare_prefix_is_bad_cbor(verifier: Verifier) -> None:
    assert check(verifier, "").reason == r.BAD_PREFIX
    assert check(verifier, "PT1:").reason == r.BAD_CBOR


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
    assert check(verifier, text).reason == r.BAD_BASE45


def test_base45_trailing_pair_out_of_range(verifier: Verifier) -> None:
    assert check(verifier, "PT1::7").reason == r.BAD_BASE45  # 44 + 7*45 = 359 > 255


# --- step 4 ------------------------------------------------------------------------------


def _outer(issuer_key: Ed25519PrivateKey) -> bytes:
    return cose_bytes(issuer_key)


def test_trailing_bytes_are_bad_cbor(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    assert check(verifier, text_of(_outer(issuer_key) + b"\x00")).reason == r.BAD_CBOR


def test_non_minimal_length_is_bad_cbor(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    raw = _outer(issuer_key)
    assert raw[2] == 0x4D  # protected bstr, length 13 in the initial byte
    longer = raw[:2] + b"\x58\x0d" + raw[3:]  # same length, one-byte length argument
    assert check(verifier, text_of(longer)).reason == r.BAD_CBOR


def test_indefinite_array_is_bad_cbor(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    raw = _outer(issuer_key)
    assert raw[1] == 0x84
    indefinite = raw[:1] + b"\x9f" + raw[2:] + b"\xff"
    assert check(verifier, text_of(indefinite)).reason == r.BAD_CBOR


def test_duplicate_and_unsorted_keys_in_outer_map_are_bad_cbor(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    raw = _outer(issuer_key)
    at = 16  # the empty unprotected map after the 3-byte prefix and 13-byte protected
    assert raw[at] == 0xA0
    duplicate = raw[:at] + b"\xa2\x04\x40\x04\x40" + raw[at + 1 :]
    unsorted = raw[:at] + b"\xa2\x04\x40\x01\x40" + raw[at + 1 :]
    assert check(verifier, text_of(duplicate)).reason == r.BAD_CBOR
    assert check(verifier, text_of(unsorted)).reason == r.BAD_CBOR


def test_float_and_bignum_are_bad_cbor(verifier: Verifier) -> None:
    assert check(verifier, text_of(cbor2.dumps(1.5))).reason == r.BAD_CBOR
    assert check(verifier, text_of(bytes.fromhex("c249010000000000000000"))).reason == r.BAD_CBOR


# --- step 5 ------------------------------------------------------------------------------


def test_unsigned_claims_map_is_not_sign1(verifier: Verifier) -> None:
    assert check(verifier, text_of(dcbor.encode(claims_map()))).reason == r.NOT_SIGN1


@pytest.mark.parametrize("tag", [17, 97, 98, 16, 61])
def test_other_cose_types_are_not_sign1(
    verifier: Verifier, issuer_key: Ed25519PrivateKey, tag: int
) -> None:
    assert check(verifier, token(issuer_key, tag=tag)).reason == r.NOT_SIGN1


def test_untagged_sign1_is_not_sign1(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    untagged = _outer(issuer_key)[1:]  # drop 0xd2
    assert check(verifier, text_of(untagged)).reason == r.NOT_SIGN1


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
    assert check(verifier, text_of(raw)).reason == r.NOT_SIGN1


# --- step 6 ------------------------------------------------------------------------------


def _with_protected(key: Ed25519PrivateKey, header: object, **kwargs: object) -> str:
    return token(key, protected=dcbor.encode(header), **kwargs)  # type: ignore[arg-type]


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
    assert check(verifier, _with_protected(issuer_key, fixed)).reason == r.BAD_HEADER


def test_alg_in_unprotected_header_is_bad_header(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    kid = kid_of(issuer_key)
    only_kid = _with_protected(issuer_key, {4: kid}, unprotected={1: -19})
    assert check(verifier, only_kid).reason == r.BAD_HEADER
    extra = token(issuer_key, unprotected={1: -19})
    assert check(verifier, extra).reason == r.BAD_HEADER
    kid_outside = token(issuer_key, unprotected={4: kid})
    assert check(verifier, kid_outside).reason == r.BAD_HEADER


def test_non_canonical_protected_bytes_are_bad_header(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    kid = kid_of(issuer_key)
    reversed_order = b"\xa2\x04\x48" + kid + b"\x01\x32"
    long_int = b"\xa2\x01\x38\x12\x04\x48" + kid  # -19 with a one-byte argument
    bool_key = b"\xa2\xf5\x32\x04\x48" + kid  # key true instead of 1
    for protected in (reversed_order, long_int, bool_key, b"", b"\xa0", b"\xa1\x01\x32"):
        assert check(verifier, token(issuer_key, protected=protected)).reason == r.BAD_HEADER


# --- steps 7-8 ---------------------------------------------------------------------------


def test_unknown_kid(verifier: Verifier) -> None:
    stranger = Ed25519PrivateKey.generate()
    assert check(verifier, Issuer(stranger).mint(good_claims())).reason == r.UNKNOWN_KID


def test_attacker_key_reusing_a_trusted_kid_is_bad_signature(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    attacker = Ed25519PrivateKey.generate()
    forged = token(attacker, kid=kid_of(issuer_key))
    assert check(verifier, forged).reason == r.BAD_SIGNATURE


def test_flipped_signature_bit_is_bad_signature(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    raw = bytearray(_outer(issuer_key))
    raw[-1] ^= 0x01
    assert check(verifier, text_of(bytes(raw))).reason == r.BAD_SIGNATURE


def test_edited_claims_are_bad_signature(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    item = dcbor.decode_deterministic(_outer(issuer_key))
    protected, _, _, signature = item.value
    edited = dcbor.encode(claims_map(limit=9_999_999))
    raw = dcbor.encode(cbor2.CBORTag(18, [protected, {}, edited, signature]))
    assert check(verifier, text_of(raw)).reason == r.BAD_SIGNATURE


def test_signature_without_or_with_other_external_aad_is_bad_signature(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    for aad in (b"", b"pos-pay-token/v2", b"pos-trust-list/v1\x00"):
        assert check(verifier, token(issuer_key, aad=aad)).reason == r.BAD_SIGNATURE


# --- step 9 ------------------------------------------------------------------------------

BAD_CLAIM_CHANGES = [
    {"sub": ""},
    {"sub": "x" * 65},
    {"sub": b"wallet"},
    {"aud": "x" * 33},
    {"exp": -1},
    {"exp": True},
    {"iat": 1.5},
    {"cti": bytes(15)},
    {"cti": bytes(17)},
    {"cti": "0" * 16},
    {"limit": -1},
    {"limit": False},
    {"currency": "JPY"},
    {"device": bytes(9)},
    {"flags": None},
]


@pytest.mark.parametrize("changes", BAD_CLAIM_CHANGES)
def test_bad_claim_types(
    verifier: Verifier, issuer_key: Ed25519PrivateKey, changes: dict[str, object]
) -> None:
    # cbor2 is used because dcbor refuses floats; floats must still be bad_claims here.
    payload = cbor2.dumps(claims_map(**changes))
    assert check(verifier, token(issuer_key, payload=payload)).reason == r.BAD_CLAIMS


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.pop(2),
        lambda m: m.pop(-65537),
        lambda m: m.update({8: 0}),
        lambda m: m.update({-65538: 0}),
        lambda m: m.__setitem__(-65537, m[-65537][:3]),
        lambda m: m.__setitem__(-65537, [*m[-65537], 0]),
        lambda m: m.__setitem__(-65537, {0: 1}),
    ],
)
def test_wrong_claim_keys(verifier: Verifier, issuer_key: Ed25519PrivateKey, edit: object) -> None:
    claims = claims_map()
    edit(claims)  # type: ignore[operator]
    payload = dcbor.encode(claims)
    assert check(verifier, token(issuer_key, payload=payload)).reason == r.BAD_CLAIMS


def test_non_canonical_claims_are_bad_claims(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    canonical = dcbor.encode(claims_map())
    length_first = cbor2.dumps(claims_map(), canonical=True)
    assert length_first == canonical  # these keys sort the same both ways...
    unsorted = cbor2.dumps(dict(reversed(list(claims_map().items()))))
    assert unsorted != canonical
    duplicate = b"\xa7" + canonical[1:] + b"\x02\x61x"  # sub twice
    bignum_exp = canonical.replace(
        b"\x04\x1a" + (NOW + 120).to_bytes(4, "big"),
        b"\x04\xc2\x44" + (NOW + 120).to_bytes(4, "big"),
    )
    for payload in (unsorted, duplicate, bignum_exp, canonical + b"\x00", b"", b"\xa0"):
        assert check(verifier, token(issuer_key, payload=payload)).reason == r.BAD_CLAIMS


def test_bool_claim_key_is_bad_claims(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    canonical = dcbor.encode(claims_map())
    # Replace key 7 (cti) by key true: decoded Python dicts would treat True == 1.
    claims = claims_map()
    claims[True] = claims.pop(7)
    payload = dcbor.encode(claims)
    assert payload != canonical
    assert check(verifier, token(issuer_key, payload=payload)).reason == r.BAD_CLAIMS


# --- steps 10-17 -------------------------------------------------------------------------


def test_wrong_audience_and_currency(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    assert check(verifier, token_with_claims(issuer_key, aud="pos.us")).reason == r.WRONG_AUDIENCE
    assert check(verifier, token_with_claims(issuer_key, currency=840)).reason == r.WRONG_CURRENCY


@pytest.mark.parametrize(("lifetime", "ok"), [(300, True), (301, False), (0, False), (-5, False)])
def test_lifetime(
    verifier: Verifier, issuer_key: Ed25519PrivateKey, lifetime: int, ok: bool
) -> None:
    text = token_with_claims(issuer_key, exp=NOW + lifetime)
    assert check(verifier, text).reason == (None if ok else r.LIFETIME_TOO_LONG)


def test_skew_edges_for_iat(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    text = token_with_claims(issuer_key, iat=NOW + 30, exp=NOW + 150)
    assert check(verifier, text).ok
    early = token_with_claims(issuer_key, iat=NOW + 31, exp=NOW + 151)
    assert check(verifier, early).reason == r.NOT_YET_VALID
    assert check(verifier, early, now=NOW + 1).ok


def test_skew_edges_for_exp(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    text = token_with_claims(issuer_key)  # exp = NOW + 120
    assert check(verifier, text, now=NOW + 150).ok
    assert check(verifier, text, now=NOW + 151).reason == r.EXPIRED


def _verifier_with(
    root: Ed25519PrivateKey, issuer: Ed25519PrivateKey, **changes: object
) -> Verifier:
    listed = make_trust_list(root, [entry(issuer, **changes)])
    return Verifier(listed, audience="pos.jp", currency=392)


def test_key_revoked(root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey) -> None:
    verifier = _verifier_with(root_key, issuer_key, status="revoked")
    assert check(verifier, token(issuer_key)).reason == r.KEY_REVOKED


def test_retired_key_verifies_old_tokens_but_not_new_ones(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    verifier = _verifier_with(root_key, issuer_key, status="retired", issue_not_after=NOW)
    assert check(verifier, token(issuer_key)).ok
    late = token_with_claims(issuer_key, iat=NOW + 1, exp=NOW + 100)
    assert check(verifier, late).reason == r.KEY_NOT_VALID_FOR_IAT


def test_key_not_valid_for_iat_edges(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    verifier = _verifier_with(root_key, issuer_key, issue_not_before=NOW, issue_not_after=NOW + 10)
    assert check(verifier, token_with_claims(issuer_key, iat=NOW)).ok
    assert check(verifier, token_with_claims(issuer_key, iat=NOW + 10, exp=NOW + 20)).ok
    before = token_with_claims(issuer_key, iat=NOW - 1)
    assert check(verifier, before).reason == r.KEY_NOT_VALID_FOR_IAT


def test_key_expired(root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey) -> None:
    verifier = _verifier_with(root_key, issuer_key, verify_until=NOW + 60)
    assert check(verifier, token(issuer_key), now=NOW + 60).ok
    assert check(verifier, token(issuer_key), now=NOW + 61).reason == r.KEY_EXPIRED


# --- order -------------------------------------------------------------------------------


def test_first_failing_step_wins(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey, verifier: Verifier
) -> None:
    revoked = _verifier_with(root_key, issuer_key, status="revoked", verify_until=NOW - 1)
    many = token_with_claims(issuer_key, aud="x", currency=1, exp=NOW + 400)
    assert check(revoked, many, now=NOW + 10_000).reason == r.WRONG_AUDIENCE
    expired_revoked = token_with_claims(issuer_key, iat=NOW - 1000, exp=NOW - 900)
    assert check(revoked, expired_revoked).reason == r.EXPIRED
    assert check(revoked, token(issuer_key)).reason == r.KEY_REVOKED
    stranger = Ed25519PrivateKey.generate()
    assert check(verifier, token(stranger, payload=b"\xa0")).reason == r.UNKNOWN_KID
    unsigned_garbage = token(issuer_key, payload=b"\xa0", aad=b"")
    assert check(verifier, unsigned_garbage).reason == r.BAD_SIGNATURE


def test_every_verify_reason_is_reachable_here() -> None:
    # Guards the list above against a new code nobody tests.
    assert set(r.VERIFY_REASONS) == {
        r.TOO_LONG, r.BAD_PREFIX, r.BAD_BASE45, r.BAD_CBOR, r.NOT_SIGN1, r.BAD_HEADER,
        r.UNKNOWN_KID, r.BAD_SIGNATURE, r.BAD_CLAIMS, r.WRONG_AUDIENCE, r.WRONG_CURRENCY,
        r.LIFETIME_TOO_LONG, r.NOT_YET_VALID, r.EXPIRED, r.KEY_REVOKED,
        r.KEY_NOT_VALID_FOR_IAT, r.KEY_EXPIRED,
    }  # fmt: skip
    assert len(r.VERIFY_REASONS) == 17


def test_verify_never_reads_the_clock(
    verifier: Verifier, issuer_key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    def boom() -> float:
        raise AssertionError("verifier read the clock")

    monkeypatch.setattr(time, "time", boom)
    monkeypatch.setattr(time, "monotonic", boom)
    assert check(verifier, token(issuer_key)).ok


def test_non_text_input_is_rejected_not_raised(verifier: Verifier) -> None:
    assert verifier.verify(b"PT1:..", now=NOW).reason == r.BAD_PREFIX  # type: ignore[arg-type]
    assert verifier.verify(None, now=NOW).reason == r.BAD_PREFIX  # type: ignore[arg-type]


def test_constants_match_spec() -> None:
    assert cose.EXTERNAL_AAD == b"pos-pay-token/v1"
    assert base45.decode("BB8") == b"AB"
    assert isinstance(TrustList, type)

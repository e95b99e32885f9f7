"""Steps 9-17 by single-fault tokens, and the order of the checks."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core import reasons
from pos_app.core.reasons import ReasonCode
from pos_app.paytoken import base45, cose, dcbor
from pos_app.paytoken.trust_list import TrustList
from pos_app.paytoken.verifier import Verifier, VerifyResult
from tests.paytoken.pt1_forge import (
    NOW,
    claims_map,
    entry,
    make_trust_list,
    token,
    token_with_claims,
)


def check(verifier: Verifier, text: str, *, now: int = NOW) -> VerifyResult:
    return verifier.verify(text, now=now)


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
    assert check(verifier, token(issuer_key, payload=payload)).reason == ReasonCode.BAD_CLAIMS


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
    assert check(verifier, token(issuer_key, payload=payload)).reason == ReasonCode.BAD_CLAIMS


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
        assert check(verifier, token(issuer_key, payload=payload)).reason == ReasonCode.BAD_CLAIMS


def test_bool_claim_key_is_bad_claims(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    canonical = dcbor.encode(claims_map())
    # Replace key 7 (cti) by key true: decoded Python dicts would treat True == 1.
    claims = claims_map()
    claims[True] = claims.pop(7)
    payload = dcbor.encode(claims)
    assert payload != canonical
    assert check(verifier, token(issuer_key, payload=payload)).reason == ReasonCode.BAD_CLAIMS


# --- steps 10-17 -------------------------------------------------------------------------


def test_wrong_audience_and_currency(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    assert (
        check(verifier, token_with_claims(issuer_key, aud="pos.us")).reason
        == ReasonCode.WRONG_AUDIENCE
    )
    assert (
        check(verifier, token_with_claims(issuer_key, currency=840)).reason
        == ReasonCode.WRONG_CURRENCY
    )


@pytest.mark.parametrize(("lifetime", "ok"), [(300, True), (301, False), (0, False), (-5, False)])
def test_lifetime(
    verifier: Verifier, issuer_key: Ed25519PrivateKey, lifetime: int, ok: bool
) -> None:
    text = token_with_claims(issuer_key, exp=NOW + lifetime)
    assert check(verifier, text).reason == (None if ok else ReasonCode.LIFETIME_TOO_LONG)


def test_skew_edges_for_iat(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    text = token_with_claims(issuer_key, iat=NOW + 30, exp=NOW + 150)
    assert check(verifier, text).ok
    early = token_with_claims(issuer_key, iat=NOW + 31, exp=NOW + 151)
    assert check(verifier, early).reason == ReasonCode.NOT_YET_VALID
    assert check(verifier, early, now=NOW + 1).ok


def test_skew_edges_for_exp(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    text = token_with_claims(issuer_key)  # exp = NOW + 120
    assert check(verifier, text, now=NOW + 150).ok
    assert check(verifier, text, now=NOW + 151).reason == ReasonCode.EXPIRED


def _verifier_with(
    root: Ed25519PrivateKey, issuer: Ed25519PrivateKey, **changes: object
) -> Verifier:
    listed = make_trust_list(root, [entry(issuer, **changes)])
    return Verifier(listed, audience="pos.jp", currency=392)


def test_key_revoked(root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey) -> None:
    verifier = _verifier_with(root_key, issuer_key, status="revoked")
    assert check(verifier, token(issuer_key)).reason == ReasonCode.KEY_REVOKED


def test_retired_key_verifies_old_tokens_but_not_new_ones(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    verifier = _verifier_with(root_key, issuer_key, status="retired", issue_not_after=NOW)
    assert check(verifier, token(issuer_key)).ok
    late = token_with_claims(issuer_key, iat=NOW + 1, exp=NOW + 100)
    assert check(verifier, late).reason == ReasonCode.KEY_NOT_VALID_FOR_IAT


def test_key_not_valid_for_iat_edges(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    verifier = _verifier_with(root_key, issuer_key, issue_not_before=NOW, issue_not_after=NOW + 10)
    assert check(verifier, token_with_claims(issuer_key, iat=NOW)).ok
    assert check(verifier, token_with_claims(issuer_key, iat=NOW + 10, exp=NOW + 20)).ok
    before = token_with_claims(issuer_key, iat=NOW - 1)
    assert check(verifier, before).reason == ReasonCode.KEY_NOT_VALID_FOR_IAT


def test_key_expired(root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey) -> None:
    verifier = _verifier_with(root_key, issuer_key, verify_until=NOW + 60)
    assert check(verifier, token(issuer_key), now=NOW + 60).ok
    assert check(verifier, token(issuer_key), now=NOW + 61).reason == ReasonCode.KEY_EXPIRED


# --- order -------------------------------------------------------------------------------


def test_first_failing_step_wins(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey, verifier: Verifier
) -> None:
    revoked = _verifier_with(root_key, issuer_key, status="revoked", verify_until=NOW - 1)
    many = token_with_claims(issuer_key, aud="x", currency=1, exp=NOW + 400)
    assert check(revoked, many, now=NOW + 10_000).reason == ReasonCode.WRONG_AUDIENCE
    expired_revoked = token_with_claims(issuer_key, iat=NOW - 1000, exp=NOW - 900)
    assert check(revoked, expired_revoked).reason == ReasonCode.EXPIRED
    assert check(revoked, token(issuer_key)).reason == ReasonCode.KEY_REVOKED
    stranger = Ed25519PrivateKey.generate()
    assert check(verifier, token(stranger, payload=b"\xa0")).reason == ReasonCode.UNKNOWN_KID
    unsigned_garbage = token(issuer_key, payload=b"\xa0", aad=b"")
    assert check(verifier, unsigned_garbage).reason == ReasonCode.BAD_SIGNATURE


def test_every_verify_reason_is_reachable_here() -> None:
    # Guards the list above against a new code nobody tests.
    assert set(reasons.VERIFY_REASONS) == {
        "too_long", "bad_prefix", "bad_base45", "bad_cbor", "not_sign1", "bad_header",
        "unknown_kid", "bad_signature", "bad_claims", "wrong_audience", "wrong_currency",
        "lifetime_too_long", "not_yet_valid", "expired", "key_revoked",
        "key_not_valid_for_iat", "key_expired",
    }  # fmt: skip
    assert len(reasons.VERIFY_REASONS) == 17


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
    assert verifier.verify(b"PT1:..", now=NOW).reason == ReasonCode.BAD_PREFIX  # type: ignore[arg-type]
    assert verifier.verify(None, now=NOW).reason == ReasonCode.BAD_PREFIX  # type: ignore[arg-type]


def test_constants_match_spec() -> None:
    assert cose.EXTERNAL_AAD == b"pos-pay-token/v1"
    assert base45.decode("BB8") == b"AB"
    assert isinstance(TrustList, type)

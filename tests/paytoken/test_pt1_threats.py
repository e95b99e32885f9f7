"""One test per threat of PT1-TOKEN.md section 5 (trust lists: test_pt1_trust_list.py)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.reasons import ReasonCode
from pos_app.paytoken import base45, cose, dcbor
from pos_app.paytoken.acceptance import accept
from pos_app.paytoken.issuer import Issuer
from pos_app.paytoken.keys import kid_of
from pos_app.paytoken.seen_store import SQLiteSeenStore
from pos_app.paytoken.trust_list import TrustList
from pos_app.paytoken.verifier import Verifier
from tests.paytoken.pt1_forge import (
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


def test_forged_or_edited_claims(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    genuine = dcbor.decode_deterministic(cose_bytes(issuer_key))
    protected, _, _, signature = genuine.value
    for changes in ({"limit": 10**9}, {"sub": "someone-else"}, {"exp": NOW + 300}):
        edited = dcbor.encode(claims_map(**changes))
        raw = dcbor.encode(cbor2.CBORTag(18, [protected, {}, edited, signature]))
        assert verifier.verify(text_of(raw), now=NOW).reason == ReasonCode.BAD_SIGNATURE


def test_unsigned_map_and_other_cose_types_no_alg_none(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    assert (
        verifier.verify(text_of(dcbor.encode(claims_map())), now=NOW).reason == ReasonCode.NOT_SIGN1
    )
    mac0 = token(issuer_key, tag=17)
    assert verifier.verify(mac0, now=NOW).reason == ReasonCode.NOT_SIGN1
    payload = dcbor.encode(claims_map())
    protected = cose.protected_header(kid_of(issuer_key))
    empty_signature = dcbor.encode(cbor2.CBORTag(18, [protected, {}, payload, b""]))
    assert verifier.verify(text_of(empty_signature), now=NOW).reason == ReasonCode.NOT_SIGN1
    zero_signature = dcbor.encode(cbor2.CBORTag(18, [protected, {}, payload, bytes(64)]))
    assert verifier.verify(text_of(zero_signature), now=NOW).reason == ReasonCode.BAD_SIGNATURE


def test_other_algorithm_or_alg_in_unprotected_header(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    kid = kid_of(issuer_key)
    eddsa = token(issuer_key, protected=dcbor.encode({1: -8, 4: kid}))
    assert verifier.verify(eddsa, now=NOW).reason == ReasonCode.BAD_HEADER
    moved = token(issuer_key, protected=dcbor.encode({4: kid}), unprotected={1: -19})
    assert verifier.verify(moved, now=NOW).reason == ReasonCode.BAD_HEADER
    empty_protected = token(issuer_key, protected=b"", unprotected={1: -19, 4: kid})
    assert verifier.verify(empty_protected, now=NOW).reason == ReasonCode.BAD_HEADER


def test_same_key_signing_for_another_purpose(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    assert verifier.verify(token(issuer_key, aad=b""), now=NOW).reason == ReasonCode.BAD_SIGNATURE
    # A signature over the bare payload (e.g. some other protocol) is not transferable.
    payload = dcbor.encode(claims_map())
    protected = cose.protected_header(kid_of(issuer_key))
    raw = dcbor.encode(cbor2.CBORTag(18, [protected, {}, payload, issuer_key.sign(payload)]))
    assert verifier.verify(text_of(raw), now=NOW).reason == ReasonCode.BAD_SIGNATURE


def test_attacker_key_reusing_trusted_kid(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    attacker = Ed25519PrivateKey.generate()
    forged = token(attacker, kid=kid_of(issuer_key))
    assert verifier.verify(forged, now=NOW).reason == ReasonCode.BAD_SIGNATURE


def test_kid_collision_tries_every_key(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    # A real 64-bit collision is out of reach for a test, so build the list directly.
    other = Ed25519PrivateKey.generate()
    listed = make_trust_list(root_key, [entry(issuer_key), entry(other, status="revoked")])
    first, second = listed.keys
    colliding = replace(listed, keys=(first, replace(second, kid=first.kid)))
    verifier = Verifier(colliding, audience="pos.jp", currency="JPY")
    ok = verifier.verify(token(issuer_key), now=NOW)
    assert ok.ok and ok.key == first
    by_other = verifier.verify(token(other, kid=first.kid), now=NOW)
    assert by_other.reason == ReasonCode.KEY_REVOKED and by_other.key is not None
    assert by_other.key.public_raw == second.public_raw
    swapped = Verifier(
        replace(colliding, keys=(colliding.keys[1], first)), audience="pos.jp", currency="JPY"
    )
    assert swapped.verify(token(issuer_key), now=NOW).ok  # found even when not first
    stranger = token(Ed25519PrivateKey.generate(), kid=first.kid)
    assert verifier.verify(stranger, now=NOW).reason == ReasonCode.BAD_SIGNATURE


def test_same_key_listed_twice_fails_closed(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    listed = make_trust_list(root_key, [entry(issuer_key), entry(issuer_key, status="revoked")])
    verifier = Verifier(listed, audience="pos.jp", currency="JPY")
    assert verifier.verify(token(issuer_key), now=NOW).reason == ReasonCode.KEY_REVOKED


def test_trailing_bytes_noncanonical_and_duplicate_keys(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    raw = cose_bytes(issuer_key)
    assert verifier.verify(text_of(raw + b"\xa0"), now=NOW).reason == ReasonCode.BAD_CBOR
    assert raw[-66:-64] == b"\x58\x40"
    long_head = raw[:-66] + b"\x59\x00\x40" + raw[-64:]  # signature length in two bytes
    assert verifier.verify(text_of(long_head), now=NOW).reason == ReasonCode.BAD_CBOR
    duplicate_claims = b"\xa7" + dcbor.encode(claims_map())[1:] + b"\x07\x50" + bytes(16)
    dup = token(issuer_key, payload=duplicate_claims)
    assert verifier.verify(dup, now=NOW).reason == ReasonCode.BAD_CLAIMS


class _AcceptsAnything:
    """Stands in for a library whose verify does not check S < L."""

    def verify(self, signature: bytes, data: bytes) -> None:
        del signature, data


def test_s_plus_l_signature_malleability(
    trust_list: TrustList, issuer_key: Ed25519PrivateKey
) -> None:
    raw = cose_bytes(issuer_key)
    signature = raw[-64:]
    s_value = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s_value + cose.ED25519_L).to_bytes(32, "little")
    twin = text_of(raw[:-64] + malleated)
    # The library this machine has rejects it by itself...
    message = cose.sig_structure(*dcbor.decode_deterministic(raw).value[0:3:2])
    issuer_key.public_key().verify(signature, message)
    with pytest.raises(InvalidSignature):
        issuer_key.public_key().verify(malleated, message)
    # ...and so does our own check, even over a backend that would accept anything.
    # Not an Ed25519PublicKey, on purpose: a backend that accepts any signature.
    lax_key = replace(trust_list.keys[0], public_key=_AcceptsAnything())  # type: ignore[arg-type]
    lax = Verifier(replace(trust_list, keys=(lax_key,)), audience="pos.jp", currency="JPY")
    assert lax.verify(twin, now=NOW).reason == ReasonCode.BAD_SIGNATURE
    assert lax.verify(text_of(raw), now=NOW).ok
    assert not cose.signature_s_is_canonical(bytes(32) + cose.ED25519_L.to_bytes(32, "little"))
    assert cose.signature_s_is_canonical(bytes(32) + (cose.ED25519_L - 1).to_bytes(32, "little"))


def test_replay_at_one_terminal_across_restart(
    tmp_path: Path, verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    text = Issuer(issuer_key).mint(good_claims())
    db = tmp_path / "terminal.db"
    with SQLiteSeenStore(db) as store:
        first = accept(
            verifier.verify(text, now=NOW),
            now=NOW,
            seen=store,
            offline=True,
            amount=100,
            trust_list_stale=False,
        )
        assert first.ok and first.recorded
    with SQLiteSeenStore(db) as reopened:  # the terminal restarted
        again = accept(
            verifier.verify(text, now=NOW + 5),
            now=NOW + 5,
            seen=reopened,
            offline=True,
            amount=100,
            trust_list_stale=False,
        )
    assert again.reason == ReasonCode.REPLAYED and not again.recorded


def test_replay_across_terminals_first_redemption_wins(
    tmp_path: Path, verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    # Several terminals (threads, each with its own store handle) race on one shared store.
    text = Issuer(issuer_key).mint(good_claims())
    db = tmp_path / "backend.db"
    SQLiteSeenStore(db).close()
    outcomes: list[bool] = []
    barrier = threading.Barrier(8)

    def terminal() -> None:
        with SQLiteSeenStore(db) as store:
            barrier.wait()
            result = accept(
                verifier.verify(text, now=NOW),
                now=NOW,
                seen=store,
                offline=False,
                amount=None,
                trust_list_stale=False,
            )
            outcomes.append(result.ok)

    threads = [threading.Thread(target=terminal) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 7 + [True]


def test_expired_tokens_and_absurd_lifetimes(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    old = token_with_claims(issuer_key, iat=NOW - 3600, exp=NOW - 3500)
    assert verifier.verify(old, now=NOW).reason == ReasonCode.EXPIRED
    forever = token_with_claims(issuer_key, exp=(1 << 64) - 1)
    assert verifier.verify(forever, now=NOW).reason == ReasonCode.LIFETIME_TOO_LONG
    backwards = token_with_claims(issuer_key, exp=NOW - 1)
    assert verifier.verify(backwards, now=NOW).reason == ReasonCode.LIFETIME_TOO_LONG


def test_tokens_minted_with_revoked_or_retired_key(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    revoked = make_trust_list(root_key, [entry(issuer_key, status="revoked")])
    assert (
        Verifier(revoked, audience="pos.jp", currency="JPY").verify(token(issuer_key), now=NOW)
    ).reason == ReasonCode.KEY_REVOKED
    retired = make_trust_list(
        root_key, [entry(issuer_key, status="retired", issue_not_after=NOW - 1)]
    )
    result = Verifier(retired, audience="pos.jp", currency="JPY").verify(token(issuer_key), now=NOW)
    assert result.reason == ReasonCode.KEY_NOT_VALID_FOR_IAT


def test_oversized_input_rejected_before_any_decoding(
    verifier: Verifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(text: str) -> bytes:
        raise AssertionError("decoded oversized input")

    monkeypatch.setattr(base45, "decode", must_not_run)
    huge = "PT1:" + "A" * 10_000_000
    assert verifier.verify(huge, now=NOW).reason == ReasonCode.TOO_LONG

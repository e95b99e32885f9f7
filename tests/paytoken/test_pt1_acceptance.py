"""Steps 18-21: replay, staleness, offline limit; the cti is recorded only on acceptance."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.reasons import ReasonCode
from pos_app.paytoken.acceptance import AcceptanceResult, accept, check_acceptance
from pos_app.paytoken.errors import AcceptanceUsageError
from pos_app.paytoken.issuer import Issuer
from pos_app.paytoken.seen_store import MemorySeenStore
from pos_app.paytoken.verifier import Verifier, VerifyResult
from tests.paytoken.pt1_forge import NOW, good_claims


def verified(verifier: Verifier, key: Ed25519PrivateKey, **changes: object) -> VerifyResult:
    return verifier.verify(Issuer(key).mint(good_claims(**changes)), now=NOW)


def run(
    result: VerifyResult,
    store: MemorySeenStore,
    *,
    offline: bool = True,
    amount: int | None = 1000,
    stale: bool = False,
) -> AcceptanceResult:
    return accept(
        result, now=NOW, seen=store, offline=offline, amount=amount, trust_list_stale=stale
    )


def test_accepted_token_is_recorded_until_exp_plus_skew(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    store = MemorySeenStore()
    outcome = run(verified(verifier, issuer_key), store)
    assert outcome.ok and outcome.recorded and outcome.expires_at == NOW + 120 + 30
    assert store.is_seen(good_claims().cti, NOW)
    again = run(verified(verifier, issuer_key), store)
    assert again.reason == ReasonCode.REPLAYED and not again.recorded


def test_rejected_verification_passes_through_unrecorded(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    store = MemorySeenStore()
    expired = verifier.verify(Issuer(issuer_key).mint(good_claims()), now=NOW + 1000)
    outcome = run(expired, store)
    assert outcome.reason == ReasonCode.EXPIRED and not outcome.ok and not outcome.recorded
    assert not store.is_seen(good_claims().cti, NOW)


@pytest.mark.parametrize(
    ("changes", "amount", "stale", "reason"),
    [
        ({}, 1000, True, ReasonCode.TRUST_LIST_STALE),
        ({"limit": 0}, 1, False, ReasonCode.ONLINE_REQUIRED),
        ({"limit": 0}, 0, False, ReasonCode.ONLINE_REQUIRED),
        ({"limit": 999}, 1000, False, ReasonCode.OVER_OFFLINE_LIMIT),
        ({"limit": 1000}, 1000, False, None),
        ({"limit": 1000, "flags": 0xFFFF}, 1000, False, None),  # flags are not looked at
        ({"limit": 0}, 5000, True, ReasonCode.TRUST_LIST_STALE),  # step 19 before 20 and 21
    ],
)
def test_offline_steps(
    verifier: Verifier,
    issuer_key: Ed25519PrivateKey,
    changes: dict[str, int],
    amount: int,
    stale: bool,
    reason: str | None,
) -> None:
    store = MemorySeenStore()
    outcome = run(verified(verifier, issuer_key, **changes), store, amount=amount, stale=stale)
    assert outcome.reason == reason
    assert outcome.recorded is (reason is None)
    assert store.is_seen(good_claims().cti, NOW) is (reason is None)


def test_online_skips_offline_steps(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    store = MemorySeenStore()
    result = verified(verifier, issuer_key, limit=0)
    outcome = run(result, store, offline=False, amount=None, stale=True)
    assert outcome.ok and outcome.recorded


def test_replayed_comes_before_offline_steps(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    store = MemorySeenStore()
    store.record(good_claims().cti, NOW + 150)
    outcome = run(verified(verifier, issuer_key, limit=0), store, stale=True)
    assert outcome.reason == ReasonCode.REPLAYED


def test_check_only_never_records(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    store = MemorySeenStore()
    checked = check_acceptance(
        verified(verifier, issuer_key),
        now=NOW,
        seen=store,
        offline=True,
        amount=10,
        trust_list_stale=False,
    )
    assert checked.ok and not checked.recorded and checked.expires_at == NOW + 150
    assert not store.is_seen(good_claims().cti, NOW)


class _LosesTheRace(MemorySeenStore):
    """Another till recorded the cti between our check and our record."""

    def is_seen(self, cti: bytes, now: int) -> bool:
        return False

    def record(self, cti: bytes, expires_at: int, *, now: int | None = None) -> bool:
        return False


def test_lost_race_is_replayed(verifier: Verifier, issuer_key: Ed25519PrivateKey) -> None:
    outcome = run(verified(verifier, issuer_key), _LosesTheRace())
    assert outcome.reason == ReasonCode.REPLAYED and not outcome.recorded


@pytest.mark.parametrize("amount", [None, -1, True])
def test_offline_needs_an_amount(
    verifier: Verifier, issuer_key: Ed25519PrivateKey, amount: object
) -> None:
    with pytest.raises(AcceptanceUsageError):
        run(verified(verifier, issuer_key), MemorySeenStore(), amount=amount)  # type: ignore[arg-type]

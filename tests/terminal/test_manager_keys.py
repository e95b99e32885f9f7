"""Manager keys at the till, against an insider who copies the till's files.

The red-team trial: a cashier acted as a manager by typing a manager id, and a
manager's 4-digit PIN falls to an offline search of the till's scrypt hashes.
Now a manager's approval or decision is signed with a key derived from a
passphrase that cannot be a PIN; the till keeps only public keys. These tests
copy the whole data directory (database, terminal key, everything), try all
10,000 PINs, and show that nothing the backend accepts comes out of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TypedDict

import pytest

from pos_app.core.api_contract import DecisionBody
from pos_app.paytoken import manager_proof
from pos_app.terminal.auth import Authenticator, Role
from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.errors import BackendRejected
from pos_app.terminal.manager_keys import ManagerKeyring
from pos_app.terminal.reviews.client import ClientReviewsBackend
from pos_app.terminal.reviews.queue import decide
from pos_app.terminal.reviews.sync import pull_reviews, push_decisions
from pos_app.terminal.services import TerminalServices, build_services
from tests.terminal.checkout_support import (
    BENTO,
    MANAGER_PASSPHRASE,
    TEST_KDF_N,
    Backend,
    Network,
    basket,
    terminal_settings,
)

MANAGER_PIN = "0420"


class _Proof(TypedDict, total=False):
    """The manager's proof fields of a ``DecisionBody``."""

    decided_at: int | None
    signature: str | None


def _flagged_sale(backend: Backend, services: TerminalServices) -> str:
    """A 100,000 yen sale a manager approved at the till: flagged for review."""
    wallet = backend.new_wallet(balance=150_000)
    sale = services.checkout.start_payment(basket((BENTO, 100)), cashier_id="C042")
    update = services.checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.MANAGER_APPROVAL, update
    signer = backend.manager(services.store, "M01")
    done = services.checkout.manager_approve(
        sale.sale_id, manager_id="M01", reason="office lunch order", signer=signer
    )
    assert done.phase is PaymentPhase.APPROVED, done
    return sale.sale_id


def test_passphrase_policy_refuses_every_pin() -> None:
    for n in range(10_000):
        with pytest.raises(manager_proof.PassphraseError):
            manager_proof.check_passphrase(f"{n:04d}")
    for weak in ("12345678", "123456789012", "aaaaaaaaaaaaaaa", "short-pass"):
        with pytest.raises(manager_proof.PassphraseError):
            manager_proof.check_passphrase(weak)
    generated = manager_proof.new_passphrase()
    manager_proof.check_passphrase(generated)
    assert len(generated) == 19 and generated != manager_proof.new_passphrase()


def test_copied_till_files_and_all_10000_pins_give_nothing_usable(
    backend: Backend, services: TerminalServices, tmp_path: Path, network: Network
) -> None:
    auth = Authenticator(services.store)
    auth.add_account("C042", "Sato", Role.CASHIER, "1234")
    auth.add_account("M01", "Tanaka", Role.MANAGER, MANAGER_PIN)
    sale_id = _flagged_sale(backend, services)
    now = int(backend.clock.now())
    signer = ManagerKeyring(services.store, store_id="S001", kdf_n=TEST_KDF_N).unlock(
        MANAGER_PASSPHRASE
    )
    assert signer is not None
    # A signed decision waits in the queue (the till was offline): its signature is on disk too.
    network.mode = "down"
    decide(services.store, sale_id, decision="reject", manager_id="M01", note="no receipt",
           now=now, signer=signer)  # fmt: skip

    # The insider copies the till's data directory: database, terminal key, everything.
    copied = tmp_path / "copied"
    shutil.copytree(tmp_path / "terminal", copied)
    network.mode = "up"
    thief = build_services(
        terminal_settings(backend, copied), transport=network, clock=backend.clock.now
    )
    try:
        keyring = ManagerKeyring(thief.store, store_id="S001", kdf_n=TEST_KDF_N)
        enrolled = set(keyring.public_keys().values())
        assert len(enrolled) == 1
        # All 10,000 PINs, even bypassing the policy, derive no enrolled key.
        for n in range(10_000):
            pin = f"{n:04d}"
            assert keyring.unlock(pin) is None
            key = manager_proof.derive_key(pin, store_id="S001", manager_id="M01", n=TEST_KDF_N)
            assert manager_proof.public_key_b64(key) not in enrolled
        # Knowing the manager's PIN (0420) opens the local PIN check, and still nothing more.
        assert (
            Authenticator(thief.store).verify_manager(MANAGER_PIN, for_cashier="C042", detail={}).ok
        )
        pin_key = manager_proof.derive_key(
            MANAGER_PIN, store_id="S001", manager_id="M01", n=TEST_KDF_N
        )
        assert thief.client is not None
        client = thief.client
        forged: _Proof = {
            "decided_at": now,
            "signature": manager_proof.sign(
                pin_key,
                manager_proof.ReviewDecision("M01", sale_id, "S001", "confirmed_fraud", "x", now),
            ),
        }
        fraud: DecisionBody = {"decision": "confirmed_fraud", "reviewer_id": "M01"}
        for proof in (_Proof(), forged):
            with pytest.raises(BackendRejected) as refused:
                client.decide_review(
                    sale_id, {**fraud, "note": "x", **proof}, idempotency_key=f"forged-{not proof}"
                )
            assert (refused.value.status, refused.value.code) == (403, "manager_required")
        # The queued signature, copied, cannot be bent into another decision.
        row = thief.store.query("SELECT signature FROM review_decisions")[0]
        bent: _Proof = {"decided_at": now, "signature": row["signature"]}
        with pytest.raises(BackendRejected) as refused:
            client.decide_review(
                sale_id, {**fraud, "note": "no receipt", **bent}, idempotency_key="bent"
            )
        assert refused.value.code == "manager_required"
    finally:
        thief.close()
    # The real queued decision goes through once the till is back online.
    remote = ClientReviewsBackend(services.client)  # type: ignore[arg-type]
    assert push_decisions(services.store, remote, terminal_id="T01", now=now + 5).sent == 1
    [reviewed] = [r for r in remote.list_reviews("S001") if r.sale_id == sale_id]
    assert reviewed.review_status == "rejected"
    assert [d["reviewer_id"] for d in reviewed.decisions] == ["M01"]


def test_a_cashier_id_cannot_make_a_manager_decision_from_the_till(
    backend: Backend, services: TerminalServices
) -> None:
    sale_id = _flagged_sale(backend, services)
    now = int(backend.clock.now())
    assert services.client is not None
    remote = ClientReviewsBackend(services.client)
    pull_reviews(services.store, remote, store_id="S001", now=now)
    # The cashier queues a decision under their own id (no manager key): the backend refuses.
    decide(services.store, sale_id, decision="confirmed_fraud", manager_id="C042",
           note="pretending", now=now)  # fmt: skip
    report = push_decisions(services.store, remote, terminal_id="T01", now=now + 1)
    assert (report.sent, report.failed) == (0, 1)
    assert report.last_error is not None and "manager's signature" in report.last_error
    [row] = [r for r in remote.list_reviews("S001") if r.sale_id == sale_id]
    assert row.review_status == "pending" and row.decisions == ()


def test_passphrase_unlocks_with_lockout_and_signs(
    backend: Backend, services: TerminalServices
) -> None:
    keyring = ManagerKeyring(services.store, store_id="S001", kdf_n=TEST_KDF_N)
    backend.manager(services.store, "M01")
    clock = [1_800_000_000.0]
    auth = Authenticator(services.store, keyring=keyring, clock=lambda: clock[0])
    auth.add_account("C042", "Sato", Role.CASHIER, "1234")
    ok = auth.verify_manager(MANAGER_PASSPHRASE, for_cashier="C042", detail={"sale_id": "s1"})
    assert ok.ok and ok.signer is not None and ok.signer.manager_id == "M01"
    # Manager mode: the same passphrase for M01's session.
    session = auth.sign_in("M01", MANAGER_PASSPHRASE, role=Role.MANAGER)
    assert session.ok and session.signer is not None
    # Wrong passphrases (or PINs) count against M01; the cashier's success does not reset it.
    codes = []
    for attempt in range(5):
        codes.append(
            auth.verify_manager(f"guess-{attempt}-xyz", for_cashier="C042", detail={}).code
        )
        if attempt == 1:
            assert auth.sign_in("C042", "1234").ok
    assert codes == ["wrong_pin"] * 4 + ["locked"]
    assert auth.verify_manager(MANAGER_PASSPHRASE, for_cashier="C042", detail={}).code == "locked"

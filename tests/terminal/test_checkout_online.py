"""Checkout against the real reference backend: online paths (approve, step-up, manager, void)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_app.terminal.audit.log import AuditAction, read_entries
from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.errors import CheckoutError
from pos_app.terminal.services import TerminalServices
from pos_app.terminal.terminal_risk import wallet_ref
from tests.terminal.checkout_support import (
    BENTO,
    CARTON,
    TEA,
    Backend,
    Network,
    basket,
    till,
)


def test_online_sale_is_approved_and_its_token_cannot_pay_twice(
    backend: Backend, services: TerminalServices
) -> None:
    wallet = backend.new_wallet(balance=10_000)
    checkout = services.checkout
    started = checkout.start_payment(basket((TEA, 2)), cashier_id="C042")
    assert started.phase is PaymentPhase.WAITING_FOR_CODE
    assert started.total == 280
    token = backend.token(wallet)
    update = checkout.submit_token(started.sale_id, token)
    assert update.phase is PaymentPhase.APPROVED, update
    assert update.authorization_id
    assert update.wallet_masked and wallet.wallet_id not in update.wallet_masked
    assert backend.balance(wallet) == 10_000 - 280
    row = services.store.query(
        "SELECT state, authorization_id FROM sales WHERE sale_id = ?", (started.sale_id,)
    )[0]
    assert (row["state"], row["authorization_id"]) == ("approved", update.authorization_id)
    # Step 18 at this till: the same code on the next sale never reaches the backend.
    again = checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
    replay = checkout.submit_token(again.sale_id, token)
    assert (replay.phase, replay.reason) == (PaymentPhase.DECLINED, "replayed")
    assert backend.balance(wallet) == 10_000 - 280


def test_bad_token_is_declined_with_its_pt1_reason(services: TerminalServices) -> None:
    sale = services.checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
    update = services.checkout.submit_token(sale.sale_id, "PT1:NOT-A-TOKEN")
    assert (update.phase, update.reason) == (PaymentPhase.DECLINED, "bad_base45")


def test_step_up_is_polled_until_the_owner_approves(
    backend: Backend, services: TerminalServices
) -> None:
    wallet = backend.new_wallet(balance=50_000)  # a new device: cartons need the owner
    checkout = services.checkout
    sale = checkout.start_payment(basket((CARTON, 2)), cashier_id="C042")
    update = checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.CUSTOMER_APPROVAL, update
    assert update.expires_at is not None and update.expires_at > backend.clock.now()
    assert update.manager_may_override is False
    assert any(r.code == "takeover_token_flags" for r in update.risk_reasons)
    assert checkout.poll(sale.sale_id).phase is PaymentPhase.CUSTOMER_APPROVAL
    backend.decide_step_up(wallet, "approve")
    done = checkout.poll(sale.sale_id)
    assert done.phase is PaymentPhase.APPROVED and done.authorization_id
    assert backend.balance(wallet) == 50_000 - 12_000


def test_cancel_during_step_up_reaches_the_backend(
    backend: Backend, services: TerminalServices
) -> None:
    wallet = backend.new_wallet(balance=50_000)
    checkout = services.checkout
    sale = checkout.start_payment(basket((CARTON, 2)), cashier_id="C042")
    assert checkout.submit_token(sale.sale_id, backend.token(wallet)).phase is (
        PaymentPhase.CUSTOMER_APPROVAL
    )
    assert checkout.cancel(sale.sale_id).phase is PaymentPhase.CANCELLED
    assert services.client is not None
    assert services.client.get_sale(sale.sale_id).status == "cancelled"
    assert backend.balance(wallet) == 50_000


def test_manager_approval_is_logged_and_finalizes(
    backend: Backend, services: TerminalServices
) -> None:
    wallet = backend.new_wallet(balance=150_000)
    checkout = services.checkout
    sale = checkout.start_payment(basket((BENTO, 100)), cashier_id="C042")  # 100,000 yen
    update = checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.MANAGER_APPROVAL, update
    assert update.manager_may_override
    with pytest.raises(CheckoutError):
        checkout.void(sale.sale_id, manager_id="M01", reason="not approved yet")
    # Without the manager's key the till refuses at once (the backend would answer 403).
    with pytest.raises(CheckoutError, match="passphrase"):
        checkout.manager_approve(sale.sale_id, manager_id="M01", reason="office lunch order")
    signer = backend.manager(services.store, "M01")
    done = checkout.manager_approve(
        sale.sale_id, manager_id="M01", reason="office lunch order", signer=signer
    )
    assert done.phase is PaymentPhase.APPROVED, done
    actions = [(e.actor, e.action) for e in read_entries(services.store)]
    assert ("M01", AuditAction.MANAGER_APPROVAL) in actions
    assert backend.balance(wallet) == 50_000


def test_void_reverses_the_debit_and_is_audited(
    backend: Backend, services: TerminalServices
) -> None:
    wallet = backend.new_wallet(balance=10_000)
    checkout = services.checkout
    sale = checkout.start_payment(basket((TEA, 3)), cashier_id="C042")
    assert checkout.submit_token(sale.sale_id, backend.token(wallet)).phase is PaymentPhase.APPROVED
    with pytest.raises(CheckoutError):
        checkout.cancel(sale.sale_id)
    # A void refunds: without the manager's key the till refuses before sending.
    with pytest.raises(CheckoutError, match="passphrase"):
        checkout.void(sale.sale_id, manager_id="M01", reason="customer changed mind")
    assert backend.balance(wallet) == 10_000 - 3 * TEA.price
    signer = backend.manager(services.store, "M01")
    voided = checkout.void(
        sale.sale_id, manager_id="M01", reason="customer changed mind", signer=signer
    )
    assert voided.phase is PaymentPhase.VOIDED
    assert backend.balance(wallet) == 10_000
    assert AuditAction.VOID in [e.action for e in read_entries(services.store)]


def test_status_reports_enrollment_trust_list_and_clock_skew(
    backend: Backend, services: TerminalServices
) -> None:
    wallet = backend.new_wallet(balance=1_000)
    sale = services.checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
    services.checkout.submit_token(sale.sale_id, backend.token(wallet))
    status = services.checkout.status()
    assert status.enrolled and status.online
    assert status.outbox_pending == 0
    assert status.trust_list_age_s == 0 and not status.trust_list_stale
    assert status.clock_skew_s == 0


def test_a_till_whose_clock_jumped_since_the_last_contact_signs_again_once(
    backend: Backend, tmp_path: Path, network: Network
) -> None:
    from pos_app.terminal.services import build_services
    from tests.terminal.checkout_support import terminal_settings

    till(backend, tmp_path, network).close()  # enrolled with a correct clock
    settings = terminal_settings(backend, tmp_path / "terminal")
    jump = [0]
    skewed = build_services(
        settings, transport=network, clock=lambda: backend.clock.now() + jump[0]
    )
    try:
        assert skewed.sync is not None
        skewed.sync.tick()  # a contact with the right time: offset 0
        assert skewed.checkout.status().clock_skew_s == 0
        jump[0] = 100  # then the till's clock jumps ahead
        wallet = backend.new_wallet(balance=1_000)
        sale = skewed.checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
        network.log.clear()
        update = skewed.checkout.submit_token(sale.sale_id, backend.token(wallet))
        # Refused once (signature from the future; the answer's Date shows the new offset),
        # signed again with it, approved: the refused request did nothing at the backend.
        assert update.phase is PaymentPhase.APPROVED, update
        assert [p for m, p in network.log if m == "POST"] == ["/v1/sales", "/v1/sales"]
        assert skewed.checkout.status().clock_skew_s == pytest.approx(-100, abs=1)
        assert backend.balance(wallet) == 1_000 - 140
    finally:
        skewed.close()


def test_wallets_held_for_their_owners_then_cancelled_still_count_in_a_rotation(
    backend: Backend, services: TerminalServices
) -> None:
    """7pay's rotation at one till: each account's cartons wait for an owner who never
    answers and the cashier cancels; the third account in the half hour is a rotation
    (wallet_rotation_at_terminal), as if the first two had been approved."""
    checkout = services.checkout
    for _ in range(2):
        wallet = backend.new_wallet(balance=50_000)  # new phones: cartons need the owner
        sale = checkout.start_payment(basket((CARTON, 2)), cashier_id="C042")
        held = checkout.submit_token(sale.sale_id, backend.token(wallet))
        assert held.phase is PaymentPhase.CUSTOMER_APPROVAL, held
        assert checkout.poll(sale.sale_id).phase is PaymentPhase.CUSTOMER_APPROVAL
        assert checkout.cancel(sale.sale_id).phase is PaymentPhase.CANCELLED
    third = checkout.start_payment(basket((CARTON, 2)), cashier_id="C042")
    update = checkout.submit_token(third.sale_id, backend.token(backend.new_wallet(50_000)))
    assert update.phase is PaymentPhase.CUSTOMER_APPROVAL, update
    assert "wallet_rotation_at_terminal" in {r.code for r in update.risk_reasons}


def test_a_wallet_held_for_a_manager_then_cancelled_still_counts_at_the_till(
    backend: Backend, services: TerminalServices
) -> None:
    checkout = services.checkout
    wallet = backend.new_wallet(balance=150_000)
    sale = checkout.start_payment(basket((BENTO, 100)), cashier_id="C042")  # 100,000 yen
    held = checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert held.phase is PaymentPhase.MANAGER_APPROVAL, held
    assert checkout.cancel(sale.sale_id).phase is PaymentPhase.CANCELLED
    probe = checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
    other = backend.new_wallet(balance=1_000)
    assert checkout.submit_token(probe.sale_id, backend.token(other)).phase is (
        PaymentPhase.APPROVED
    )
    till = services.checkout._flow._risk._tracker  # what the till remembers
    seen = till._seen[("S001", "T01")]
    presented = sorted(ref for _, ref, _ in seen)
    assert presented == sorted([wallet_ref(wallet.wallet_id), wallet_ref(other.wallet_id)])

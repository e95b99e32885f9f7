"""A manager's void at the till, against the real backend: signed, sent or queued, and a
refused one never silently lost (issue 15: a void moves money, so it needs the manager's
proof).

A refused void leaves the sale paid: online, the cashier is told at once and the audit
log keeps who tried; queued offline and refused later (the manager's key was revoked
meanwhile), the till turns the sale back to paid, fails the outbox entry (the status bar
counts it), puts the sale on the manager's review list and tells the cashier.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.server import admin
from pos_app.terminal.audit.log import AuditAction, read_entries
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
from pos_app.terminal.errors import CheckoutError
from pos_app.terminal.reviews.detail import load_detail
from pos_app.terminal.services import TerminalServices
from tests.terminal.checkout_support import TEA, Backend, Network, Wallet, basket, synced_till


@pytest.fixture
def services(
    backend: Backend, regular: Wallet, tmp_path: Path, network: Network
) -> Iterator[TerminalServices]:
    yield from synced_till(backend, tmp_path, network)


def _pay(services: TerminalServices, backend: Backend, wallet: Wallet) -> PaymentUpdate:
    sale = services.checkout.start_payment(basket((TEA, 2)), cashier_id="C042")
    return services.checkout.submit_token(sale.sale_id, backend.token(wallet))


def _revoke(backend: Backend, manager_id: str) -> None:
    settings = backend.settings
    admin.revoke_manager(settings.data_dir, settings.db_url, store_id="S001", manager_id=manager_id)


def _actions(services: TerminalServices) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in read_entries(services.store)]


def test_a_void_the_backend_refuses_leaves_the_sale_paid_and_says_so(
    backend: Backend, regular: Wallet, services: TerminalServices
) -> None:
    checkout = services.checkout
    paid = _pay(services, backend, regular)
    assert paid.phase is PaymentPhase.APPROVED
    former = backend.manager(services.store, "M01")
    _revoke(backend, "M01")  # left the company; this till still knows the public key
    with pytest.raises(CheckoutError, match="refused the void") as refused:
        checkout.void(paid.sale_id, manager_id="M01", reason="wrong item", signer=former)
    assert "not refunded" in refused.value.message
    assert backend.balance(regular) == 20_000 - 2 * TEA.price
    assert checkout.poll(paid.sale_id).phase is PaymentPhase.APPROVED
    assert ("M01", AuditAction.VOID_REFUSED) in _actions(services)
    assert ("M01", AuditAction.VOID) not in _actions(services)
    assert checkout.status().outbox_pending == 0  # nothing left to resend the refused proof
    # Another manager voids it: a fresh signed attempt (its own Idempotency-Key) goes through.
    current = backend.manager(services.store, "M02", passphrase="rq4c-v8wz-3hnd-p6te")
    voided = checkout.void(paid.sale_id, manager_id="M02", reason="wrong item", signer=current)
    assert voided.phase is PaymentPhase.VOIDED
    assert backend.balance(regular) == 20_000
    assert ("M02", AuditAction.VOID) in _actions(services)


def test_a_queued_void_refused_later_turns_the_sale_back_to_paid_for_all_to_see(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    checkout = services.checkout
    network.mode = "down"
    sale = _pay(services, backend, regular)
    assert sale.phase is PaymentPhase.OFFLINE_ACCEPTED
    signer = backend.manager(services.store, "M01")  # the key is derived on the till: offline
    voided = checkout.void(sale.sale_id, manager_id="M01", reason="wrong item", signer=signer)
    assert voided.phase is PaymentPhase.VOIDED
    queued = services.store.query("SELECT payload FROM outbox WHERE kind = 'void'")
    assert '"manager_approval"' in queued[0]["payload"]  # the proof travels with the entry
    _revoke(backend, "M01")  # before the link comes back
    network.mode = "up"
    assert services.drainer is not None
    services.drainer.drain_once(ignore_backoff=True)
    # The sale was settled (charged) and its void refused: paid, and every place says so.
    assert backend.balance(regular) == 20_000 - 2 * TEA.price
    row = services.store.query("SELECT state, reason FROM sales")[0]
    assert (row["state"], row["reason"]) == ("approved", "void_refused")
    assert checkout.status().outbox_failed == 1
    assert services.store.query("SELECT 1 FROM reviews WHERE status = 'open'")
    assert ("M01", AuditAction.VOID_REFUSED) in _actions(services)
    notices = checkout.notices()
    assert [(n.sale_id, n.reason) for n in notices] == [(sale.sale_id, "void_refused")]
    # The manager's evidence pane shows the void and its refusal, by whom.
    actions = load_detail(services.store, sale.sale_id).till_actions
    assert [(a.action, a.manager_id) for a in actions] == [
        (AuditAction.VOID, "M01"),
        (AuditAction.VOID_REFUSED, "M01"),
    ]
    assert actions[1].reason == "manager_required"
    # A manager whose key holds voids it again, on the same screen.
    current = backend.manager(services.store, "M02", passphrase="rq4c-v8wz-3hnd-p6te")
    again = checkout.void(sale.sale_id, manager_id="M02", reason="wrong item", signer=current)
    assert again.phase is PaymentPhase.VOIDED
    assert backend.balance(regular) == 20_000

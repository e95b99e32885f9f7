"""Review decisions against the real reference backend, through the signed terminal client."""

from __future__ import annotations

from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.reviews.client import ClientReviewsBackend
from pos_app.terminal.reviews.detail import load_detail
from pos_app.terminal.reviews.queue import ReviewStatus, decide, load_queue
from pos_app.terminal.reviews.sync import pending_decisions, pull_reviews, push_decisions
from pos_app.terminal.services import TerminalServices
from tests.terminal.checkout_support import BENTO, Backend, Network, basket


def test_confirmed_fraud_made_offline_freezes_the_wallet_once_synced(
    backend: Backend, services: TerminalServices, network: Network
) -> None:
    wallet = backend.new_wallet(balance=150_000)
    checkout = services.checkout
    sale = checkout.start_payment(basket((BENTO, 100)), cashier_id="C042")
    update = checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.MANAGER_APPROVAL, update
    m01 = backend.manager(services.store, "M01")
    checkout.manager_approve(
        sale.sale_id, manager_id="M01", reason="office lunch order", signer=m01
    )
    store, now = services.store, int(backend.clock.now())
    assert services.client is not None
    remote = ClientReviewsBackend(services.client)

    assert pull_reviews(store, remote, store_id="S001", now=now) == 1
    [item] = load_queue(store, "S001")
    assert (item.sale_id, item.status, item.remote) == (sale.sale_id, ReviewStatus.OPEN, False)
    detail = load_detail(store, sale.sale_id)
    assert [(a.manager_id, a.reason) for a in detail.till_actions] == [
        ("M01", "office lunch order")
    ]

    network.mode = "down"  # the manager decides while the backend is unreachable
    decide(
        store,
        sale.sale_id,
        decision="confirmed_fraud",
        manager_id="M01",
        note="owner called: not their purchase",
        now=now,
        signer=m01,
    )
    report = push_decisions(store, remote, terminal_id="T01", now=now)
    assert (report.sent, report.pending) == (0, 1)

    network.mode = "up"
    assert push_decisions(store, remote, terminal_id="T01", now=now + 60).sent == 1
    assert pending_decisions(store) == 0
    listed = remote.list_reviews("S001", "confirmed_fraud")
    assert [r.sale_id for r in listed] == [sale.sale_id]
    answer = backend.wallet_request(
        "GET", f"/v1/wallets/{wallet.wallet_id}", key=wallet.key, keyid=wallet.device_id
    )
    assert answer.json()["frozen"] is True
    pull_reviews(store, remote, store_id="S001", now=now + 120)
    assert load_queue(store, "S001")[0].status is ReviewStatus.CONFIRMED_FRAUD

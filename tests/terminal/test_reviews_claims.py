"""Claims across tills, end to end: two terminals, the real backend, the signed client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.core.api_contract import ClaimAnswer, DecisionBody
from pos_app.terminal.backend.client import ClientConfig
from pos_app.terminal.backend.enrollment import EnrollmentInput, enroll
from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.errors import BackendRejected
from pos_app.terminal.reviews import claims as reviews_claims
from pos_app.terminal.reviews.client import ClientReviewsBackend
from pos_app.terminal.reviews.queue import CLAIM_STALE_S, ClaimedByOther, decide, load_queue
from pos_app.terminal.reviews.sync import pull_reviews, push_decisions
from pos_app.terminal.services import TerminalServices, build_services
from pos_app.terminal.store.db import open_store
from pos_app.terminal.sync.trust import TrustListManager, load_root_key
from tests.terminal.checkout_support import (
    BENTO,
    DAY,
    Backend,
    Network,
    basket,
    terminal_settings,
    till,
)


@pytest.fixture
def till1(backend: Backend, tmp_path: Path, network: Network) -> Iterator[TerminalServices]:
    svc = till(backend, tmp_path, network)
    yield svc
    svc.close()


@pytest.fixture
def net2() -> Iterator[Network]:
    net = Network()
    yield net
    net.close()


@pytest.fixture
def till2(backend: Backend, tmp_path: Path, net2: Network) -> Iterator[TerminalServices]:
    """A second till of store S001 (T02) with its own database and network."""
    data_dir = tmp_path / "terminal2"
    settings = terminal_settings(backend, data_dir)
    store = open_store(data_dir)
    try:
        root = load_root_key(settings.backend.trust_root_key)
        trust = TrustListManager(store, root, audience="pos.jp", currency="JPY", stale_grace_s=DAY)
        enroll(
            EnrollmentInput(backend.url, backend.code(terminal_id="T02"), "S001", "T02"),
            store=store,
            data_dir=data_dir,
            trust=trust,
            config=ClientConfig(base_url=backend.url, retries=0),
            clock=backend.clock.now,
            prefer_keyring=False,
        )
    finally:
        store.close()
    svc = build_services(settings, transport=net2, clock=backend.clock.now)
    yield svc
    svc.close()


def _flagged_sale(backend: Backend, svc: TerminalServices) -> str:
    wallet = backend.new_wallet(balance=150_000)
    sale = svc.checkout.start_payment(basket((BENTO, 100)), cashier_id="C042")
    update = svc.checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.MANAGER_APPROVAL, update
    signer = backend.manager(svc.store, "M01")
    svc.checkout.manager_approve(
        sale.sale_id, manager_id="M01", reason="office lunch order", signer=signer
    )
    return sale.sale_id


def _remote(svc: TerminalServices) -> ClientReviewsBackend:
    assert svc.client is not None
    return ClientReviewsBackend(svc.client)


def test_manager_at_other_till_sees_who_took_the_sale(
    backend: Backend, till1: TerminalServices, till2: TerminalServices
) -> None:
    sale_id = _flagged_sale(backend, till1)
    now = int(backend.clock.now())
    r1, r2 = _remote(till1), _remote(till2)
    assert pull_reviews(till2.store, r2, store_id="S001", now=now) == 1

    held = reviews_claims.claim(till1.store, r1, sale_id, manager_id="M01", now=now)
    assert (held.ok, held.claimed_by) == (True, "M01")
    refused = reviews_claims.claim(till2.store, r2, sale_id, manager_id="M02", now=now + 5)
    assert (refused.ok, refused.claimed_by, refused.claimed_at) == (False, "M01", now)
    # T02's queue now shows the holder from the other till.
    [item] = load_queue(till2.store, "S001")
    assert (item.sale_id, item.claimed_by, item.remote) == (sale_id, "M01", True)

    # M01 gives it back: M02 can take it at the backend, and locally despite the stale row.
    reviews_claims.release(till1.store, r1, sale_id, manager_id="M01", now=now + 10)
    again = reviews_claims.claim(till2.store, r2, sale_id, manager_id="M02", now=now + 20)
    assert (again.ok, again.claimed_by) == (True, "M02")
    listed = {r.sale_id: r for r in r1.list_reviews("S001")}
    claim = listed[sale_id].claim
    assert claim is not None and claim.claimed_by == "M02"

    # M02 decides at T02; once pushed, the backend has it and the claim is gone.
    m02 = backend.manager(till2.store, "M02")
    decide(till2.store, sale_id, decision="approve", manager_id="M02", note="known customer",
           now=now + 30, signer=m02)  # fmt: skip
    assert push_decisions(till2.store, r2, terminal_id="T02", now=now + 31).sent == 1
    row = {r.sale_id: r for r in r1.list_reviews("S001")}[sale_id]
    assert row.review_status == "approved" and row.claim is None
    assert [d["reviewer_id"] for d in row.decisions] == ["M02"]


def test_offline_claim_is_local_and_the_decision_waits(
    backend: Backend, till1: TerminalServices, till2: TerminalServices, net2: Network
) -> None:
    sale_id = _flagged_sale(backend, till1)
    now = int(backend.clock.now())
    r1, r2 = _remote(till1), _remote(till2)
    pull_reviews(till2.store, r2, store_id="S001", now=now)

    net2.mode = "down"  # T02 cannot reach the backend: a local claim, as before
    offline = reviews_claims.claim(till2.store, r2, sale_id, manager_id="M02", now=now)
    assert (offline.ok, offline.claimed_by) == (True, "M02")
    m02 = backend.manager(till2.store, "M02")
    decide(till2.store, sale_id, decision="reject", manager_id="M02", note="no receipt",
           now=now + 1, signer=m02)  # fmt: skip
    assert push_decisions(till2.store, r2, terminal_id="T02", now=now + 2).pending == 1

    # Meanwhile M01 claims at T01 online; T02's queued decision is refused while M01 holds it.
    assert reviews_claims.claim(till1.store, r1, sale_id, manager_id="M01", now=now + 3).ok
    net2.mode = "up"
    report = push_decisions(till2.store, r2, terminal_id="T02", now=now + 4)
    assert (report.sent, report.pending) == (0, 1)
    assert report.last_error is not None and "M01" in report.last_error

    # The claim lapses (15 minutes): the queued decision goes through with its same key.
    backend.clock.advance(CLAIM_STALE_S + 1)
    report = push_decisions(till2.store, r2, terminal_id="T02", now=now + CLAIM_STALE_S + 5)
    assert (report.sent, report.pending) == (1, 0)
    row = {r.sale_id: r for r in r1.list_reviews("S001")}[sale_id]
    assert row.review_status == "rejected"


def test_client_review_methods(
    backend: Backend, till1: TerminalServices, till2: TerminalServices
) -> None:
    sale_id = _flagged_sale(backend, till1)
    c1, c2 = till1.client, till2.client
    assert c1 is not None and c2 is not None
    claimed = c1.claim_review(sale_id, reviewer_id="M01", idempotency_key="k-claim-1")
    assert (claimed.claimed_by, claimed.sale_id) == ("M01", sale_id)
    assert claimed.expires_at is not None and claimed.claimed_at is not None
    with pytest.raises(BackendRejected) as caught:
        c2.claim_review(sale_id, reviewer_id="M02", idempotency_key="k-claim-2")
    assert (caught.value.status, caught.value.code) == (409, "review_claimed")
    assert caught.value.details["claimed_by"] == "M01"
    with pytest.raises(ClaimedByOther) as other:
        _remote(till2).release(sale_id, reviewer_id="M02")
    assert other.value.claimed_by == "M01"
    assert c1.release_review(sale_id, reviewer_id="M01", idempotency_key="k-rel-1") == ClaimAnswer(
        sale_id=sale_id, claimed_by=None
    )
    escalate: DecisionBody = {"decision": "escalate", "reviewer_id": "M02", "note": "head office"}
    with pytest.raises(BackendRejected) as unsigned:  # a terminal key alone never suffices
        c2.decide_review(sale_id, escalate, idempotency_key="d0")
    assert (unsigned.value.status, unsigned.value.code) == (403, "manager_required")
    now = int(backend.clock.now())
    m02 = backend.manager(till2.store, "M02")
    signature = m02.sign_decision(sale_id, decision="escalate", note="head office", at=now)
    signed: DecisionBody = {**escalate, "decided_at": now, "signature": signature}
    answer = c2.decide_review(sale_id, signed, idempotency_key="d1")
    assert answer.review_status == "escalated"
    listed = c1.list_reviews("S001", "escalated")
    assert [r.sale_id for r in listed.reviews] == [sale_id]
    with pytest.raises(BackendRejected) as unknown:
        c1.claim_review("no-such-sale", reviewer_id="M01", idempotency_key="k-claim-3")
    assert unknown.value.status == 404

"""The till's heartbeat keeps the backend's contact bound holding while the till is idle.

Real till services (sync loop, checkout, outbox) against the real reference backend on
loopback, one injected clock for both. An idle till used to send nothing, so a cashier
could date a photographed code back into an idle moment and the backend, which had heard
nothing then, accepted it. Now the sync loop sends a signed heartbeat whenever it made no
signed request for ``backend.heartbeat_s``; an honest offline sale after a real outage is
still settled.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.core.api_contract import FinalizeBody, SaleLineBody
from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.errors import BackendRejected
from pos_app.terminal.services import TerminalServices
from pos_app.terminal.settings.schema import BackendSettings
from tests.terminal.checkout_support import TEA, Backend, Network, Wallet, basket, till

HEARTBEAT = ("GET", "/v1/terminals/heartbeat")
TICK_S = 5  # BackgroundSync's pass interval


@pytest.fixture
def services(
    backend: Backend, regular: Wallet, tmp_path: Path, network: Network
) -> Iterator[TerminalServices]:
    svc = till(backend, tmp_path, network, offline_after_s=90)  # the product's wait
    assert svc.sync is not None
    svc.sync.tick()  # fresh trust list (the enrollment one is a month old)
    yield svc
    svc.close()


def _idle(backend: Backend, services: TerminalServices, seconds: int) -> None:
    """The till sits idle: only its background loop runs, every TICK_S."""
    assert services.sync is not None
    for _ in range(seconds // TICK_S):
        backend.clock.advance(TICK_S)
        services.sync.tick()


def _offline_claim(backend: Backend, token: str, accepted_at: int) -> FinalizeBody:
    line: SaleLineBody = {"sku": TEA.gtin, "name": "Green tea", "category": "beverage",
        "quantity": 1, "unit_price": TEA.price, "line_total": TEA.price}  # fmt: skip
    return {
        "sale_id": str(uuid.uuid4()),
        "store_id": "S001",
        "terminal_id": "T01",
        "cashier_id": "C042",
        "token": token,
        "currency": "JPY",
        "total": TEA.price,
        "lines": [line],
        "terminal_risk": {"score": 0, "action": "allow", "reasons": []},
        "offline_accepted_at": accepted_at,
    }


def test_an_idle_till_keeps_in_contact_and_a_backdated_claim_is_refused(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    assert BackendSettings().heartbeat_s == 30
    network.log.clear()
    _idle(backend, services, 120)
    beats = network.log.count(HEARTBEAT)
    assert 3 <= beats <= 5, network.log  # about every 30 s, not every pass
    # A sale is a signed contact of its own: no heartbeat right after it.
    sale = services.checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
    paid = services.checkout.submit_token(sale.sale_id, backend.token(regular))
    assert paid.phase is PaymentPhase.APPROVED
    network.log.clear()
    _idle(backend, services, 25)
    assert HEARTBEAT not in network.log

    # The insider's move: photograph a customer's code at the idle till, send it minutes
    # later (expired online) with the till's own key as an "offline" sale dated back.
    token = backend.token(regular)
    photographed_at = backend.clock.now()
    _idle(backend, services, 300)
    assert services.client is not None
    with pytest.raises(BackendRejected) as refused:
        services.client.finalize(
            _offline_claim(backend, token, photographed_at + 10),
            idempotency_key=f"backdated-{uuid.uuid4().hex}",
        )
    assert (refused.value.status, refused.value.code) == (422, "bad_offline_time")
    assert backend.balance(regular) == 20_000 - TEA.price  # only the honest sale


def test_an_honest_offline_sale_after_a_real_outage_is_settled(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    _idle(backend, services, 60)  # online and idle: heartbeats
    network.mode = "down"  # the store's line goes; the heartbeats now fail
    _idle(backend, services, 100)  # past payment.offline_after_s since the last answer
    sale = services.checkout.start_payment(basket((TEA, 2)), cashier_id="C042")
    update = services.checkout.submit_token(sale.sale_id, backend.token(regular))
    assert update.phase is PaymentPhase.OFFLINE_ACCEPTED, update
    _idle(backend, services, 200)
    network.mode = "up"
    _idle(backend, services, 30)  # a heartbeat gets through, the outbox sends the sale
    assert services.drainer is not None
    services.drainer.drain_once(ignore_backoff=True)
    row = services.store.query("SELECT state, reason FROM sales WHERE sale_id = ?", (sale.sale_id,))
    assert (row[0]["state"], row[0]["reason"]) == ("approved", None)
    assert backend.balance(regular) == 20_000 - 2 * TEA.price

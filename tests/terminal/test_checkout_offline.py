"""Offline acceptance, the outbox and reconciliation, against the real reference backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.core.api_contract import FinalizeBody
from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.services import TerminalServices, build_services
from tests.terminal.checkout_support import (
    BENTO,
    CARTON,
    DAY,
    TEA,
    Backend,
    Network,
    TillCrashed,
    Wallet,
    basket,
    synced_till,
    terminal_settings,
    till,
)


@pytest.fixture
def services(
    backend: Backend, regular: Wallet, tmp_path: Path, network: Network
) -> Iterator[TerminalServices]:
    yield from synced_till(backend, tmp_path, network)


def _sale_rows(services: TerminalServices) -> list[tuple[str, str, int]]:
    rows = services.store.query("SELECT sale_id, state, offline FROM sales ORDER BY created_at")
    return [(r["sale_id"], r["state"], r["offline"]) for r in rows]


def _outbox(services: TerminalServices) -> list[tuple[str, str]]:
    """Outbox entries, without the write-ahead lookups of answered online requests."""
    rows = services.store.query(
        "SELECT kind, state FROM outbox WHERE NOT (kind = 'reconcile' AND state = 'done')"
        " ORDER BY id"
    )
    return [(r["kind"], r["state"]) for r in rows]


def _pay(services: TerminalServices, backend: Backend, wallet: Wallet, *items: object) -> object:
    sale = services.checkout.start_payment(basket(*items), cashier_id="C042")  # type: ignore[arg-type]
    return services.checkout.submit_token(sale.sale_id, backend.token(wallet))


def test_outbox_drains_in_order_after_an_outage_and_never_charges_twice(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "down"
    first = _pay(services, backend, regular, (TEA, 2))
    second = _pay(services, backend, regular, (TEA, 1))
    for update in (first, second):
        assert update.phase is PaymentPhase.OFFLINE_ACCEPTED, update  # type: ignore[attr-defined]
        assert update.offline  # type: ignore[attr-defined]
    status = services.checkout.status()
    assert (status.online, status.outbox_pending) == (False, 2)
    assert len(services.store.query("SELECT cti FROM seen_tokens")) == 2
    assert backend.balance(regular) == 20_000

    network.mode = "up"
    network.log.clear()
    assert services.drainer is not None
    report = services.drainer.drain_once()
    assert (report.sent, report.remaining) == (2, 0)
    posted = [p for m, p in network.log if m == "POST"]
    assert posted == ["/v1/sales", "/v1/sales"]
    ids = [sid for sid, _, _ in _sale_rows(services)]
    assert ids == [first.sale_id, second.sale_id]  # type: ignore[attr-defined]
    assert backend.balance(regular) == 20_000 - 280 - 140
    assert all(state == "approved" for _, state, _ in _sale_rows(services))
    auth = services.store.query("SELECT authorization_id FROM sales")
    assert all(r["authorization_id"] for r in auth)
    assert _outbox(services) == [("finalize", "done"), ("finalize", "done")]
    assert services.drainer.drain_once().sent == 0
    assert backend.balance(regular) == 20_000 - 280 - 140


def test_offline_needs_the_risk_engine_to_allow_and_steps_19_to_21(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "down"
    newcomer = backend.new_wallet(balance=5_000)  # new device: its codes have limit 0
    cases = [
        (newcomer, (TEA, 1), "online_required"),  # step 20
        (regular, (BENTO, 11), "over_offline_limit"),  # step 21: 11,000 > 10,000
        (regular, (CARTON, 1), "online_required"),  # risk: a carton offline is not 'allow'
    ]
    for wallet, item, reason in cases:
        update = _pay(services, backend, wallet, item)
        assert (update.phase, update.reason) == (PaymentPhase.DECLINED, reason)  # type: ignore[attr-defined]
    assert services.store.query("SELECT cti FROM seen_tokens") == []
    assert _outbox(services) == []
    assert services.checkout.status().outbox_pending == 0
    allowed = _pay(services, backend, regular, (TEA, 1))
    assert allowed.phase is PaymentPhase.OFFLINE_ACCEPTED  # type: ignore[attr-defined]


def test_a_stale_trust_list_stops_offline_acceptance(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "down"
    backend.clock.advance(3 * DAY)  # next_update (1 day) + grace (1 day) has passed
    update = _pay(services, backend, regular, (TEA, 1))
    assert (update.phase, update.reason) == (PaymentPhase.DECLINED, "trust_list_stale")  # type: ignore[attr-defined]
    assert services.checkout.status().trust_list_stale
    network.mode = "up"  # online sales go on with a stale list
    assert _pay(services, backend, regular, (TEA, 1)).phase is PaymentPhase.APPROVED  # type: ignore[attr-defined]


def test_offline_disabled_declines_when_the_backend_is_down(
    backend: Backend, regular: Wallet, tmp_path: Path, network: Network
) -> None:
    services = till(backend, tmp_path, network, allow_offline=False)
    try:
        assert services.sync is not None
        services.sync.tick()
        network.mode = "down"
        update = _pay(services, backend, regular, (TEA, 1))
        assert (update.phase, update.reason) == (PaymentPhase.DECLINED, "backend_unavailable")  # type: ignore[attr-defined]
    finally:
        services.close()


def test_timeout_after_the_request_reached_the_backend_is_reconciled_with_get(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "lose_answer_once"
    update = _pay(services, backend, regular, (TEA, 2))
    assert update.phase is PaymentPhase.APPROVED and update.authorization_id  # type: ignore[attr-defined]
    sale_id = update.sale_id  # type: ignore[attr-defined]
    # Background sync may also post the audit chain; the sale itself is sent exactly once.
    sales = [(m, p) for m, p in network.log if p.startswith("/v1/sales")]
    assert [p for m, p in sales if m == "POST"] == ["/v1/sales"]  # looked up, never sent twice
    assert sales[-1] == ("GET", f"/v1/sales/{sale_id}")
    assert backend.balance(regular) == 20_000 - 280
    assert services.checkout.status().outbox_pending == 0


def test_unknown_outcome_stays_verifying_until_a_poll_can_look_it_up(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "lose_then_down"
    update = _pay(services, backend, regular, (TEA, 2))
    assert (update.phase, update.reason) == (PaymentPhase.VERIFYING, "outcome_unknown")  # type: ignore[attr-defined]
    sale_id = update.sale_id  # type: ignore[attr-defined]
    assert _sale_rows(services)[0][1] == "authorizing"
    assert _outbox(services) == [("reconcile", "pending")]
    assert backend.balance(regular) == 20_000 - 280  # it did reach the backend
    assert services.checkout.poll(sale_id).phase is PaymentPhase.VERIFYING  # still down
    network.mode = "up"
    network.log.clear()
    done = services.checkout.poll(sale_id)
    assert done.phase is PaymentPhase.APPROVED and done.authorization_id
    assert network.log == [("GET", f"/v1/sales/{sale_id}")]
    assert backend.balance(regular) == 20_000 - 280
    assert services.checkout.status().outbox_pending == 0


def test_an_unknown_outcome_is_resolved_in_the_background_if_the_cashier_left(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "lose_then_down"
    update = _pay(services, backend, regular, (TEA, 1))
    assert update.phase is PaymentPhase.VERIFYING  # type: ignore[attr-defined]
    assert services.drainer is not None
    network.mode = "up"
    network.log.clear()
    assert services.drainer.drain_once().sent == 1
    assert [m for m, _ in network.log] == ["GET"]
    assert _sale_rows(services)[0][1] == "approved"
    assert len(services.store.query("SELECT 1 FROM seen_tokens")) == 1
    assert len(services.store.query("SELECT 1 FROM reviews WHERE status = 'open'")) == 1


def test_a_timed_out_request_the_backend_never_saw_is_sent_again_after_the_lookup(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "timeout_unsent_once"
    update = _pay(services, backend, regular, (TEA, 1))
    assert update.phase is PaymentPhase.APPROVED  # type: ignore[attr-defined]
    sale_id = update.sale_id  # type: ignore[attr-defined]
    assert network.log[-3:] == [
        ("POST", "/v1/sales"),
        ("GET", f"/v1/sales/{sale_id}"),  # 404: it never arrived
        ("POST", "/v1/sales"),  # the same request, same Idempotency-Key
    ]
    assert backend.balance(regular) == 20_000 - 140


def test_offline_sale_whose_answer_is_lost_is_looked_up_before_it_is_sent_again(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "down"
    update = _pay(services, backend, regular, (TEA, 2))
    assert update.phase is PaymentPhase.OFFLINE_ACCEPTED  # type: ignore[attr-defined]
    assert services.drainer is not None
    network.mode = "lose_answer_once"
    blocked = services.drainer.drain_once()
    assert blocked.sent == 0 and blocked.remaining == 1
    assert _outbox(services) == [("finalize", "unknown")]
    network.log.clear()
    assert services.drainer.drain_once(ignore_backoff=True).sent == 1
    assert network.log == [("GET", f"/v1/sales/{update.sale_id}")]  # type: ignore[attr-defined]
    assert backend.balance(regular) == 20_000 - 280
    assert _sale_rows(services)[0][1] == "approved"


def test_a_declined_offline_sale_becomes_an_offline_loss_for_review(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "down"
    update = _pay(services, backend, regular, (TEA, 1))
    assert update.phase is PaymentPhase.OFFLINE_ACCEPTED  # type: ignore[attr-defined]
    backend.wallet_post(regular, f"/v1/wallets/{regular.wallet_id}/freeze")
    network.mode = "up"
    assert services.drainer is not None
    assert services.drainer.drain_once().sent == 1
    row = services.store.query("SELECT state, reason FROM sales")[0]
    assert (row["state"], row["reason"]) == ("approved", "wallet_frozen")
    assert len(services.store.query("SELECT 1 FROM reviews WHERE status = 'open'")) == 1
    events = [r["detail"] for r in services.store.query("SELECT detail FROM sale_events")]
    assert "offline_loss:wallet_frozen" in events


def test_void_of_an_offline_sale_waits_behind_its_finalize(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "down"
    update = _pay(services, backend, regular, (TEA, 1))
    signer = backend.manager(services.store, "M01")  # signs offline: no network needed
    sale_id = update.sale_id  # type: ignore[attr-defined]
    voided = services.checkout.void(sale_id, manager_id="M01", reason="wrong item", signer=signer)
    assert voided.phase is PaymentPhase.VOIDED
    assert _outbox(services) == [("finalize", "pending"), ("void", "pending")]
    network.mode = "up"
    assert services.drainer is not None
    assert services.drainer.drain_once().sent == 2
    assert backend.balance(regular) == 20_000  # settled, then reversed
    # The settlement must not turn the voided sale back into a paid one (fault harness).
    row = services.store.query("SELECT state, authorization_id FROM sales")[0]
    assert row["state"] == "voided" and row["authorization_id"]


def test_same_idempotency_key_and_body_never_charge_twice(
    backend: Backend, regular: Wallet, services: TerminalServices
) -> None:
    client = services.client
    assert client is not None
    body: FinalizeBody = {
        "sale_id": "retry-1", "store_id": "S001", "terminal_id": "T01", "cashier_id": "C042",
        "token": backend.token(regular), "currency": "JPY", "total": 140,
        "lines": [basket((TEA, 1))[0].as_api()],
        "terminal_risk": {"score": 0, "action": "allow", "reasons": []},
        "offline_accepted_at": None,
    }  # fmt: skip
    first = client.finalize(body, idempotency_key="sale-retry-1")
    second = client.finalize(body, idempotency_key="sale-retry-1")
    assert first.status == second.status == "approved"
    assert first.authorization_id == second.authorization_id
    assert backend.balance(regular) == 20_000 - 140


def test_a_crash_while_the_request_was_out_is_reconciled_on_the_next_start(
    backend: Backend, regular: Wallet, tmp_path: Path, network: Network
) -> None:
    services = till(backend, tmp_path, network)
    assert services.sync is not None
    services.sync.tick()
    network.mode = "crash_after_send"
    with pytest.raises(TillCrashed):
        _pay(services, backend, regular, (TEA, 1))
    services.close()
    assert backend.balance(regular) == 20_000 - 140  # the backend did approve it

    network.mode = "up"
    settings = terminal_settings(backend, tmp_path / "terminal")
    restarted = build_services(settings, transport=network, clock=backend.clock.now)
    try:
        assert restarted.checkout.status().outbox_pending == 1
        assert restarted.drainer is not None
        assert restarted.drainer.drain_once().sent == 1
        row = restarted.store.query("SELECT state, authorization_id FROM sales")[0]
        assert row["state"] == "approved" and row["authorization_id"]
        assert backend.balance(regular) == 20_000 - 140
    finally:
        restarted.close()


def test_used_codes_are_forgotten_only_after_they_expire(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    network.mode = "down"
    assert _pay(services, backend, regular, (TEA, 1)).phase is PaymentPhase.OFFLINE_ACCEPTED  # type: ignore[attr-defined]
    assert services.sync is not None
    services.sync.tick()
    assert len(services.store.query("SELECT 1 FROM seen_tokens")) == 1
    backend.clock.advance(180 + 31)  # token lifetime + skew
    services.sync.tick()
    assert services.store.query("SELECT 1 FROM seen_tokens") == []


def test_status_says_unknown_until_the_backend_answered_or_failed(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    """Issue 13 #6: no "Backend online" before any contact, none with the backend down."""
    client = services.checkout._client
    assert client is not None
    client.last_contact_at = client.last_failure_at = None  # as at start, before contact
    assert not services.checkout.status().backend_known
    network.mode = "down"
    _pay(services, backend, regular, (TEA, 1))
    status = services.checkout.status()
    assert status.backend_known and not status.online

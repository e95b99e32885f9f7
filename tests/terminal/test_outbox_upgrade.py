"""An upgraded till drains the outbox its previous version wrote: a queued void is stored
as a3a26bf stored it (same JSON, byte for byte) and one stored that way goes through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.services import TerminalServices
from tests.terminal.checkout_support import TEA, Backend, Network, Wallet, basket, synced_till


@pytest.fixture
def services(
    backend: Backend, regular: Wallet, tmp_path: Path, network: Network
) -> Iterator[TerminalServices]:
    yield from synced_till(backend, tmp_path, network)


def test_a_void_queued_offline_is_stored_and_drained_as_the_previous_version_did(
    backend: Backend, regular: Wallet, services: TerminalServices, network: Network
) -> None:
    checkout = services.checkout
    network.mode = "down"
    sale = checkout.start_payment(basket((TEA, 2)), cashier_id="C042")
    paid = checkout.submit_token(sale.sale_id, backend.token(regular))
    assert paid.phase is PaymentPhase.OFFLINE_ACCEPTED
    signer = backend.manager(services.store, "M01")
    voided = checkout.void(paid.sale_id, manager_id="M01", reason="wrong item", signer=signer)
    assert voided.phase is PaymentPhase.VOIDED
    [row] = services.store.query("SELECT id, payload FROM outbox WHERE kind = 'void'")
    stored = json.loads(row["payload"])
    proof = stored["manager_approval"]
    # What a3a26bf's cancel_entry wrote: the id, the reason, then the manager's proof.
    previous = {
        "server_sale_id": paid.sale_id,
        "reason": "wrong item",
        "manager_approval": {
            "manager_id": "M01",
            "approved_at": proof["approved_at"],
            "signature": proof["signature"],
        },
    }
    written_before = json.dumps(previous, separators=(",", ":"))
    assert row["payload"] == written_before
    with services.store.transaction() as conn:  # as the previous version left it
        conn.execute("UPDATE outbox SET payload = ? WHERE id = ?", (written_before, row["id"]))
    network.mode = "up"
    assert services.drainer is not None
    services.drainer.drain_once(ignore_backoff=True)
    assert backend.balance(regular) == 20_000  # charged when settled, refunded by the void
    assert checkout.status().outbox_pending == 0
    assert checkout.status().outbox_failed == 0

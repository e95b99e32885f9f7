"""A void moves money: the backend wants a manager's proof for it (issue 15).

``POST /v1/sales/{id}/cancel`` on an approved sale refunds the wallet. A cashier and a
customer working together used to undo paid sales from the till with the terminal key
alone: the goods left, the money came back. Now a void of an approved sale needs a
signature by a manager enrolled for the store over this sale's id, amount and reason;
without one it is 403 ``manager_required`` and the wallet keeps its debit. Cancelling a
sale still waiting for the customer's approval moves no money and stays the till's call.
"""

from __future__ import annotations

from typing import Any

from pos_app.server import admin
from pos_app.server.settings import ServerSettings
from tests.fake_clock import FakeClock
from tests.server.server_support import Manager, World


def _paid(world: World, wallet: Any) -> dict[str, Any]:
    body = world.sale_body(world.token(wallet))
    assert world.sell(body).json()["status"] == "approved"
    return body


def _cancel(world: World, sale_id: str, body: Any) -> Any:
    return world.api.post(f"/v1/sales/{sale_id}/cancel", body, signer=world.terminal)


def _balance(world: World, wallet: Any) -> int:
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    return int(info["balance"])


def _status(world: World, sale_id: str) -> str:
    view = world.api.get(f"/v1/sales/{sale_id}", signer=world.terminal).json()
    return str(view["status"])


def _refused(resp: Any) -> bool:
    return bool(resp.status_code == 403 and resp.json()["error"] == "manager_required")


def test_a_cashier_alone_cannot_void_a_paid_sale(world: World) -> None:
    wallet = world.new_wallet(balance=1_000)
    sale = _paid(world, wallet)
    now = world.api.clock.now()
    attempts = [
        None,  # the bare cancel the till used to send
        {},
        {"reason": "customer changed mind"},
        # A cashier's own "manager key" from any passphrase: not enrolled for the store.
        Manager.derive("C042", "my-own-secret-passphrase").void(sale, at=now),
        # M1's id with a key that is not M1's (the terminal's own key).
        Manager("M1", "S001", world.terminal.key).void(sale, at=now),
        # M1's real key, derived for another store: not enrolled for S001.
        Manager.derive("M1", "k7mp-2xqa-9rtd-hw4e", store_id="S002").void(sale, at=now),
    ]
    for body in attempts:
        resp = _cancel(world, sale["sale_id"], body)
        assert _refused(resp), (body, resp.text)
    assert _balance(world, wallet) == 1_000 - sale["total"]
    assert _status(world, sale["sale_id"]) == "approved"


def test_a_manager_signed_void_refunds_once(world: World, settings: ServerSettings) -> None:
    wallet = world.new_wallet(balance=1_000)
    sale = _paid(world, wallet)
    signed = world.managers["M1"].void(sale, at=world.api.clock.now(), reason="wrong item")
    resp = _cancel(world, sale["sale_id"], signed)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "cancelled"
    assert _balance(world, wallet) == 1_000
    # Replayed with fresh Idempotency-Keys, now and later: the sale is void already, no
    # second refund.
    for _ in range(2):
        again = _cancel(world, sale["sale_id"], signed)
        assert again.status_code == 200 and again.json()["status"] == "cancelled"
        world.api.clock.advance(3600)
    assert _balance(world, wallet) == 1_000
    report = admin.check_ledger(settings.data_dir, settings.db_url)
    assert report["ok"] is True and report["journal_entries"] == 3  # top-up, sale, one void


def test_a_proof_for_one_sale_cannot_void_another(world: World) -> None:
    wallet = world.new_wallet(balance=2_000)
    first, second = _paid(world, wallet), _paid(world, wallet)
    assert first["total"] == second["total"]  # same amount, same store: only the id differs
    signed = world.managers["M1"].void(first, at=world.api.clock.now())
    assert _refused(_cancel(world, second["sale_id"], signed))
    assert _status(world, second["sale_id"]) == "approved"
    assert _balance(world, wallet) == 2_000 - 2 * first["total"]
    assert _cancel(world, first["sale_id"], signed).status_code == 200
    assert _balance(world, wallet) == 2_000 - first["total"]


def test_the_proof_binds_amount_reason_manager_and_time(world: World, clock: FakeClock) -> None:
    wallet = world.new_wallet(balance=5_000)
    sale = _paid(world, wallet)
    m1 = world.managers["M1"]
    signed = m1.void(sale, at=clock.now(), reason="wrong item")
    proof = signed["manager_approval"]
    for changed in (
        dict(signed, reason="customer changed mind"),
        {"manager_approval": proof},  # the reason dropped
        {**signed, "manager_approval": dict(proof, approved_at=proof["approved_at"] + 1)},
        {**signed, "manager_approval": dict(proof, manager_id="M2")},
        m1.void(dict(sale, total=sale["total"] + 1), at=clock.now(), reason="wrong item"),
        m1.void(sale, at=clock.now() - 3600, reason="wrong item"),  # before the sale
        m1.void(sale, at=clock.now() + 120, reason="wrong item"),  # from the future
    ):
        assert _refused(_cancel(world, sale["sale_id"], changed)), changed
    # M1's signature for another purpose on this very sale (a review decision): not a void.
    decision = m1.decision(sale["sale_id"], "approve", at=clock.now(), note="wrong item")
    borrowed = dict(proof, approved_at=clock.now(), signature=decision["signature"])
    assert _refused(_cancel(world, sale["sale_id"], {**signed, "manager_approval": borrowed}))
    clock.advance(73 * 3600)  # a proof queued too long on a till: stale
    assert _refused(_cancel(world, sale["sale_id"], signed))
    assert _balance(world, wallet) == 5_000 - sale["total"]
    fresh = m1.void(sale, at=clock.now(), reason="wrong item")
    assert _cancel(world, sale["sale_id"], fresh).status_code == 200
    assert _balance(world, wallet) == 5_000


def test_a_revoked_manager_cannot_void(world: World, settings: ServerSettings) -> None:
    wallet = world.new_wallet(balance=1_000)
    sale = _paid(world, wallet)
    signed = world.managers["M2"].void(sale, at=world.api.clock.now())
    admin.revoke_manager(settings.data_dir, settings.db_url, store_id="S001", manager_id="M2")
    assert _refused(_cancel(world, sale["sale_id"], signed))
    assert _balance(world, wallet) == 1_000 - sale["total"]


def test_cancelling_a_waiting_sale_needs_no_manager(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    tobacco = [
        {
            "sku": "4901234567001",
            "name": "Item",
            "category": "heated_tobacco",
            "quantity": 10,
            "unit_price": 600,
            "line_total": 6_000,
        }
    ]
    body = world.sale_body(world.token(wallet), lines=tobacco)
    assert world.sell(body).json()["status"] == "step_up_required"
    resp = _cancel(world, body["sale_id"], {"reason": "customer left"})
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    assert _balance(world, wallet) == 20_000  # nothing was debited, nothing refunded

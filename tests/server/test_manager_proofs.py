"""Manager actions carry proof: the backend tells a manager from a cashier.

The red-team trial: a decision with ``reviewer_id: "C042"`` (a cashier) was accepted
and ``confirmed_fraud`` froze the wallet; ``manager_approval.manager_id`` was free
text in a terminal-signed request. Now both need a signature by the manager's own
enrolled key; a terminal key alone never suffices (403 ``manager_required``).
"""

from __future__ import annotations

from typing import Any

from pos_app.paytoken import manager_proof
from pos_app.server import admin
from tests.fake_clock import FakeClock
from tests.server.server_support import TEST_KDF_N, Manager, World, line

TOBACCO = [line("4901234567001", "heated_tobacco", 10, 600)]
RISKY = {"score": 50, "action": "manager_approval", "reasons": ["t"]}


def _flagged(world: World) -> tuple[str, Any]:
    wallet = world.new_wallet(balance=20_000)
    body = world.sale_body(world.token(wallet), lines=TOBACCO)
    assert world.sell(body).json()["status"] == "step_up_required"
    return body["sale_id"], wallet


def _frozen(world: World, wallet: Any) -> bool:
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    return bool(info["frozen"])


def _refused(resp: Any) -> bool:
    return bool(resp.status_code == 403 and resp.json()["error"] == "manager_required")


def test_a_cashier_id_cannot_make_a_manager_decision(world: World) -> None:
    sale_id, wallet = _flagged(world)
    path = f"/v1/reviews/{sale_id}/decision"
    bare = {"decision": "confirmed_fraud", "reviewer_id": "C042", "note": "x"}
    assert _refused(world.api.post(path, bare, signer=world.terminal))
    # A cashier who derives a "manager key" for their own id from any passphrase: not enrolled.
    cashier = Manager.derive("C042", "my-own-secret-passphrase")
    forged = cashier.decision(sale_id, "confirmed_fraud", at=world.api.clock.now())
    assert _refused(world.api.post(path, forged, signer=world.terminal))
    # M1's id with a key that is not M1's (the till's own terminal key, say): refused.
    impostor = Manager("M1", "S001", world.terminal.key)
    forged = impostor.decision(sale_id, "confirmed_fraud", at=world.api.clock.now())
    assert _refused(world.api.post(path, forged, signer=world.terminal))
    assert not _frozen(world, wallet)
    row = _row(world, sale_id)
    assert row["review_status"] == "pending" and row["decisions"] == []
    # The real manager's signed decision works, and is recorded as M1's.
    assert world.decide(sale_id, "confirmed_fraud", reviewer="M1").status_code == 200
    assert _frozen(world, wallet)


def test_a_signature_binds_sale_decision_note_and_time(world: World, clock: FakeClock) -> None:
    sale_id, wallet = _flagged(world)
    other_id, _ = _flagged(world)
    m1 = world.managers["M1"]
    signed = m1.decision(sale_id, "escalate", at=clock.now(), note="call head office")
    path = f"/v1/reviews/{sale_id}/decision"
    for changed in (
        dict(signed, decision="confirmed_fraud"),
        dict(signed, note="owner confirmed"),
        dict(signed, decided_at=signed["decided_at"] + 1),
        dict(signed, reviewer_id="M2"),
    ):
        assert _refused(world.api.post(path, changed, signer=world.terminal))
    assert _refused(
        world.api.post(f"/v1/reviews/{other_id}/decision", signed, signer=world.terminal)
    )
    assert world.api.post(path, signed, signer=world.terminal).status_code == 200
    # The same signed decision again (a fresh Idempotency-Key): applied once only.
    again = world.api.post(path, signed, signer=world.terminal)
    assert _refused(again) and "already applied" in again.json()["detail"]
    # Too old or from the future.
    old = m1.decision(sale_id, "approve", at=clock.now() - 73 * 3600)
    assert _refused(world.api.post(path, old, signer=world.terminal))
    ahead = m1.decision(sale_id, "approve", at=clock.now() + 120)
    assert _refused(world.api.post(path, ahead, signer=world.terminal))
    assert not _frozen(world, wallet)


def test_a_decision_queued_offline_is_accepted_hours_later(world: World, clock: FakeClock) -> None:
    sale_id, _ = _flagged(world)
    signed = world.managers["M2"].decision(sale_id, "reject", at=clock.now(), note="not her")
    clock.advance(20 * 3600)
    resp = world.api.post(f"/v1/reviews/{sale_id}/decision", signed, signer=world.terminal)
    assert resp.status_code == 200, resp.text
    assert _row(world, sale_id)["decisions"][0]["reviewer_id"] == "M2"


def test_manager_of_another_store_or_revoked_is_refused(
    world: World, settings: Any, clock: FakeClock
) -> None:
    sale_id, _ = _flagged(world)
    elsewhere = Manager.derive("M9", "vw3k-8mqp-2rta-hc6d", store_id="S002")
    admin.enroll_manager(
        settings.data_dir,
        settings.db_url,
        store_id="S002",
        manager_id="M9",
        public_key=manager_proof.public_key_b64(elsewhere.key),
        clock=clock,
    )
    signed = elsewhere.decision(sale_id, "approve", at=clock.now())
    assert _refused(
        world.api.post(f"/v1/reviews/{sale_id}/decision", signed, signer=world.terminal)
    )
    done = admin.revoke_manager(
        settings.data_dir, settings.db_url, store_id="S001", manager_id="M1", clock=clock
    )
    assert done["revoked_keys"] == 1
    assert _refused(world.decide(sale_id, "approve", reviewer="M1"))
    assert world.decide(sale_id, "approve", reviewer="M2").status_code == 200


def test_manager_approval_on_a_sale_needs_the_managers_signature(
    world: World, clock: FakeClock
) -> None:
    wallet = world.new_wallet(balance=20_000)
    clock.advance(31 * 86400)  # old account, old device: a manager may approve
    body = world.sale_body(world.token(wallet), terminal_risk=RISKY)
    # What a cashier could send before: a manager id in the terminal-signed body.
    assert _refused(world.sell(dict(body, manager_approval={"manager_id": "M1", "reason": "ok"})))
    approval = world.managers["M1"].approval(body, reason="checked ID", at=clock.now())
    for changed in (
        dict(body, total=body["total"] + 1, lines=[line("1", "beverage", 1, body["total"] + 1)]),
        dict(body, token=world.token(wallet)),  # another customer's code
        dict(body, manager_approval=dict(approval, reason="other")),
        dict(body, manager_approval=dict(approval, manager_id="M2")),
    ):
        sent = dict(changed)
        sent.setdefault("manager_approval", approval)
        assert _refused(world.sell(sent))
    stale = world.managers["M1"].approval(body, reason="checked ID", at=clock.now() - 301)
    assert _refused(world.sell(dict(body, manager_approval=stale)))
    decided = world.sell(dict(body, manager_approval=approval)).json()
    assert decided["status"] == "approved", decided
    assert _row(world, body["sale_id"])["manager_approval"] == {
        "manager_id": "M1",
        "reason": "checked ID",
    }


def test_offline_manager_approval_is_judged_at_the_offline_moment(
    world: World, clock: FakeClock
) -> None:
    """The till was offline: the manager signed at the counter; the till syncs an hour later."""
    wallet = world.new_wallet(balance=20_000)
    clock.advance(31 * 86400)
    token = world.token(wallet)
    accepted = clock.now()
    body = world.sale_body(token, terminal_risk=RISKY, offline_accepted_at=accepted)
    body["manager_approval"] = world.managers["M1"].approval(body, reason="regular", at=accepted)
    clock.advance(120)
    decided = world.sell(body).json()
    assert decided["status"] == "approved", decided
    assert _row(world, body["sale_id"])["manager_approval"]["manager_id"] == "M1"


def test_kdf_cost_of_the_product_is_memory_hard() -> None:
    """The shipped cost: 128 MiB scrypt per guess (tests use TEST_KDF_N for speed)."""
    assert manager_proof.KDF_N == 2**17 and manager_proof.KDF_R == 8
    assert TEST_KDF_N < manager_proof.KDF_N


def _row(world: World, sale_id: str) -> dict[str, Any]:
    listed = world.api.get("/v1/reviews?store_id=S001", signer=world.terminal).json()
    rows: list[dict[str, Any]] = [r for r in listed["reviews"] if r["sale_id"] == sale_id]
    (row,) = rows
    return row

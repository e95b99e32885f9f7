"""Step-up challenges, cancel/void, reviews and freezing."""

from __future__ import annotations

from typing import Any

import httpx

from pos_app.paytoken import httpsig, keys
from pos_app.server import admin
from pos_app.server.settings import ServerSettings
from tests.fake_clock import FakeClock
from tests.server.server_support import WalletHandle, World, line

TOBACCO = [line("4900000000001", "heated_tobacco", 2, 5800, name="Heated tobacco carton")]


def _step_up_sale(
    world: World, wallet: WalletHandle, **extra: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    body = world.sale_body(world.token(wallet), lines=TOBACCO, **extra)
    decision = world.sell(body).json()
    assert decision["status"] == "step_up_required", decision
    return body, decision


def _sign(
    wallet: WalletHandle,
    body: dict[str, Any],
    challenge_id: str,
    decision: str,
    *,
    total: int | None = None,
) -> str:
    message = httpsig.step_up_message(
        challenge_id,
        "JPY",
        decision,
        body["sale_id"],
        body["store_id"],
        body["total"] if total is None else total,
    )
    return keys.b64url_encode(wallet.signer.key.sign(message))


def _answer(
    world: World, wallet: WalletHandle, challenge_id: str, decision: str, signature: str
) -> httpx.Response:
    return world.api.post(
        f"/v1/step-ups/{challenge_id}/{decision}", {"signature": signature}, signer=wallet.signer
    )


def test_backend_escalates_despite_terminal_allow_and_owner_approves(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    body, decision = _step_up_sale(world, wallet)
    assert decision["risk"]["action"] == "customer_approval"
    # Each rule the backend fired travels with its inputs (BACKEND-API.md, wave 2).
    details = decision["risk"]["details"]
    assert [d["code"] for d in details] == decision["risk"]["reasons"]
    above = next(d for d in details if d["code"] == "cash_convertible_above_history")
    assert above["inputs"]["cash_convertible_24h"] == 11_600
    assert set(details[0]) == {"code", "inputs"}
    challenge = decision["step_up"]["challenge_id"]
    assert decision["step_up"]["expires_at"] > world.api.clock.now()
    pending = world.api.get(f"/v1/wallets/{wallet.wallet_id}/step-ups", signer=wallet.signer).json()
    (item,) = pending["step_ups"]
    assert (item["challenge_id"], item["store_id"], item["total"]) == (challenge, "S001", 11_600)
    assert item["basket"][0]["name"] == "Heated tobacco carton"
    resp = _answer(world, wallet, challenge, "approve", _sign(wallet, body, challenge, "approve"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["sale"]["status"] == "approved"
    polled = world.api.get(f"/v1/sales/{body['sale_id']}", signer=world.terminal).json()
    assert polled["status"] == "approved" and polled["step_up"] is None
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 20_000 - 11_600


def test_signature_over_other_amount_or_decision_refused(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    body, decision = _step_up_sale(world, wallet)
    challenge = decision["step_up"]["challenge_id"]
    for sig in (
        _sign(wallet, body, challenge, "approve", total=1),
        _sign(wallet, body, challenge, "deny"),
        keys.b64url_encode(keys.generate_keypair().sign(b"x")),
    ):
        resp = _answer(world, wallet, challenge, "approve", sig)
        assert resp.status_code == 403 and resp.json()["error"] == "bad_step_up_signature"
    still = world.api.get(f"/v1/sales/{body['sale_id']}", signer=world.terminal).json()
    assert still["status"] == "step_up_required"


def test_owner_denies(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    body, decision = _step_up_sale(world, wallet)
    challenge = decision["step_up"]["challenge_id"]
    resp = _answer(world, wallet, challenge, "deny", _sign(wallet, body, challenge, "deny"))
    assert resp.status_code == 200 and resp.json()["sale"]["reason"] == "step_up_denied"
    again = _answer(world, wallet, challenge, "approve", _sign(wallet, body, challenge, "approve"))
    assert again.status_code == 422 and again.json()["error"] == "step_up_not_pending"


def test_step_up_expires(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    body, decision = _step_up_sale(world, wallet)
    challenge = decision["step_up"]["challenge_id"]
    world.api.clock.advance(121)
    polled = world.api.get(f"/v1/sales/{body['sale_id']}", signer=world.terminal).json()
    assert (polled["status"], polled["reason"]) == ("declined", "step_up_expired")
    late = _answer(world, wallet, challenge, "approve", _sign(wallet, body, challenge, "approve"))
    assert late.status_code == 422 and late.json()["error"] == "step_up_expired"


def test_other_wallet_cannot_answer(world: World) -> None:
    wallet, other = world.new_wallet(balance=20_000), world.new_wallet()
    body, decision = _step_up_sale(world, wallet)
    challenge = decision["step_up"]["challenge_id"]
    resp = _answer(world, other, challenge, "approve", _sign(wallet, body, challenge, "approve"))
    assert resp.status_code == 403
    assert _answer(world, wallet, "nope", "approve", "A" * 86).status_code == 404


def test_approval_with_insufficient_funds_declines(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    body, decision = _step_up_sale(world, wallet)
    challenge = decision["step_up"]["challenge_id"]
    world.sell(world.sale_body(world.token(wallet), lines=[line("1", "food", 1, 15_000)]))
    resp = _answer(world, wallet, challenge, "approve", _sign(wallet, body, challenge, "approve"))
    assert resp.json()["sale"]["reason"] == "insufficient_funds"


def test_manager_approval_does_not_replace_owner_on_takeover_signals(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    body = world.sale_body(
        world.token(wallet),
        lines=TOBACCO,
        terminal_risk={"score": 50, "action": "manager_approval", "reasons": ["t"]},
    )
    body["manager_approval"] = world.managers["M1"].approval(
        body, reason="regular customer", at=world.api.clock.now()
    )
    decision = world.sell(body).json()
    # The backend sees takeover flags (new device): only the owner can approve.
    assert decision["status"] == "step_up_required"


def test_manager_approval_accepted_when_override_allowed(
    world: World, settings: ServerSettings, clock: FakeClock
) -> None:
    wallet = world.new_wallet(balance=20_000)
    clock.advance(31 * 86400)  # old account, old device: no takeover flags
    body = world.sale_body(
        world.token(wallet),
        terminal_risk={"score": 50, "action": "manager_approval", "reasons": ["t"]},
    )
    body["manager_approval"] = world.managers["M1"].approval(
        body, reason="checked ID", at=clock.now()
    )
    decision = world.sell(body).json()
    assert decision["status"] == "approved", decision
    flagged = world.api.get("/v1/reviews?store_id=S001&status=pending", signer=world.terminal)
    (row,) = [r for r in flagged.json()["reviews"] if r["sale_id"] == body["sale_id"]]
    assert row["manager_approval"] == {"manager_id": "M1", "reason": "checked ID"}
    without = world.sell(
        world.sale_body(
            world.token(wallet),
            terminal_risk={"score": 50, "action": "manager_approval", "reasons": ["t"]},
        )
    ).json()
    assert without["status"] == "step_up_required"


def test_cancel_waiting_sale(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    body, decision = _step_up_sale(world, wallet)
    resp = world.api.post(f"/v1/sales/{body['sale_id']}/cancel", {}, signer=world.terminal)
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    pending = world.api.get(f"/v1/wallets/{wallet.wallet_id}/step-ups", signer=wallet.signer)
    assert pending.json()["step_ups"] == []
    challenge = decision["step_up"]["challenge_id"]
    late = _answer(world, wallet, challenge, "approve", _sign(wallet, body, challenge, "approve"))
    assert late.status_code == 422


def test_void_reverses_debit_and_books_balance(world: World, settings: ServerSettings) -> None:
    wallet = world.new_wallet(balance=1_000)
    body = world.sale_body(world.token(wallet))
    assert world.sell(body).json()["status"] == "approved"
    path = f"/v1/sales/{body['sale_id']}/cancel"
    # A void refunds: the manager's signed approval comes with it (test_void_proofs.py).
    signed = world.managers["M1"].void(body, at=world.api.clock.now())
    resp = world.api.post(path, signed, signer=world.terminal)
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 1_000
    again = world.api.post(path, {}, signer=world.terminal)
    assert again.status_code == 200  # cancelling twice is harmless, no double refund
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 1_000
    report = admin.check_ledger(settings.data_dir, settings.db_url)
    assert report["ok"] is True and report["journal_entries"] == 3


def test_cancel_declined_or_unknown(world: World) -> None:
    wallet = world.new_wallet(balance=0)
    body = world.sale_body(world.token(wallet))
    assert world.sell(body).json()["status"] == "declined"
    resp = world.api.post(f"/v1/sales/{body['sale_id']}/cancel", {}, signer=world.terminal)
    assert resp.status_code == 422 and resp.json()["error"] == "not_cancellable"
    assert world.api.post("/v1/sales/none/cancel", {}, signer=world.terminal).status_code == 404


def test_reviews_and_confirmed_fraud_freezes_wallet(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    body, _ = _step_up_sale(world, wallet)
    listed = world.api.get("/v1/reviews?store_id=S001&status=pending", signer=world.terminal)
    assert body["sale_id"] in {r["sale_id"] for r in listed.json()["reviews"]}
    assert world.api.get("/v1/reviews?store_id=S002", signer=world.terminal).status_code == 403
    assert (
        world.api.get("/v1/reviews?store_id=S001&status=bogus", signer=world.terminal).status_code
        == 422
    )
    decision = world.managers["M1"].decision(
        body["sale_id"], "confirmed_fraud", at=world.api.clock.now(), note="owner called"
    )
    resp = world.api.post(
        f"/v1/reviews/{body['sale_id']}/decision", decision, signer=world.terminal
    )
    assert resp.status_code == 200
    assert resp.json() == {
        "sale_id": body["sale_id"],
        "review_status": "confirmed_fraud",
        "wallet_frozen": True,
    }
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["frozen"] is True
    done = world.api.get("/v1/reviews?store_id=S001&status=confirmed_fraud", signer=world.terminal)
    (row,) = done.json()["reviews"]
    assert row["sale_id"] == body["sale_id"] and row["lines"][0]["category"] == "heated_tobacco"
    assert [d["decision"] for d in row["decisions"]] == ["confirmed_fraud"]
    unknown = world.api.post("/v1/reviews/none/decision", decision, signer=world.terminal)
    assert unknown.status_code == 404
    bad = world.api.post(
        f"/v1/reviews/{body['sale_id']}/decision",
        dict(decision, decision="maybe"),
        signer=world.terminal,
    )
    assert bad.status_code == 422

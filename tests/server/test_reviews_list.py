"""GET /v1/reviews carries the evidence: basket, rule sentences, claim, decision history."""

from __future__ import annotations

from typing import Any

from tests.fake_clock import FakeClock
from tests.server.server_support import World, line

TOBACCO = [
    line("4900000000001", "heated_tobacco", 2, 5800, name="Heated tobacco carton"),
    line("4901234567894", "beverage", 1, 140, name="Green tea 500ml"),
]
OLD_FIELDS = {
    "sale_id", "terminal_id", "cashier_id", "wallet_id", "total", "currency", "status",
    "reason", "risk", "offline", "review_status", "created_at", "lines", "manager_approval",
    "decisions",
}  # fmt: skip


def _row(world: World, sale_id: str) -> dict[str, Any]:
    listed = world.api.get("/v1/reviews?store_id=S001", signer=world.terminal)
    assert listed.status_code == 200
    rows: list[dict[str, Any]] = [r for r in listed.json()["reviews"] if r["sale_id"] == sale_id]
    (row,) = rows
    return row


def test_review_row_has_basket_sentences_claim_and_history(world: World, clock: FakeClock) -> None:
    wallet = world.new_wallet(balance=20_000)
    terminal_risk = {"score": 30, "action": "allow", "reasons": ["terminal_only_rule"]}
    body = world.sale_body(world.token(wallet), lines=TOBACCO, terminal_risk=terminal_risk)
    decision = world.sell(body).json()
    assert decision["status"] == "step_up_required"
    assert set(decision) == {
        "sale_id", "status", "authorization_id", "reason", "risk", "step_up", "server_time"
    }  # fmt: skip
    sale_id = body["sale_id"]
    row = _row(world, sale_id)
    assert set(row) >= OLD_FIELDS
    assert row["lines"] == TOBACCO
    codes = decision["risk"]["reasons"]
    assert [r["code"] for r in row["risk_reasons"]] == codes
    backend = [r for r in row["risk_reasons"] if r["source"] == "backend"]
    assert backend, row["risk_reasons"]
    for reason in backend:
        assert reason["en"] and reason["ja"] and isinstance(reason["inputs"], dict)
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in reason["ja"])
    (terminal,) = [r for r in row["risk_reasons"] if r["code"] == "terminal_only_rule"]
    assert terminal == {
        "code": "terminal_only_rule",
        "source": "terminal",
        "en": None,
        "ja": None,
        "inputs": None,
    }
    assert row["rules_version"]
    assert row["claim"] is None and row["decisions"] == []

    path = f"/v1/reviews/{sale_id}"
    assert world.api.post(f"{path}/claim", {"reviewer_id": "M1"}, signer=world.terminal).is_success
    assert _row(world, sale_id)["claim"]["claimed_by"] == "M1"
    for verdict, note in (("escalate", "needs head office"), ("approve", "owner confirmed")):
        clock.advance(5)
        answer = world.decide(sale_id, verdict, reviewer="M1", note=note)
        assert answer.status_code == 200
    row = _row(world, sale_id)
    assert row["claim"] is None and row["review_status"] == "approved"
    assert [(d["decision"], d["reviewer_id"], d["note"]) for d in row["decisions"]] == [
        ("escalate", "M1", "needs head office"),
        ("approve", "M1", "owner confirmed"),
    ]
    assert row["decisions"][0]["at"] < row["decisions"][1]["at"]


def test_hard_decline_has_no_rule_sentences(world: World) -> None:
    wallet = world.new_wallet(balance=10_000)
    token = world.token(wallet)
    frozen = world.api.post(f"/v1/wallets/{wallet.wallet_id}/freeze", {}, signer=wallet.signer)
    assert frozen.status_code == 200
    body = world.sale_body(token)
    decision = world.sell(body).json()
    assert (decision["status"], decision["reason"]) == ("declined", "wallet_frozen")
    row = _row(world, body["sale_id"])
    assert row["risk_reasons"] == [] and row["rules_version"] is None
    assert row["lines"] == body["lines"]

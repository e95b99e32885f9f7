"""POST /v1/sales and GET /v1/sales/{id}: decisions, validation, idempotency."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest

from pos_app.paytoken import issuer, keys
from pos_app.server import admin
from pos_app.server.settings import ServerSettings
from tests.server.server_support import World, line


def test_approved_sale_debits_wallet(world: World) -> None:
    wallet = world.new_wallet(balance=10_000)
    body = world.sale_body(world.token(wallet))
    resp = world.sell(body)
    assert resp.status_code == 200
    decision = resp.json()
    assert list(decision) == [
        "sale_id",
        "status",
        "authorization_id",
        "reason",
        "risk",
        "step_up",
        "server_time",
    ]
    assert decision["status"] == "approved"
    assert decision["authorization_id"].startswith("auth-")
    assert decision["reason"] is None and decision["step_up"] is None
    assert decision["server_time"] == world.api.clock.now()
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 280
    got = world.api.get(f"/v1/sales/{body['sale_id']}", signer=world.terminal)
    assert got.status_code == 200
    assert got.json()["status"] == "approved"
    assert got.json()["authorization_id"] == decision["authorization_id"]


def test_token_reused_at_second_sale_is_declined(world: World) -> None:
    wallet = world.new_wallet()
    token = world.token(wallet)
    assert world.sell(world.sale_body(token)).json()["status"] == "approved"
    second = world.sell(world.sale_body(token)).json()
    assert (second["status"], second["reason"]) == ("declined", "token_already_used")


def test_insufficient_funds_does_not_burn_token(world: World) -> None:
    wallet = world.new_wallet(balance=100)
    token = world.token(wallet)
    first = world.sell(world.sale_body(token)).json()
    assert (first["status"], first["reason"]) == ("declined", "insufficient_funds")
    world.top_up(wallet, 1000)
    assert world.sell(world.sale_body(token)).json()["status"] == "approved"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda t: t[:-4] + "0000", "bad_signature"),
        (lambda t: "XX1:" + t[4:], "bad_prefix"),
        (lambda t: t + "A" * 600, "too_long"),
    ],
)
def test_bad_tokens_declined_with_pt1_reason(
    world: World, mutate: Callable[[str], str], reason: str
) -> None:
    wallet = world.new_wallet()
    resp = world.sell(world.sale_body(mutate(world.token(wallet))))
    assert resp.status_code == 200
    assert (resp.json()["status"], resp.json()["reason"]) == ("declined", reason)


def test_expired_token_declined(world: World) -> None:
    wallet = world.new_wallet()
    token = world.token(wallet)
    world.api.clock.advance(180 + 31)
    decision = world.sell(world.sale_body(token)).json()
    assert (decision["status"], decision["reason"]) == ("declined", "expired")


def test_token_from_unknown_issuer_declined(world: World) -> None:
    wallet = world.new_wallet()
    forged = issuer.mint_token(
        keys.generate_keypair(),
        sub=wallet.wallet_id,
        aud="pos.jp",
        limit=0,
        currency="JPY",
        device=bytes.fromhex(wallet.device_id),
        flags=0,
        iat=world.api.clock.now(),
    )
    assert world.sell(world.sale_body(forged)).json()["reason"] == "unknown_kid"


def test_frozen_wallet_declined(world: World) -> None:
    wallet = world.new_wallet()
    token = world.token(wallet)
    resp = world.api.post(f"/v1/wallets/{wallet.wallet_id}/freeze", {}, signer=wallet.signer)
    assert resp.status_code == 200 and resp.json()["frozen"] is True
    decision = world.sell(world.sale_body(token)).json()
    assert (decision["status"], decision["reason"]) == ("declined", "wallet_frozen")
    minted = world.api.post(f"/v1/wallets/{wallet.wallet_id}/tokens", signer=wallet.signer)
    assert minted.status_code == 403 and minted.json()["error"] == "wallet_frozen"


def test_terminal_decline_verdict_is_applied(world: World) -> None:
    wallet = world.new_wallet()
    body = world.sale_body(
        world.token(wallet), terminal_risk={"score": 99, "action": "decline", "reasons": ["x"]}
    )
    decision = world.sell(body).json()
    assert (decision["status"], decision["reason"]) == ("declined", "risk_declined")
    assert decision["risk"]["action"] == "decline" and "x" in decision["risk"]["reasons"]


def test_offline_sale_over_limit_is_offline_loss_flagged(world: World) -> None:
    wallet = world.new_wallet()  # new device: limit 0
    body = world.sale_body(world.token(wallet), offline_accepted_at=world.api.clock.now() - 10)
    decision = world.sell(body).json()
    assert (decision["status"], decision["reason"]) == ("declined", "limit_exceeded")
    reviews = world.api.get("/v1/reviews?store_id=S001&status=pending", signer=world.terminal)
    assert reviews.status_code == 200
    flagged = {r["sale_id"]: r for r in reviews.json()["reviews"]}
    assert flagged[body["sale_id"]]["offline"] is True


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"total": 999}, "total_mismatch"),
        (
            {"lines": [dict(line("1", "food", 1, 100), line_total=99)], "total": 99},
            "total_mismatch",
        ),
        ({"lines": [line("1", "food", -2, 100)], "total": -200}, "validation_error"),
        ({"lines": [dict(line("1", "food", 0, 100))], "total": 0}, "total_mismatch"),
        ({"lines": [dict(line("1", "food", -1, 0))], "total": 0}, "total_mismatch"),
        (
            {"lines": [line(str(i), "food", 1, 1) for i in range(501)], "total": 501},
            "too_many_lines",
        ),
        ({"currency": "USD"}, "unsupported_currency"),
        ({"surprise": 1}, "unknown_field"),
        ({"total": "280"}, "validation_error"),
        ({"total": True}, "validation_error"),
        ({"total": 2**70}, "validation_error"),
        ({"cashier_id": "C\x00"}, "validation_error"),
        ({"lines": [dict(line("1", "food", 1, 1), colour="red")], "total": 1}, "unknown_field"),
    ],
)
def test_validation_errors_are_422(world: World, change: dict[str, object], code: str) -> None:
    wallet = world.new_wallet()
    body = world.sale_body(world.token(wallet))
    body.update(change)
    resp = world.sell(body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == code


def test_malformed_json_is_400(world: World) -> None:
    resp = world.api.post("/v1/sales", raw=b'{"sale_id": ', signer=world.terminal)
    assert resp.status_code == 400
    assert resp.json() == {"error": "malformed_json", "detail": "the body is not valid JSON"}


def test_body_over_256_kib_is_413(world: World) -> None:
    resp = world.api.post("/v1/sales", raw=b"[" + b"1," * 140_000 + b"1]", signer=world.terminal)
    assert resp.status_code == 413
    assert resp.json()["error"] == "body_too_large"


def test_idempotency_key_required(world: World) -> None:
    wallet = world.new_wallet()
    resp = world.sell(world.sale_body(world.token(wallet)), idem=None)
    assert resp.status_code == 400 and resp.json()["error"] == "idempotency_key_required"
    bad = world.sell(world.sale_body(world.token(wallet)), idem="x" * 256)
    assert bad.status_code == 400 and bad.json()["error"] == "bad_idempotency_key"


def test_idempotent_retry_returns_same_response(world: World) -> None:
    wallet = world.new_wallet(balance=1000)
    body = world.sale_body(world.token(wallet))
    key = f"k-{uuid.uuid4()}"
    first = world.sell(body, idem=key)
    world.api.clock.advance(5)
    again = world.sell(body, idem=key)
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 1000 - 280  # debited once


def test_idempotency_key_reuse_with_other_body_is_422(world: World) -> None:
    wallet = world.new_wallet()
    body = world.sale_body(world.token(wallet))
    key = "same-key"
    assert world.sell(body, idem=key).status_code == 200
    other = dict(body, cashier_id="C999")
    resp = world.sell(other, idem=key)
    assert resp.status_code == 422 and resp.json()["error"] == "idempotency_key_reused"


def test_stored_error_is_replayed(world: World) -> None:
    wallet = world.new_wallet()
    body = dict(world.sale_body(world.token(wallet)), total=1)
    first = world.sell(body, idem="err-key")
    again = world.sell(body, idem="err-key")
    assert first.status_code == again.status_code == 422
    assert first.json() == again.json()


def test_sale_id_reused_with_new_key(world: World) -> None:
    wallet = world.new_wallet()
    body = world.sale_body(world.token(wallet))
    assert world.sell(body).status_code == 200
    resp = world.sell(dict(body, token=world.token(wallet)))
    assert resp.status_code == 422 and resp.json()["error"] == "sale_id_reused"


def test_terminal_sells_only_for_its_store(world: World) -> None:
    wallet = world.new_wallet()
    resp = world.sell(world.sale_body(world.token(wallet), store_id="S002"))
    assert resp.status_code == 403 and resp.json()["error"] == "wrong_store"
    resp = world.sell(world.sale_body(world.token(wallet), terminal_id="T99"))
    assert resp.status_code == 403


def test_get_unknown_sale_is_404_and_other_store_is_403(
    world: World, settings: ServerSettings
) -> None:
    resp = world.api.get("/v1/sales/nope", signer=world.terminal)
    assert resp.status_code == 404 and resp.json()["error"] == "unknown_sale"
    wallet = world.new_wallet()
    body = world.sale_body(world.token(wallet))
    world.sell(body)
    other = admin.create_terminal(
        settings.data_dir,
        settings.db_url,
        store_id="S002",
        terminal_id="T01",
        clock=world.api.clock,
    )
    from tests.server.server_support import enroll_terminal

    stranger = enroll_terminal(world.api, other["enrollment_code"])
    resp = world.api.get(f"/v1/sales/{body['sale_id']}", signer=stranger)
    assert resp.status_code == 403


def test_unknown_route_and_method_use_error_format(world: World) -> None:
    resp = world.api.get("/v1/nothing", signer=None)
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"
    resp = world.api.request("DELETE", "/v1/sales", signer=None)
    assert resp.status_code == 405 and set(resp.json()) == {"error", "detail"}


def test_response_is_json_and_never_echoes_token(world: World) -> None:
    wallet = world.new_wallet()
    token = world.token(wallet)
    resp = world.sell(world.sale_body(token, total=1))
    assert token not in resp.text
    assert json.loads(resp.text)["error"] == "total_mismatch"


def test_chunked_body_over_limit_is_413_without_content_length(world: World) -> None:
    chunks = iter([b"[" + b"1," * 50_000] * 3 + [b"1]"])
    resp = world.api.client.post(
        "http://testserver/v1/sales", content=chunks, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 413 and resp.json()["error"] == "body_too_large"


def test_wrong_json_shapes_never_500(world: World) -> None:
    for raw in (b"[]", b"null", b'"x"', b"1e999", b'{"sale_id": {"$gt": ""}}', b"\xff\xfe"):
        resp = world.api.post("/v1/sales", raw=raw, signer=world.terminal)
        assert resp.status_code in (400, 422), (raw, resp.status_code, resp.text)


def test_offline_sale_synced_after_token_expiry_is_judged_at_acceptance(world: World) -> None:
    wallet = world.new_wallet(balance=5_000)
    world.api.clock.advance(73 * 3600)  # an established device: limit > 0
    token = world.token(wallet)
    accepted_at = world.api.clock.now() + 10
    world.api.clock.advance(6 * 3600)  # the terminal was offline for hours
    decision = world.sell(world.sale_body(token, offline_accepted_at=accepted_at)).json()
    assert decision["status"] == "approved", decision
    online = world.sell(world.sale_body(world.token(wallet), offline_accepted_at=None)).json()
    assert online["status"] == "approved"


def test_offline_time_in_future_or_ancient_is_422(world: World) -> None:
    wallet = world.new_wallet()
    now = world.api.clock.now()
    for when in (now + 3600, now - 31 * 86400):
        body = world.sale_body(world.token(wallet), offline_accepted_at=when)
        resp = world.sell(body)
        assert resp.status_code == 422 and resp.json()["error"] == "bad_offline_time"

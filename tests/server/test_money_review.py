"""A second look at the finalize's batched path (PostgreSQL) against its portable one.

Each test holds on SQLite and PostgreSQL alike: the batched path must answer, charge and
refuse as the portable path does.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from pos_app.server import admin, db
from pos_app.server.models import Sale
from pos_app.server.ratelimit import RateLimiter
from tests.server.server_support import World, backend_of, line


def _balance(world: World, wallet: Any) -> int:
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    return int(info["balance"])


def test_control_characters_in_sale_number_are_a_422(world: World) -> None:
    """``sale_number`` is free text kept in a text column: PostgreSQL refuses NUL there,
    which must be a validation error (422), never a 500, and charge nothing."""
    wallet = world.new_wallet(balance=10_000)
    for bad in ("T01-\x00-1", "T01\n1"):
        answer = world.sell(world.sale_body(world.token(wallet), sale_number=bad))
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "validation_error"
    assert _balance(world, wallet) == 10_000
    body = world.sale_body(world.token(wallet), sale_number="S001-T01-000042")
    assert world.sell(body).json()["status"] == "approved"


def test_a_rearmed_terminal_is_refused_although_its_key_is_cached(
    world: World, settings: Any, clock: Any
) -> None:
    """The per-process key cache lets the signature be checked early; it must never let
    a key whose terminal was re-armed (its keyid dropped) make a sale."""
    wallet = world.new_wallet(balance=10_000)
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    admin.create_terminal(
        settings.data_dir, settings.db_url, store_id="S001", terminal_id="T01", clock=clock
    )
    body = world.sale_body(world.token(wallet))
    answer = world.sell(body)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "bad_signature"
    assert _balance(world, wallet) == 10_000 - 280


def test_a_replay_spends_the_terminal_rate_limit_once(world: World) -> None:
    """A till's retry of a lost answer is one request for the per-terminal rate limit,
    whichever path (batched, then portable) the server took to find the stored answer."""
    wallet = world.new_wallet(balance=10_000)
    bodies = [world.sale_body(world.token(wallet)) for _ in range(4)]  # the wallet's requests
    backend = backend_of(world.api)
    backend.limiter = RateLimiter(4)  # from now on: 4 requests per terminal (no refill in time)
    assert world.sell(bodies[0], idem="retry-1").status_code == 200
    assert world.sell(bodies[0], idem="retry-1").status_code == 200  # the replay
    for body in bodies[1:3]:  # requests 3 and 4 of 4
        answer = world.sell(body)
        assert answer.status_code == 200, answer.text
    assert world.sell(bodies[3]).status_code == 429


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_batched_commit_of_unknown_outcome_is_a_503_not_a_second_sale(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writes and the COMMIT go in one string: when the driver fails after sending it
    (a connection lost while the answer travels back) the sale may be committed: no rerun
    as a new request, but 503 as on the portable path; the retry gets the stored answer and
    the wallet is charged once."""
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):  # the terminal's key is known, the store's account exists: batched
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    send = db._Batch.send
    lost: list[bool] = []

    def send_then_lose(self: Any, *, commit: bool = False) -> None:
        send(self, commit=commit)
        if commit and not lost:
            lost.append(True)
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    def fail_before_sending(self: Any, *, commit: bool = False) -> None:
        if commit and not lost:
            lost.append(True)  # nothing sent: nothing committed, the rerun is safe
            raise psycopg.DataError("a value the driver could not adapt")
        send(self, commit=commit)

    monkeypatch.setattr(db._Batch, "send", fail_before_sending)
    answer = world.sell(world.sale_body(world.token(wallet)))
    assert lost and answer.status_code == 200 and answer.json()["status"] == "approved"
    lost.clear()
    monkeypatch.setattr(db._Batch, "send", send_then_lose)
    body = world.sale_body(world.token(wallet))
    answer = world.sell(body, idem="lost-answer")
    # The outcome is unknown to this request: 503 (retry), as a COMMIT lost on the portable
    # path answers; before the fix the rerun met its own burnt nonce: a 401 for a charged sale.
    assert lost and answer.status_code == 503, answer.text
    again = world.sell(body, idem="lost-answer")  # the till's retry, with its key
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "approved"
    assert _balance(world, wallet) == 10_000 - 4 * 280


def test_quotes_and_non_ascii_survive_the_batched_strings(world: World) -> None:
    """Values bound on the client (psycopg's ClientCursor) with quotes, backslashes,
    placeholders and non-ASCII text: stored as sent, and a replay is byte-identical."""
    wallet = world.new_wallet(balance=10_000)
    backend = backend_of(world.api)
    odd = "a'b\\c%s%(p0_b_sale)s$$;--é😀"
    for i in range(3):  # the later ones batched on PostgreSQL
        lines = [line("4901234567894", "beverage", 2, 140) | {"name": odd}]
        risk = {"score": 0, "action": "allow", "reasons": [odd]}
        body = world.sale_body(
            world.token(wallet), lines=lines, sale_number=odd[:40], terminal_risk=risk
        )
        first = world.sell(body, idem=f"k'\\%(x)s-{i}")
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "approved"
        assert world.sell(body, idem=f"k'\\%(x)s-{i}").content == first.content
        with backend.sessions() as session:
            kept = session.get(Sale, body["sale_id"])
            assert kept is not None
            assert (kept.lines[0]["name"], kept.sale_number) == (odd, odd[:40])
            assert kept.risk["reasons"] == [odd]
    assert _balance(world, wallet) == 10_000 - 3 * 280


def test_bad_idempotency_keys_are_a_400_whichever_path(world: World) -> None:
    """The batched path sends the claim before the key is checked: a key the column cannot
    hold must still be the contract's 400, not a 500, and charge nothing."""
    wallet = world.new_wallet(balance=10_000)
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    for key, error in (("x" * 300, "bad_idempotency_key"), ("a\x7fb", "bad_idempotency_key")):
        answer = world.sell(world.sale_body(world.token(wallet)), idem=key)
        assert (answer.status_code, answer.json()["error"]) == (400, error), answer.text
    answer = world.sell(world.sale_body(world.token(wallet)), idem=None)
    assert (answer.status_code, answer.json()["error"]) == (400, "idempotency_key_required")
    assert _balance(world, wallet) == 10_000 - 280


def test_concurrent_batched_sales_neither_overdraw_nor_double_redeem(
    world: World, settings: Any
) -> None:
    """Through HTTP, so PostgreSQL takes the batched path (the terminal's key is known):
    ten sales racing on one wallet pay for what it holds, eight on one token pay once."""
    wallet = world.new_wallet(balance=1_280)
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    bodies = [world.sale_body(world.token(wallet)) for _ in range(10)]
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(world.sell, bodies))
    outcomes = sorted((a.json()["status"], a.json()["reason"]) for a in answers)
    assert outcomes.count(("approved", None)) == 3, outcomes
    assert outcomes.count(("declined", "insufficient_funds")) == 7, outcomes
    assert _balance(world, wallet) == 1_280 - 4 * 280
    world.top_up(wallet, 10_000)
    token = world.token(wallet)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(world.sell, [world.sale_body(token) for _ in range(8)]))
    outcomes = sorted((a.json()["status"], a.json()["reason"]) for a in answers)
    assert outcomes.count(("approved", None)) == 1, outcomes
    assert outcomes.count(("declined", "token_already_used")) == 7, outcomes
    assert _balance(world, wallet) == 1_280 - 4 * 280 + 10_000 - 280
    assert admin.check_ledger(settings.data_dir, settings.db_url)["ok"] is True

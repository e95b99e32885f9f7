"""The finalize's batched path on PostgreSQL (db.ahead / db.write) and its portable fallback.

A usual online sale on PostgreSQL sends its statements in two strings (the prefetched
reads and claims; the writes with the COMMIT) and runs nothing else on the driver; a
request that goes another way rolls back and runs again on the portable path, with the
same answer the portable path gives on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.server import admin, db, finalize
from tests.server.server_support import Signer, World


@dataclass
class Trips:
    """What the driver was asked to run, counted."""

    batches: list[int] = field(default_factory=list)  # statements per batched string
    single: int = 0  # statements run one by one through ``raw``
    speculations: int = 0

    def reset(self) -> None:
        self.batches.clear()
        self.single = self.speculations = 0


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Trips]:
    seen = Trips()
    send, execute, speculation = db._Batch.send, db._execute, db.Speculation.__init__

    def counted_send(self: Any, *, commit: bool = False) -> None:
        count = len(self.unsent) + len(self.queued) + int(commit)
        if count:
            seen.batches.append(count)
        send(self, commit=commit)

    def counted_execute(*args: Any) -> Any:
        seen.single += 1
        return execute(*args)

    def counted_speculation(self: Any, *args: Any) -> None:
        seen.speculations += 1
        speculation(self, *args)

    monkeypatch.setattr(db._Batch, "send", counted_send)
    monkeypatch.setattr(db, "_execute", counted_execute)
    monkeypatch.setattr(db.Speculation, "__init__", counted_speculation)
    yield seen


def _ledger_ok(world: World, settings: Any) -> None:
    report = admin.check_ledger(settings.data_dir, settings.db_url)
    assert report["ok"], report


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_usual_sale_is_two_batches_on_postgres(world: World, settings: Any, trips: Trips) -> None:
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):  # the first sales also create, then remember, the store's account
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    token = world.token(wallet)
    trips.reset()
    answer = world.sell(world.sale_body(token)).json()
    assert answer["status"] == "approved"
    # Reads and claims (signature, nonce, contact, key, sale_id, redemption, device lock,
    # three history reads), then debit, journal, credit, sale, stored answer and COMMIT.
    assert trips.batches == [10, 6] and trips.single == 0 and trips.speculations == 0
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 3 * 280
    _ledger_ok(world, settings)


def test_insufficient_funds_falls_back_and_declines(
    world: World, settings: Any, db_url: str, trips: Trips
) -> None:
    wallet = world.new_wallet(balance=300)
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    trips.reset()
    answer = world.sell(world.sale_body(world.token(wallet))).json()
    assert (answer["status"], answer["reason"]) == ("declined", "insufficient_funds")
    # PostgreSQL learns it from the batched debit's guard (a division by zero) at commit,
    # rolls back, and declines on the portable path; SQLite takes that path at once.
    assert trips.speculations == (1 if "postgresql" in db_url else 0)
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 300 - 280
    _ledger_ok(world, settings)


def test_replayed_key_falls_back_to_the_stored_answer(
    world: World, settings: Any, db_url: str, trips: Trips
) -> None:
    wallet = world.new_wallet(balance=10_000)
    body = world.sale_body(world.token(wallet))
    first = world.sell(body, idem="replay-1")
    trips.reset()
    again = world.sell(body, idem="replay-1")
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    # The prefetched redemption is never asked for: its write must not commit.
    assert trips.speculations == (1 if "postgresql" in db_url else 0)
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 280
    _ledger_ok(world, settings)


def test_declined_token_leaves_no_redemption(world: World, settings: Any) -> None:
    wallet = world.new_wallet(balance=10_000)
    token = world.token(wallet)
    assert world.sell(world.sale_body(token)).json()["status"] == "approved"
    again = world.sell(world.sale_body(token)).json()
    assert (again["status"], again["reason"]) == ("declined", "token_already_used")
    poor = world.new_wallet(balance=10)
    poor_token = world.token(poor)
    declined = world.sell(world.sale_body(poor_token)).json()
    assert declined["reason"] == "insufficient_funds"
    world.top_up(poor, 1_000)
    # The declined attempt did not burn the token, batched or not.
    assert world.sell(world.sale_body(poor_token)).json()["status"] == "approved"
    _ledger_ok(world, settings)


def test_bad_signature_is_refused_before_the_token_is_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Authentication first: a request whose signature fails never verifies its PT1 token
    (no Ed25519 work or sale logic for an unauthenticated caller), batched or not."""
    verified: list[str] = []
    verify_token = finalize._verify_token

    def counted(backend: Any, session: Any, text: str, *, now: int) -> Any:
        verified.append(text)
        return verify_token(backend, session, text, now=now)

    monkeypatch.setattr(finalize, "_verify_token", counted)
    wallet = world.new_wallet(balance=10_000)
    forger = Signer(Ed25519PrivateKey.generate(), world.terminal.keyid, world.terminal.tag)

    def forged() -> Any:
        # A valid token, signed with another key under the terminal's keyid.
        return world.api.post("/v1/sales", world.sale_body(world.token(wallet)), signer=forger)

    before = forged()  # whether or not this process knows the terminal's key yet
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    assert len(verified) == 1
    after = forged()  # the terminal's key is known now: checked before anything else
    assert before.status_code == after.status_code == 401
    assert before.json() == after.json()
    assert after.json()["error"] == "bad_signature"
    assert len(verified) == 1
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 280

"""Concurrent decisions on one sale serialise on the sale's row lock (PostgreSQL).

Each race holds both transactions at a barrier after they have read the sale,
the exact interleaving that double-charged before the lock. SQLite is not
parametrised here: its writers are serialised by BEGIN IMMEDIATE, so the two
transactions can never both be inside at once (the barrier would never open).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from pos_app.paytoken import httpsig, keys
from pos_app.server import db, managers, sales, stepup
from pos_app.server.errors import ApiError
from pos_app.server.models import Sale, StepUp
from pos_app.server.schemas import CancelRequest
from tests.server.server_support import (
    World,
    backend_of,
    drop_postgres_schema,
    line,
    postgres_schema_url,
)

CARTONS = [line("4900000000001", "heated_tobacco", 2, 5800, name="Heated tobacco carton")]

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url() -> Iterator[str]:
    url, schema = postgres_schema_url()
    try:
        yield url
    finally:
        drop_postgres_schema(schema)


def balance(world: World, wallet: Any) -> int:
    path = f"/v1/wallets/{wallet.wallet_id}"
    return int(world.api.get(path, signer=wallet.signer).json()["balance"])


def race(world: World, *actions: Callable[[Session, threading.Barrier], None]) -> list[str]:
    backend = backend_of(world.api)
    barrier, errors = threading.Barrier(len(actions), timeout=20), []

    def run(action: Callable[[Session, threading.Barrier], None]) -> None:
        try:
            with db.transaction(backend.sessions) as session:
                action(session, barrier)
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


def step_up_sale(world: World, wallet: Any) -> tuple[dict[str, Any], str, str]:
    body = world.sale_body(world.token(wallet), lines=CARTONS)
    decision = world.sell(body).json()
    assert decision["status"] == "step_up_required", decision
    challenge = decision["step_up"]["challenge_id"]
    message = httpsig.step_up_message(
        challenge, "JPY", "approve", body["sale_id"], "S001", body["total"]
    )
    return body, challenge, keys.b64url_encode(wallet.signer.key.sign(message))


def test_two_concurrent_voids_refund_once(world: World) -> None:
    wallet = world.new_wallet(balance=10_000)
    body = world.sale_body(world.token(wallet))
    assert world.sell(body).json()["status"] == "approved"
    now = world.api.clock.now()
    # Both carry the manager's signed void, checked under the lock as the cancel route does.
    signed = CancelRequest.model_validate(world.managers["M1"].void(body, at=now))

    def void(session: Session, barrier: threading.Barrier) -> None:
        sale = sales.load(session, body["sale_id"])
        barrier.wait()
        sales.cancel(session, sale, now=now, authorize_void=_checked(session, signed, now))

    assert race(world, void, void) == []
    assert balance(world, wallet) == 10_000


def test_two_concurrent_approvals_charge_once(world: World) -> None:
    wallet = world.new_wallet(balance=30_000)
    body, challenge, signature = step_up_sale(world, wallet)
    now, results = world.api.clock.now(), []

    def approve(session: Session, barrier: threading.Barrier) -> None:
        session.get(StepUp, challenge)
        sales.load(session, body["sale_id"])
        barrier.wait()
        out = stepup.decide(
            session,
            challenge,
            "approve",
            signature=signature,
            wallet_id=wallet.wallet_id,
            now=now,
        )
        results.append(out["error"])

    assert race(world, approve, approve) == []
    assert sorted(results, key=str) == [None, "step_up_not_pending"]
    assert balance(world, wallet) == 30_000 - body["total"]


def test_a_cancel_racing_a_late_approval_never_charges_a_cancelled_sale(world: World) -> None:
    wallet = world.new_wallet(balance=20_000)
    body, challenge, signature = step_up_sale(world, wallet)
    now = world.api.clock.now()

    refused: list[str] = []

    def cancel(session: Session, barrier: threading.Barrier) -> None:
        sale = sales.load(session, body["sale_id"])
        sales.step_of(session, body["sale_id"])
        barrier.wait()
        try:  # the till's cancel carries no manager proof (the cancel route's check)
            sales.cancel(session, sale, now=now, authorize_void=_checked(session, None, now))
        except ApiError as exc:
            refused.append(exc.code)

    def approve(session: Session, barrier: threading.Barrier) -> None:
        session.get(StepUp, challenge)
        sales.load(session, body["sale_id"])
        barrier.wait()
        stepup.decide(
            session,
            challenge,
            "approve",
            signature=signature,
            wallet_id=wallet.wallet_id,
            now=now,
        )

    assert race(world, cancel, approve) == []
    # Whichever goes first, the answers agree with the money: the cancel cancels the pending
    # step-up (nothing charged), or it finds the sale approved, and undoing that is a void a
    # manager must sign (403 manager_required: the till then shows it paid). Never
    # "cancelled" and charged.
    status = world.api.get(f"/v1/sales/{body['sale_id']}", signer=world.terminal).json()["status"]
    outcome = (status, balance(world, wallet), refused)
    assert outcome in (
        ("cancelled", 20_000, []),
        ("approved", 20_000 - body["total"], ["manager_required"]),
    ), outcome


def _checked(session: Session, req: CancelRequest | None, now: int) -> Callable[[Sale], None]:
    return lambda sale: managers.require_void(session, sale, req, now=now)

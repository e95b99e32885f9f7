"""What finalize decided is what the ``sales`` row holds, column by column, on each way a
sale is written: the usual INSERT (approved, declined), the ORM for a step-up and for a
refused offline claim (``SaleDraft.to_orm``), on SQLite and on PostgreSQL (batched)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
from sqlalchemy import select

from pos_app.server import db, finalize, sales
from pos_app.server.models import Sale
from tests.server.server_support import World, line
from tests.server.test_offline_claims import contact, established_wallet, keep_in_contact

TOBACCO = [line("4900000000001", "heated_tobacco", 2, 5800, name="Heated tobacco carton")]
MIXED = [line("4901234567894", "beverage", 2, 140), line("4900000000002", "alcohol", 1, 300)]


@pytest.fixture
def drafts(monkeypatch: pytest.MonkeyPatch) -> dict[str, sales.SaleDraft]:
    """The last draft finalize decided for each sale_id (a rerun replaces the first)."""
    decided: dict[str, sales.SaleDraft] = {}
    new_sale = finalize._new_sale

    def kept(*args: Any, **kwargs: Any) -> sales.SaleDraft:
        draft = new_sale(*args, **kwargs)
        decided[draft.sale_id] = draft
        return draft

    monkeypatch.setattr(finalize, "_new_sale", kept)
    return decided


def _row(settings: Any, sale_id: str) -> dict[str, Any]:
    engine = db.make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(select(Sale.__table__).where(Sale.sale_id == sale_id)).one()
            return dict(found._mapping)
    finally:
        engine.dispose()


def _assert_stored_as_decided(settings: Any, draft: sales.SaleDraft) -> dict[str, Any]:
    row = _row(settings, draft.sale_id)
    decided = {f.name: getattr(draft, f.name) for f in fields(draft)}
    assert row == decided
    return row


def test_every_way_a_sale_is_written_stores_the_draft(
    world: World, settings: Any, drafts: dict[str, sales.SaleDraft]
) -> None:
    wallet = established_wallet(world, balance=30_000)
    approved = world.sale_body(world.token(wallet), lines=MIXED, sale_number="S001-T01-000007")
    assert world.sell(approved).json()["status"] == "approved"
    row = _assert_stored_as_decided(settings, drafts[approved["sale_id"]])
    assert row["categories"] == "alcohol,beverage" and row["sale_number"] == "S001-T01-000007"
    assert row["authorization_id"] and row["risk_explanation"] is not None

    poor = world.new_wallet(balance=10)
    declined = world.sale_body(world.token(poor), lines=MIXED)
    assert world.sell(declined).json()["reason"] == "insufficient_funds"
    row = _assert_stored_as_decided(settings, drafts[declined["sale_id"]])
    assert row["categories"] is not None and row["authorization_id"] is None

    step_up = world.sale_body(world.token(wallet), lines=TOBACCO, sale_number="S001-T01-000008")
    assert world.sell(step_up).json()["status"] == "step_up_required"
    row = _assert_stored_as_decided(settings, drafts[step_up["sale_id"]])
    assert row["categories"] == "heated_tobacco" and row["tobacco_total"] == 11_600
    assert row["review_status"] == "pending" and row["risk_explanation"] is not None

    minted_at = world.api.clock.now()
    contact(world)
    token = world.token(wallet)
    keep_in_contact(world, 240)
    refused = world.sale_body(token, lines=MIXED, offline_accepted_at=minted_at + 10)
    assert world.sell(refused, idem="offline-1").status_code == 422
    row = _assert_stored_as_decided(settings, drafts[refused["sale_id"]])
    assert (row["status"], row["reason"]) == ("declined", "bad_offline_time")
    assert row["categories"] is not None and row["offline_accepted_at"] == minted_at + 10

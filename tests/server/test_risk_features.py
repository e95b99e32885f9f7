"""The backend derives a wallet's features from its database rows as the backtest does.

The same completed sales are written to the backend's tables (SQLite and PostgreSQL)
and remembered by the fast backtest's ``VelocityTracker``; ``server.risk.features``
must hand the rules the same wallet features, the kinds of goods read back from the
stored ``sales.lines`` included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from pos_app.core.categories import Category
from pos_app.core.risk.config import default_rules
from pos_app.core.risk.model import SaleFacts, SaleLine
from pos_app.core.risk.velocity import VelocityTracker
from pos_app.paytoken import httpsig, keys
from pos_app.server import admin, db, risk, risk_replay
from pos_app.server.models import Device, Sale
from pos_app.server.settings import ServerSettings
from tests.server.server_support import Signer, WalletHandle, World, enroll_terminal, line

T0 = 1_790_000_000
WALLET_KEYS = (
    "wallet_sales_24h",
    "wallet_cc_spend_7d",
    "wallet_cc_max_before_24h",
    "wallet_history_sales",
    "store_new_for_wallet",
    "device_new_for_wallet",
    "wallet_cc_categories",
    "device_owner_approvals",
)


def _facts(
    sale_id: str, time: int, *lines: tuple[str, int, int], store: str = "S001", device: str = "d-1"
) -> SaleFacts:
    items = tuple(
        SaleLine(f"{c}-{u}", Category(c), q, u, q * u) for c, q, u in lines
    )  # fmt: skip
    return SaleFacts(
        sale_id=sale_id, time=time, lines=items, total=sum(i.line_total for i in items),
        store_id=store, terminal_id="T01", wallet_id="w-1", device_id=device,
        store_region="JP-13",
    )  # fmt: skip


def _row(facts: SaleFacts, *, written_categories: bool = True) -> Sale:
    lines = tuple(
        (ln.sku, ln.category.value, ln.quantity, ln.unit_price, ln.line_total) for ln in facts.lines
    )
    cc, tobacco = risk.basket_totals(lines)
    stored: list[dict[str, Any]] = [
        {"sku": s, "name": s, "category": c, "quantity": q, "unit_price": u, "line_total": t}
        for s, c, q, u, t in lines
    ]
    return Sale(
        sale_id=facts.sale_id, store_id=facts.store_id, terminal_id=facts.terminal_id,
        cashier_id="C001", wallet_id=facts.wallet_id, device_id=facts.device_id,
        currency="JPY", total=facts.total, lines=stored, cc_total=cc, tobacco_total=tobacco,
        categories=risk.stored_categories(lines) if written_categories else None,
        store_region=facts.store_region, status="approved", risk={}, created_at=facts.time,
        updated_at=facts.time,
    )  # fmt: skip


@pytest.mark.parametrize("written_categories", [True, False], ids=["categories", "old-rows"])
def test_backend_reads_the_same_wallet_features_as_the_backtest(
    settings: ServerSettings, written_categories: bool
) -> None:
    """Kinds of goods from ``sales.categories``, or from ``sales.lines`` for rows written
    before that column (NULL)."""
    history = [
        _facts("s-1", T0 - 3 * 86_400, ("tobacco", 2, 600), ("food", 1, 300)),
        _facts("s-2", T0 - 2 * 86_400, ("gift_card", 1, 3000), store="S002"),
        _facts("s-3", T0 - 3600, ("alcohol", 2, 250), ("beverage", 1, 150)),
        _facts("s-4", T0 - 600, ("food", 2, 400)),
    ]
    # Baskets the owner approved on a phone (a passed step-up): on this one and another.
    approved = [
        _facts("s-6", T0 - 4 * 86_400, ("tobacco", 1, 6000), ("alcohol", 1, 2000)),
        _facts("s-7", T0 - 86_400, ("e_cig", 1, 5800), device="d-2"),
    ]
    tracker = VelocityTracker(default_rules())
    engine = db.make_engine(settings.db_url)
    try:
        with db.session_factory(engine)() as session:
            for facts in sorted([*history, *approved], key=lambda f: f.time):
                owner = facts in approved
                tracker.record_sale(facts, owner_approved=owner)
                session.add(_row(facts, written_categories=written_categories))
                if owner:
                    session.add(risk_replay._step_up(facts, "approved"))
            session.commit()
            now = _facts("s-5", T0, ("heated_tobacco", 4, 580), store="S003")
            sale = risk.SaleInput(
                sale_id="s-5", store_id="S003", terminal_id="T01", store_region="JP-13",
                wallet_id="w-1", device_id="d-1", total=now.total, currency="JPY",
                lines=(("heated_tobacco-580", "heated_tobacco", 4, 580, 2320),),
                token_flags=0, token_age_s=5, offline=False,
            )  # fmt: skip
            backend = risk.features(session, sale, now=T0)
    finally:
        engine.dispose()
    memory = tracker.features_for(now)
    assert backend["wallet_cc_categories"] == ("alcohol", "e_cig", "gift_card", "tobacco")
    assert backend["device_owner_approvals"] == ((7000, ("alcohol", "tobacco")),)
    assert {k: backend[k] for k in WALLET_KEYS} == {k: memory[k] for k in WALLET_KEYS}


# What an older till or a hand repair may have left in ``sales.lines``: not a list of
# line objects.
ODD_LINES = ["null", '{"sku": "x"}', '["tobacco"]', "5", '[{"sku": "x"}, 7]']


@pytest.mark.parametrize("stored", [*ODD_LINES, "[{not json"])
def test_a_stored_sale_whose_lines_cannot_be_read_does_not_break_the_next_finalize(
    world: World, settings: ServerSettings, stored: str
) -> None:
    postgres = settings.db_url.startswith("postgresql")
    if stored == "[{not json" and postgres:
        stored = json.dumps(stored)  # a JSON string holding it: psycopg hands back the text
    wallet = world.new_wallet(balance=50_000)
    first = world.sale_body(world.token(wallet), lines=[line("g-1", "gift_card", 1, 3000)])
    assert world.sell(first).status_code == 200
    engine = db.make_engine(settings.db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                # An older row: no sales.categories, so its lines are read.
                text(
                    "UPDATE sales SET lines = CAST(:v AS JSON), categories = NULL"
                    " WHERE sale_id = :s"
                )
                if postgres
                else text("UPDATE sales SET lines = :v, categories = NULL WHERE sale_id = :s"),
                {"v": stored, "s": first["sale_id"]},
            )
    finally:
        engine.dispose()
    world.api.clock.advance(60)
    # Still one sale in the wallet's history, but one that vouches for no kind of goods:
    # 3,000 yen of gift cards is a new kind for it and asks the owner.
    body = world.sale_body(world.token(wallet), lines=[line("g-1", "gift_card", 1, 3000)])
    resp = world.sell(body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "step_up_required"
    assert "category_new_for_wallet" in resp.json()["risk"]["reasons"]


def test_goods_held_for_the_owner_do_not_become_a_known_kind_before_the_owner_approves(
    world: World,
) -> None:
    """A thief whose loot is held for the owner's approval tries again at once: the held
    sale counts in the wallet's spend, but it vouches for no kind of goods until approved."""
    wallet = world.new_wallet(balance=50_000)
    for _ in range(3):  # a pack smoker
        packs = world.sale_body(world.token(wallet), lines=[line("t", "tobacco", 3, 600)])
        assert world.sell(packs).json()["status"] == "approved"
        world.api.clock.advance(86_400)
    sticks = [line("h", "heated_tobacco", 8, 580)]
    held = world.sell(world.sale_body(world.token(wallet), lines=sticks)).json()
    assert held["status"] == "step_up_required"
    assert held["risk"]["reasons"] == ["category_new_for_wallet"]
    world.api.clock.advance(30)  # the owner has not answered yet
    again = [line("h", "heated_tobacco", 7, 580)]
    second = world.sell(world.sale_body(world.token(wallet), lines=again)).json()
    assert second["status"] == "step_up_required", second
    assert "category_new_for_wallet" in second["risk"]["reasons"]


def test_finalize_keeps_the_kinds_of_goods_of_the_basket_once(
    world: World, settings: ServerSettings
) -> None:
    wallet = world.new_wallet(balance=50_000)
    lines = [line("t", "tobacco", 1, 600), line("o", "food", 2, 150), line("u", "tobacco", 1, 580)]
    body = world.sale_body(world.token(wallet), lines=lines)
    assert world.sell(body).status_code == 200
    engine = db.make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT categories FROM sales WHERE sale_id = :s"), {"s": body["sale_id"]}
            ).scalar_one()
    finally:
        engine.dispose()
    assert stored == "food,tobacco"


def _thief_phone(world: World, settings: ServerSettings, wallet: WalletHandle) -> WalletHandle:
    """The 2019 pattern: the thief signs in to the owner's account on their own phone."""
    signer = Signer.new(httpsig.TAG_WALLET)
    engine = db.make_engine(settings.db_url)
    try:
        with db.session_factory(engine)() as session:
            session.add(
                Device(
                    device_id=signer.keyid,
                    wallet_id=wallet.wallet_id,
                    public_key=keys.public_raw(signer.key),
                    created_at=world.api.clock.now(),
                )
            )
            session.commit()
    finally:
        engine.dispose()
    return WalletHandle(wallet.wallet_id, signer.keyid, signer)


def _smoker(world: World, *, days: int = 3) -> WalletHandle:
    """A wallet that buys three packs of cigarettes a day at S001 from its owner's phone."""
    wallet = world.new_wallet(balance=50_000)
    for _ in range(days):
        packs = world.sale_body(world.token(wallet), lines=[line("t", "tobacco", 3, 600)])
        assert world.sell(packs).json()["status"] == "approved"
        world.api.clock.advance(86_400)
    world.api.clock.advance(86_400)  # nothing in the last 24 h
    return wallet


def test_a_thiefs_phone_held_for_the_owner_is_still_a_new_phone_when_the_thief_retries(
    world: World, settings: ServerSettings
) -> None:
    """The thief's first code from their own phone waits for the owner; a second code from
    the same phone 30 s later is still from a phone the wallet never paid from. The held
    sale counts in the wallet's spend (the retry also splits easy-to-resell goods)."""
    wallet = _smoker(world)
    thief = _thief_phone(world, settings, wallet)
    first = world.sale_body(world.token(thief), lines=[line("t", "tobacco", 6, 600)])
    held = world.sell(first).json()
    assert held["status"] == "step_up_required", held
    assert held["risk"]["reasons"] == ["device_new_for_wallet"]
    world.api.clock.advance(30)  # the owner has not answered yet
    again = world.sale_body(world.token(thief), lines=[line("t", "tobacco", 8, 600)])
    second = world.sell(again).json()
    assert second["status"] == "step_up_required", second
    assert set(second["risk"]["reasons"]) >= {
        "device_new_for_wallet",
        "wallet_repeat_cash_convertible",  # 3,600 held + 4,800 now: the held sale counts
    }


def test_a_store_where_the_wallet_is_held_for_the_owner_is_still_new_when_the_thief_retries(
    world: World, settings: ServerSettings
) -> None:
    """A thief holding the owner's phone shops at a store the owner never used; the
    sale is held for the owner's approval; a retry 30 s later at the same store is still
    at a store the wallet never paid at."""
    wallet = _smoker(world)
    ticket = admin.create_terminal(
        settings.data_dir, settings.db_url, store_id="S002", terminal_id="T09",
        clock=world.api.clock,
    )  # fmt: skip
    there = World(
        api=world.api,
        terminal=enroll_terminal(world.api, ticket["enrollment_code"]),
        store_id="S002",
        terminal_id="T09",
    )
    first = there.sale_body(world.token(wallet), lines=[line("t", "tobacco", 4, 600)])
    held = there.sell(first).json()
    assert held["status"] == "step_up_required", held
    assert held["risk"]["reasons"] == ["store_new_for_wallet"]
    world.api.clock.advance(30)
    again = there.sale_body(world.token(wallet), lines=[line("t", "tobacco", 4, 600)])
    second = there.sell(again).json()
    assert second["status"] == "step_up_required", second
    assert "store_new_for_wallet" in second["risk"]["reasons"]

"""The till's risk history survives a restart, and sales keep the full reasoning."""

from pathlib import Path

from pos_app.core.basket import Basket
from pos_app.core.catalog import Catalog
from pos_app.core.categories import Category
from pos_app.core.risk.config import default_rules
from pos_app.core.risk.model import SaleFacts, SaleLine
from pos_app.terminal.paths import catalog_dir
from pos_app.terminal.store.db import open_store
from pos_app.terminal.store.sales_repo import SaleRecord, save_sale
from pos_app.terminal.terminal_risk import TerminalRisk, risk_record, wallet_ref

NOW = 1_795_000_000
CATALOG = Catalog.from_dir(catalog_dir())


def carton_basket() -> Basket:
    basket = Basket()
    carton = next(p for p in CATALOG if p.category is Category.HEATED_TOBACCO and p.price > 5000)
    basket.add(carton, 3)
    return basket


def facts(sale_id: str, wallet: str, *, flags: int = 0) -> SaleFacts:
    basket = carton_basket()
    lines = tuple(
        SaleLine(ln.product.gtin, ln.product.category, ln.quantity, ln.product.price, ln.line_total)
        for ln in basket.lines
    )
    return SaleFacts(
        sale_id=sale_id,
        time=NOW,
        lines=lines,
        total=basket.total.amount,
        token_flags=flags,
        token_age_s=5,
        store_id="S001",
        terminal_id="T01",
        wallet_id=wallet_ref(wallet),
        device_id="00" * 8,
    )


def test_wallets_seen_before_a_restart_still_count(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    basket = carton_basket()
    for i in range(4):
        save_sale(
            store,
            SaleRecord(
                f"s{i}",
                "S001",
                "T01",
                "C1",
                "JPY",
                basket.total.amount,
                "approved",
                basket.lines,
                NOW - 600 + i,
                token_facts={"wallet_ref": wallet_ref(f"w-{i}")},
            ),
        )
    save_sale(
        store,
        SaleRecord(
            "old",
            "S001",
            "T01",
            "C1",
            "JPY",
            100,
            "approved",
            (),
            NOW - 86_400,
            token_facts={"wallet_ref": wallet_ref("w-old")},
        ),
    )
    rules = default_rules()
    fresh, warmed = TerminalRisk(rules), TerminalRisk(rules)
    assert warmed.warm_from(store, now=NOW, window_s=1800) == 4
    probe = facts("new", "w-new")
    cold_ctx = fresh._tracker.context_for(probe)
    warm_ctx = warmed._tracker.context_for(probe)
    assert cold_ctx.terminal_wallets_30m == ()
    assert warm_ctx.terminal_wallets_30m is not None
    assert len(warm_ctx.terminal_wallets_30m) == 4
    assert (
        warmed.decide(probe, trust_list_age_s=0).score
        > fresh.decide(probe, trust_list_age_s=0).score
    )


def test_the_stored_decision_keeps_sentences_inputs_and_version() -> None:
    risk = TerminalRisk(default_rules())
    decision = risk.decide(facts("s1", "w-1", flags=1), trust_list_age_s=0)
    record = risk_record(decision)
    assert record["action"] != "allow"
    assert record["rules_version"] == decision.rules_version
    first = record["reasons"][0]
    assert first["code"] and first["en"] and first["ja"]
    assert isinstance(first["inputs"], dict)


def test_wallet_ref_is_a_stable_pseudonym() -> None:
    assert wallet_ref("w-1") == wallet_ref("w-1") != wallet_ref("w-2")
    assert "w-1" not in wallet_ref("w-1") and len(wallet_ref("w-1")) == 16


def test_wallets_held_or_cancelled_before_a_restart_still_count(tmp_path: Path) -> None:
    """A wallet presented at the till counts whatever became of its sale: held for the
    owner, cancelled, voided. A sale no wallet was presented for does not."""
    store = open_store(tmp_path)
    basket = carton_basket()
    states = ["step_up", "cancelled", "voided", "declined"]
    for i, state in enumerate(states):
        save_sale(
            store,
            SaleRecord(
                f"s{i}", "S001", "T01", "C1", "JPY", basket.total.amount, state,
                basket.lines, NOW - 600 + i, token_facts={"wallet_ref": wallet_ref(f"w-{i}")},
            ),
        )  # fmt: skip
    save_sale(
        store,
        SaleRecord("open", "S001", "T01", "C1", "JPY", 100, "cancelled", (), NOW - 300),
    )
    warmed = TerminalRisk(default_rules())
    assert warmed.warm_from(store, now=NOW, window_s=1800) == len(states)
    seen = warmed._tracker.context_for(facts("new", "w-new")).terminal_wallets_30m
    assert seen is not None and len(seen) == len(states)

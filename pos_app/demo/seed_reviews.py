"""Flagged sales for the demo store, the screenshots and the tests.

The sales follow the 7pay pattern (cartons bought with freshly taken-over
accounts, a "pick up later" order of cartridges, an offline sale the backend
later declined) next to an ordinary flagged basket, with the risk explanations
the engine writes, so a manager sees what a real queue looks like.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pos_app.core.basket import BasketLine
from pos_app.core.catalog import Product
from pos_app.core.categories import Category
from pos_app.core.risk.texts import render
from pos_app.terminal.store.db import LocalStore
from pos_app.terminal.store.sales_repo import SaleRecord, save_sale

CARTON = Product(
    "4901978720883",
    "Cigarettes Mild carton",
    "たばこ マイルド カートン",
    Category.TOBACCO,
    6000,
    10,
    True,
)
CARTRIDGES = Product(
    "4549000000101",
    "Heated tobacco sticks carton",
    "加熱式たばこ カートン",
    Category.HEATED_TOBACCO,
    5500,
    10,
    True,
)
GIFT_CARD = Product(
    "4549000000200",
    "Prepaid card 10,000 yen",
    "プリペイドカード 1万円",
    Category.GIFT_CARD,
    10000,
    0,
    False,
)
ONIGIRI = Product(
    "4901089190018", "Onigiri tuna mayo", "おにぎり ツナマヨネーズ", Category.FOOD, 150, 8, False
)
TEA = Product("4901085000017", "Green tea 500ml", "緑茶 500ml", Category.BEVERAGE, 140, 8, False)


@dataclass(frozen=True, slots=True)
class DemoSale:
    sale_id: str
    cashier_id: str
    lines: tuple[tuple[Product, int], ...]
    age_s: int  # how long before ``now`` the sale was made
    state: str
    action: str
    score: int
    reasons: tuple[tuple[str, dict[str, Any]], ...]
    flags: int = 0
    reason: str | None = None
    offline: bool = False
    pickup_later: bool = False


DEMO_SALES: tuple[DemoSale, ...] = (
    DemoSale(
        "sale-7p-0001",
        "C042",
        ((CARTON, 10),),
        25 * 60,
        "declined",
        "decline",
        95,
        (
            (
                "takeover_token_flags",
                {"flags": ["new_device", "credential_reset"], "cash_convertible": 60000},
            ),
            ("bulk_cash_convertible", {"cartons": 10, "identical_units": 10}),
        ),
        flags=3,
        reason="risk_declined",
    ),
    DemoSale(
        "sale-7p-0002",
        "C042",
        ((CARTRIDGES, 12),),
        70 * 60,
        "step_up",
        "customer_approval",
        80,
        (
            ("pickup_later_cash_convertible", {"cash_convertible": 66000}),
            ("wallet_rotation_at_terminal", {"other_wallets_30m": 3}),
        ),
        flags=1,
        pickup_later=True,
    ),
    DemoSale(
        "sale-7p-0003",
        "C017",
        ((GIFT_CARD, 3), (TEA, 1)),
        3 * 3600,
        "approved",
        "manager_approval",
        55,
        (("large_cash_convertible_basket", {"cash_convertible": 30000}),),
    ),
    DemoSale(
        "sale-7p-0004",
        "C017",
        ((CARTON, 2), (ONIGIRI, 2)),
        26 * 3600,
        "declined",
        "allow",
        20,
        (),
        reason="insufficient_funds",
        offline=True,
    ),
    DemoSale(
        "sale-7p-0005",
        "C042",
        ((ONIGIRI, 3), (TEA, 2)),
        2 * 86400,
        "approved",
        "customer_approval",
        35,
        (("old_token", {"token_age_s": 240}),),
        flags=16,
    ),
)


def record_of(demo: DemoSale, *, store_id: str, terminal_id: str, now: int) -> SaleRecord:
    lines = tuple(BasketLine(product, qty) for product, qty in demo.lines)
    reasons = []
    for code, inputs in demo.reasons:
        en, ja = render(code, inputs)
        reasons.append({"code": code, "en": en, "ja": ja, "inputs": inputs})
    return SaleRecord(
        sale_id=demo.sale_id,
        store_id=store_id,
        terminal_id=terminal_id,
        cashier_id=demo.cashier_id,
        currency="JPY",
        total=sum(line.line_total for line in lines),
        state=demo.state,
        lines=lines,
        at=now - demo.age_s,
        reason=demo.reason,
        authorization_id=f"auth-{demo.sale_id}" if demo.state == "approved" else None,
        wallet_masked="w-0b6…a93e" if demo.flags else "w-71c…0f12",
        offline=demo.offline,
        pickup_later=demo.pickup_later,
        risk={
            "action": demo.action,
            "score": demo.score,
            "reasons": reasons,
            "rules_version": "2026.11-1",
        },
        token_facts={"flags": demo.flags, "age_s": 12, "kid": "iss-2026-11"},
    )


def seed_demo_reviews(
    store: LocalStore, *, store_id: str = "S001", terminal_id: str = "T01", now: int
) -> list[str]:
    """Write the demo sales (the first step of each a minute before its outcome)."""
    for demo in DEMO_SALES:
        record = record_of(demo, store_id=store_id, terminal_id=terminal_id, now=now)
        first = replace(record, state="authorizing", reason=None, at=record.at - 60)
        save_sale(store, first)
        save_sale(store, record)
    return [d.sale_id for d in DEMO_SALES]


_HISTORY_PATTERNS: tuple[tuple[tuple[tuple[Product, int], ...], str, int, str], ...] = (
    (((CARTON, 5),), "bulk_cash_convertible", 85, "decline"),
    (((GIFT_CARD, 2),), "large_cash_convertible_basket", 55, "manager_approval"),
    (((CARTRIDGES, 3), (TEA, 1)), "device_new_for_wallet", 45, "customer_approval"),
    (((ONIGIRI, 2),), "old_token", 30, "customer_approval"),
)
_HISTORY_INPUTS: dict[str, dict[str, Any]] = {
    "bulk_cash_convertible": {"cartons": 5, "identical_units": 5},
    "large_cash_convertible_basket": {"cash_convertible": 20000},
    "device_new_for_wallet": {},
    "old_token": {"token_age_s": 200},
}


def seed_history(
    store: LocalStore, *, store_id: str = "S001", terminal_id: str = "T01", now: int, days: int = 7
) -> int:
    """A week of older flagged sales, busier in the evening, for the chart and the reports.

    Deterministic (no randomness) so screenshots and tests see the same week.
    """
    count = 0
    for day in range(1, days):
        for slot, hour_offset in enumerate((3, 5, 8, 9, 10)[: 2 + day % 4]):
            lines, code, score, action = _HISTORY_PATTERNS[(day + slot) % len(_HISTORY_PATTERNS)]
            demo = DemoSale(
                f"sale-h{day:02d}{slot}",
                ("C042", "C017", "C023")[(day + slot) % 3],
                lines,
                day * 86400 + hour_offset * 3600,
                "declined" if action == "decline" else "approved",
                action,
                score,
                ((code, _HISTORY_INPUTS[code]),),
                reason="risk_declined" if action == "decline" else None,
            )
            save_sale(store, record_of(demo, store_id=store_id, terminal_id=terminal_id, now=now))
            count += 1
    return count

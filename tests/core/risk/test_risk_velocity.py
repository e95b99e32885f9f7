"""History features from event streams, and their bounded memory."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TypedDict

from pos_app.core.risk.config import RuleSet
from pos_app.core.risk.features import PastSale, wallet_features
from pos_app.core.risk.model import Action
from pos_app.core.risk.velocity import TerminalTracker, VelocityTracker

TOBACCO = frozenset({"tobacco"})
GIFT = frozenset({"gift_card"})


class _Where(TypedDict):
    """Where and when ``wallet_features`` looks from."""

    now: int
    store_id: str
    device_id: str


def test_wallet_windows_sum_earlier_sales_only(kit: SimpleNamespace, rules: RuleSet) -> None:
    tracker = VelocityTracker(rules)
    t0, day = kit.T0, kit.DAY
    for when, item in [(t0 - 8 * day, kit.CARTON), (t0 - 3 * day, kit.CARTON),
                       (t0 - 5 * 3600, kit.PACK), (t0 - 600, kit.LUNCH)]:  # fmt: skip
        tracker.record_sale(kit.make_sale(item, time=when))
    ctx = tracker.context_for(kit.make_sale(kit.CARTON, time=t0))
    assert (ctx.wallet_sales_1h, ctx.wallet_sales_24h, ctx.wallet_sales_7d) == (1, 2, 3)
    assert (ctx.wallet_spend_1h, ctx.wallet_spend_24h, ctx.wallet_spend_7d) == (650, 1250, 7050)
    assert (ctx.wallet_cc_spend_24h, ctx.wallet_cc_spend_7d) == (600, 6400)
    assert ctx.wallet_cc_max_before_24h == 5800
    assert ctx.wallet_history_sales == 4
    assert ctx.wallet_history_age_s == 8 * day
    assert ctx.wallet_typical_spend == 650
    assert ctx.device_new_for_wallet is False
    assert ctx.other_store_regions_1h == ()


def test_top_up_distant_store_and_new_device(kit: SimpleNamespace, rules: RuleSet) -> None:
    tracker = VelocityTracker(rules)
    tracker.record_topup("w-1", kit.T0 - 300, 50_000)
    osaka = kit.make_sale(kit.LUNCH, time=kit.T0 - 1200, store_id="S9", store_region="JP-27")
    tracker.record_sale(osaka)
    ctx = tracker.context_for(kit.make_sale(kit.CARTON, device_id="dev-2"))
    assert (ctx.last_topup_age_s, ctx.last_topup_amount) == (300, 50_000)
    assert ctx.other_store_regions_1h == ("JP-27",)
    assert ctx.device_new_for_wallet is True
    later = tracker.context_for(kit.make_sale(kit.LUNCH, time=kit.T0 + 2 * kit.DAY))
    assert later.last_topup_age_s is None


def test_store_tobacco_baseline_needs_a_day(kit: SimpleNamespace, rules: RuleSet) -> None:
    tracker = VelocityTracker(rules)
    tracker.record_sale(kit.make_sale(kit.PACK, time=kit.T0 - 2 * kit.DAY))
    tracker.record_sale(kit.make_sale(kit.CARTON, time=kit.T0 - 600))
    ctx = tracker.context_for(kit.make_sale(kit.CARTON))
    assert ctx.store_tobacco_1h == 5800
    assert ctx.store_tobacco_hourly_baseline == 13  # 600 yen over 47 hours
    young = VelocityTracker(rules)
    young.record_sale(kit.make_sale(kit.CARTON, time=kit.T0 - 600))
    assert young.context_for(kit.make_sale(kit.CARTON)).store_tobacco_hourly_baseline is None


def test_memory_is_bounded_by_the_windows(kit: SimpleNamespace, rules: RuleSet) -> None:
    tracker = VelocityTracker(rules)
    for n in range(2000):  # a new wallet every 30 min for ~42 days
        when = kit.T0 + n * 1800
        tracker.record_topup(f"w-{n}", when, 1000)
        tracker.record_sale(kit.make_sale(kit.LUNCH, wallet_id=f"w-{n}", time=when))
    window_wallets = rules.windows.wallet_history_s // 1800
    assert len(tracker) <= window_wallets + 3


def test_terminal_tracker_counts_wallets_and_declines(kit: SimpleNamespace, rules: RuleSet) -> None:
    till = TerminalTracker(rules)
    t0 = kit.T0
    till.record_sale(kit.make_sale(kit.CARTON, wallet_id="w-a", time=t0 - 2000), Action.ALLOW)
    till.record_sale(kit.make_sale(kit.CARTON, wallet_id="w-b", time=t0 - 900), Action.DECLINE)
    till.record_sale(kit.make_sale(kit.PACK, wallet_id="w-b", time=t0 - 800), Action.DECLINE)
    till.record_sale(kit.make_sale(kit.LUNCH, wallet_id="w-c", time=t0 - 60), Action.DECLINE)
    other = kit.make_sale(kit.LUNCH, time=t0 - 30, terminal_id="T02")
    till.record_sale(other, Action.DECLINE)
    ctx = till.context_for(kit.make_sale(kit.LUNCH, time=t0))
    assert ctx.terminal_wallets_30m == (("w-b", 5800), ("w-c", 0))
    assert ctx.terminal_declines_10m == 1
    assert ctx.wallet_sales_24h is None  # the till knows nothing of the network


def test_a_sale_held_for_the_owner_counts_in_exposure_and_vouches_for_nothing() -> None:
    """The backend's held sales: more attempts are more suspicious, never less. They count
    in the wallet's sales, spend and last-hour stores, but make no phone, store or kind of
    goods known and set none of the wallet's usual amounts."""
    now, day = 1_790_000_000, 86_400
    owner = [
        PastSale(now - k * day, 1800, 1800, "S001", "JP-13", "d-owner", False, TOBACCO)
        for k in (4, 3, 2)
    ]
    thief = PastSale(now - 30, 30_000, 30_000, "S777", "JP-27", "d-thief", False, GIFT)
    old_held = PastSale(now - 2 * day, 20_000, 20_000, "S777", "JP-27", "d-thief", False, GIFT)
    here: _Where = {"now": now, "store_id": "S777", "device_id": "d-thief"}
    before = wallet_features(owner, **here)
    after = wallet_features(owner, **here, held=[old_held, thief])
    assert (after["wallet_sales_1h"], after["wallet_sales_7d"]) == (1, 5)
    assert after["wallet_cc_spend_1h"] == after["wallet_spend_1h"] == 30_000
    assert after["wallet_cc_spend_7d"] == 3 * 1800 + 50_000
    assert after["wallet_history_sales"] == 5
    assert after["other_store_regions_1h"] == ()  # the held sale was at this very store
    there: _Where = {**here, "store_id": "S001"}
    elsewhere = wallet_features(owner, **there, held=[thief])
    assert elsewhere["other_store_regions_1h"] == ("JP-27",)
    vouching = (
        "device_new_for_wallet",
        "store_new_for_wallet",
        "wallet_cc_categories",
        "wallet_typical_spend",
        "wallet_cc_max_before_24h",
        "wallet_history_age_s",
        "device_owner_approvals",
    )
    assert {k: after[k] for k in vouching} == {k: before[k] for k in vouching}
    assert (after["device_new_for_wallet"], after["store_new_for_wallet"]) == (True, True)
    assert after["wallet_cc_categories"] == ("tobacco",)
    assert (after["wallet_typical_spend"], after["wallet_cc_max_before_24h"]) == (1800, 1800)
    # A wallet whose only history is held: every phone and store is new to it.
    only_held = wallet_features([], **here, held=[thief])
    assert (only_held["device_new_for_wallet"], only_held["store_new_for_wallet"]) == (True, True)
    assert only_held["wallet_cc_categories"] == ()
    assert wallet_features([], **here)["device_new_for_wallet"] is False  # no history at all

"""The rules. Each is written once and runs in both contexts (terminal and backend).

A rule looks at the sale, the basket aggregates and the context, and answers
FIRED (with the inputs that made it fire), CLEAR, or UNKNOWN when an input it
needs is ``None`` in this context. Thresholds come from the rule's
:class:`RuleSpec` (``config/risk.toml``); nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from pos_app.core.risk.config import Policy, RuleSpec
from pos_app.core.risk.model import (
    FLAG_NAMES,
    KNOWN_FLAG_BITS,
    RiskContext,
    RuleEvaluation,
    RuleStatus,
    SaleFacts,
    SaleLine,
)


class BasketTotals(NamedTuple):
    """Aggregates of one basket, computed once per decision."""

    total: int
    cash_convertible: int
    tobacco: int
    cartons: int
    max_identical_cc_units: int


def resale_value(line: SaleLine, policy: Policy) -> int:
    """A line's easy-to-resell value (discounted goods count for part of their price)."""
    if line.category in policy.discounted_resale:
        return line.line_total * policy.discounted_resale_percent // 100
    return line.line_total


def basket_of(facts: SaleFacts, policy: Policy) -> BasketTotals:
    cc = tobacco = cartons = identical = 0
    for line in facts.lines:
        if line.category in policy.cash_convertible:
            if line.category in policy.discounted_resale:
                cc += line.line_total * policy.discounted_resale_percent // 100
            else:
                cc += line.line_total
            identical = max(identical, line.quantity)
        if line.category in policy.tobacco_family:
            tobacco += line.line_total
            if line.unit_price >= policy.carton_min_unit_price:
                cartons += line.quantity
    return BasketTotals(facts.total, cc, tobacco, cartons, identical)


class Inputs(NamedTuple):
    facts: SaleFacts
    ctx: RiskContext
    basket: BasketTotals
    policy: Policy


RuleFn = Callable[[Inputs, RuleSpec], RuleEvaluation]
RULES: dict[str, RuleFn] = {}
# Rules whose nature is "this cannot be decided offline": when one fires the sale
# needs online authorization.
ONLINE_RULES = frozenset(
    {"unknown_token_flags", "offline_cash_convertible", "offline_trust_list_old"}
)
# Rules only one side can evaluate: their inputs are None (or never set) on the
# other side, so they cannot fire there. The replay skips them on that side; a
# test checks that they indeed never fire there.
TERMINAL_RULES = frozenset(
    {
        "wallet_rotation_at_terminal",
        "terminal_recent_declines",
        "pickup_later_cash_convertible",  # the finalize request does not carry it
        "offline_trust_list_old",
    }
)
BACKEND_RULES = frozenset(
    {
        "token_reused",
        "wallet_frozen",
        "cash_convertible_above_history",
        "wallet_repeat_cash_convertible",
        "wallet_weekly_cash_convertible",
        "wallet_spend_spike",
        "topup_then_spend",
        "distant_stores_1h",
        "device_new_for_wallet",
        "store_new_for_wallet",
        "category_new_for_wallet",
        "owner_approval_refused",
        "store_tobacco_spike",
    }
)


# The least easy-to-resell value a basket needs before a rule can fire: the rule's
# parameter (plus 1 where the rule needs strictly more). Below it the rule is
# clear whatever the context, so ``RiskEngine.decide_both`` skips it (most
# baskets hold none of these goods). A test checks each gate against the rule.
CC_GATES: dict[str, tuple[str | None, int]] = {
    "takeover_token_flags": ("min_cash_convertible", 0),
    "weak_account_flags": ("min_cash_convertible", 0),
    "cash_convertible_above_history": ("min_basket_cash_convertible", 0),
    "wallet_repeat_cash_convertible": ("min_basket_cash_convertible", 0),
    "wallet_weekly_cash_convertible": ("min_basket_cash_convertible", 0),
    "wallet_spend_spike": (None, 1),
    "topup_then_spend": ("min_cash_convertible", 0),
    "device_new_for_wallet": ("min_cash_convertible", 0),
    "store_new_for_wallet": ("min_cash_convertible", 0),
    "category_new_for_wallet": ("min_new_value", 0),
    "owner_approval_refused": ("min_cash_convertible", 0),
    "wallet_rotation_at_terminal": ("min_cash_convertible", 0),
    "terminal_recent_declines": ("min_cash_convertible", 0),
    "large_cash_convertible_basket": ("min_cash_convertible", 0),
    "pickup_later_cash_convertible": ("min_cash_convertible", 0),
    "old_token": ("min_cash_convertible", 0),
    "offline_cash_convertible": ("max_offline_cash_convertible", 1),
}


def cc_gate(spec: RuleSpec) -> int:
    """The easy-to-resell value below which ``spec``'s rule cannot fire (0: no gate)."""
    gate = CC_GATES.get(spec.code)
    if gate is None:
        return 0
    param, extra = gate
    return (spec.yen(param) if param else 0) + extra


def rule(fn: RuleFn) -> RuleFn:
    RULES[fn.__name__.removeprefix("_")] = fn
    return fn


def _result(spec: RuleSpec, condition: bool, inputs: dict[str, Any]) -> RuleEvaluation:
    status = RuleStatus.FIRED if condition else RuleStatus.CLEAR
    return RuleEvaluation(spec.code, status, inputs)


def _unknown(spec: RuleSpec, missing: str) -> RuleEvaluation:
    return RuleEvaluation(
        spec.code, RuleStatus.UNKNOWN, {}, "not known in this context: " + missing
    )


def flag_names(bits: int) -> list[str]:
    return [name for name, bit in FLAG_NAMES.items() if bits & bit]


@rule
def _token_reused(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    if i.ctx.token_reused is None:
        return _unknown(spec, "token_reused")
    return _result(spec, i.ctx.token_reused, {"token_reused": i.ctx.token_reused})


@rule
def _wallet_frozen(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    if i.ctx.wallet_frozen is None:
        return _unknown(spec, "wallet_frozen")
    return _result(spec, i.ctx.wallet_frozen, {"wallet_frozen": i.ctx.wallet_frozen})


@rule
def _unknown_token_flags(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    unknown = int(i.facts.token_flags) & ~KNOWN_FLAG_BITS
    return _result(
        spec, unknown != 0, {"token_flags": i.facts.token_flags, "unknown_bits": unknown}
    )


def _flag_rule(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    hits = int(i.facts.token_flags) & spec.flags("flags")
    minimum = spec.yen("min_cash_convertible")
    inputs = {
        "flags": flag_names(hits),
        "cash_convertible": i.basket.cash_convertible,
        "min_cash_convertible": minimum,
    }
    return _result(spec, hits != 0 and i.basket.cash_convertible >= minimum, inputs)


RULES["takeover_token_flags"] = _flag_rule
RULES["weak_account_flags"] = _flag_rule


@rule
def _cash_convertible_above_history(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    c = i.ctx
    if c.wallet_cc_spend_24h is None or c.wallet_cc_max_before_24h is None:
        return _unknown(spec, "wallet history")
    floor = spec.yen("floor")
    combined = i.basket.cash_convertible + c.wallet_cc_spend_24h
    # What the owner already approved on this phone, of the kinds of goods this basket
    # holds, counts as part of its history, and the day may reach the owner's growth of it.
    approved = _approved_for(i)
    largest = max(c.wallet_cc_max_before_24h, approved)
    allowance = max(
        spec.number("growth_factor") * largest, i.policy.owner_approval_growth * approved
    )
    inputs = {
        "cash_convertible_24h": combined,
        "largest_earlier_cash_convertible": largest,
        "floor": floor,
    }
    fired = (
        i.basket.cash_convertible >= spec.yen("min_basket_cash_convertible")
        and combined >= floor
        and combined > allowance
    )
    return _result(spec, fired, inputs)


@rule
def _wallet_repeat_cash_convertible(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    if i.ctx.wallet_cc_spend_24h is None:
        return _unknown(spec, "wallet_cc_spend_24h")
    prior = i.ctx.wallet_cc_spend_24h
    combined = prior + i.basket.cash_convertible
    inputs = {"earlier_cash_convertible_24h": prior, "cash_convertible_24h": combined}
    return _unless_approved(
        i,
        spec,
        inputs,
        i.basket.cash_convertible >= spec.yen("min_basket_cash_convertible")
        and prior >= spec.yen("min_prior_24h")
        and combined >= spec.yen("min_combined_24h"),
    )


@rule
def _wallet_weekly_cash_convertible(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    prior = i.ctx.wallet_cc_spend_7d
    if prior is None:
        return _unknown(spec, "wallet_cc_spend_7d")
    combined = prior + i.basket.cash_convertible
    minimum = spec.yen("min_basket_cash_convertible")
    fired = i.basket.cash_convertible >= minimum and combined >= spec.yen("min_combined_7d")
    return _unless_approved(i, spec, {"cash_convertible_7d": combined}, fired)


@rule
def _wallet_spend_spike(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    total, typical = i.basket.total, i.ctx.wallet_typical_spend
    if typical is None:
        return _unknown(spec, "wallet_typical_spend")
    fired = total >= spec.yen("min_total") and total > spec.number("factor") * typical
    inputs = {"total": total, "typical_spend": typical}
    return _unless_approved(i, spec, inputs, fired and i.basket.cash_convertible > 0)


@rule
def _topup_then_spend(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    age, amount = i.ctx.last_topup_age_s, i.ctx.last_topup_amount
    if age is None or amount is None:
        return _unknown(spec, "last top-up")
    inputs = {
        "minutes_since_topup": age // 60,
        "topup_amount": amount,
        "total": i.basket.total,
        "cash_convertible": i.basket.cash_convertible,
    }
    spent = i.basket.total >= spec.number("min_share_of_topup") * amount
    fired = spent and i.basket.cash_convertible >= spec.yen("min_cash_convertible")
    return _unless_approved(i, spec, inputs, fired and age <= spec.yen("within_s"))


@rule
def _distant_stores_1h(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    regions = i.ctx.other_store_regions_1h
    if regions is None:
        return _unknown(spec, "other_store_regions_1h")
    groups = i.policy.region_groups
    here = groups.get(i.facts.store_region, i.facts.store_region)
    far = sorted({r for r in regions if groups.get(r, r) != here})
    inputs = {"store_region": i.facts.store_region, "distant_regions_1h": far}
    return _result(spec, bool(far) and i.basket.total >= spec.yen("min_total"), inputs)


@rule
def _device_new_for_wallet(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    new = i.ctx.device_new_for_wallet
    if new is None:
        return _unknown(spec, "device_new_for_wallet")
    fired = new and i.basket.cash_convertible >= spec.yen("min_cash_convertible")
    return _result(
        spec, fired, {"device_id": i.facts.device_id, "cash_convertible": i.basket.cash_convertible}
    )


@rule
def _store_new_for_wallet(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    new, sales = i.ctx.store_new_for_wallet, i.ctx.wallet_history_sales
    if new is None or sales is None:
        return _unknown(spec, "store_new_for_wallet")
    cc = i.basket.cash_convertible
    fired = (
        new and sales >= spec.yen("min_history_sales") and cc >= spec.yen("min_cash_convertible")
    )
    return _unless_approved(i, spec, {"history_sales": sales, "cash_convertible": cc}, fired)


@rule
def _category_new_for_wallet(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    known, sales = i.ctx.wallet_cc_categories, i.ctx.wallet_history_sales
    if known is None or sales is None:
        return _unknown(spec, "wallet_cc_categories")
    watched, policy = spec.names("categories"), i.policy
    new: set[str] = set()
    value = 0
    for line in i.facts.lines:
        kind = line.category
        if kind in watched and kind in policy.cash_convertible and kind not in known:
            new.add(kind)
            value += resale_value(line, policy)
    inputs = {"history_sales": sales, "new_categories": sorted(new), "new_value": value}
    return _unless_approved(i, spec, inputs, value >= spec.yen("min_new_value"))


@rule
def _owner_approval_refused(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    count, age = i.ctx.wallet_refused_approvals, i.ctx.wallet_last_refused_age_s
    if count is None:
        return _unknown(spec, "wallet_refused_approvals")
    cc = i.basket.cash_convertible
    inputs = {
        "refused_approvals": count,
        "hours_since_refused": None if age is None else age // 3600,
        "cash_convertible": cc,
    }
    fired = (
        count > 0
        and age is not None
        and age <= spec.yen("within_s")
        and cc >= spec.yen("min_cash_convertible")
    )
    return _result(spec, fired, inputs)


def _unless_approved(
    i: Inputs, spec: RuleSpec, inputs: dict[str, Any], condition: bool
) -> RuleEvaluation:
    """Fired on ``condition``, unless the owner approved a basket like it on this phone."""
    return _result(spec, condition and not _owner_approved(i), inputs)


def _owner_approved(i: Inputs) -> bool:
    """A remembered basket pattern: the owner approved, on this phone, a basket holding
    every kind of easy-to-resell goods this one holds, and this one's easy-to-resell
    value is at most ``policy.owner_approval_growth`` times that basket's."""
    approved = _approved_for(i)
    return approved > 0 and i.basket.cash_convertible <= i.policy.owner_approval_growth * approved


def _approved_for(i: Inputs) -> int:
    """The largest easy-to-resell value the owner approved on this phone in one basket
    that held every kind of such goods this basket holds (0: none). An approval of
    cigarettes vouches for cigarettes, not for heated tobacco or gift cards."""
    approvals = i.ctx.device_owner_approvals
    if not approvals:
        return 0
    resale = i.policy.cash_convertible
    kinds = {str(line.category) for line in i.facts.lines if line.category in resale}
    return max((cc for cc, known in approvals if kinds.issubset(known)), default=0)


@rule
def _wallet_rotation_at_terminal(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    seen = i.ctx.terminal_wallets_30m
    if seen is None:
        return _unknown(spec, "terminal_wallets_30m")
    minimum = spec.yen("min_cash_convertible")
    others = sorted(w for w, cc in seen if w != i.facts.wallet_id and cc >= minimum)
    inputs = {"other_wallets_30m": len(others), "cash_convertible": i.basket.cash_convertible}
    fired = len(others) >= spec.yen("min_other_wallets") and i.basket.cash_convertible >= minimum
    return _result(spec, fired, inputs)


@rule
def _terminal_recent_declines(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    declines = i.ctx.terminal_declines_10m
    if declines is None:
        return _unknown(spec, "terminal_declines_10m")
    fired = declines >= spec.yen("min_declines") and i.basket.cash_convertible >= spec.yen(
        "min_cash_convertible"
    )
    return _result(
        spec, fired, {"declines_10m": declines, "cash_convertible": i.basket.cash_convertible}
    )


@rule
def _bulk_cash_convertible(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    b = i.basket
    fired = b.cartons >= spec.yen("min_cartons") or b.max_identical_cc_units >= spec.yen(
        "min_identical_units"
    )
    return _result(spec, fired, {"cartons": b.cartons, "identical_units": b.max_identical_cc_units})


@rule
def _large_cash_convertible_basket(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    cc = i.basket.cash_convertible
    return _result(spec, cc >= spec.yen("min_cash_convertible"), {"cash_convertible": cc})


@rule
def _large_basket(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    return _result(spec, i.basket.total >= spec.yen("min_total"), {"total": i.basket.total})


@rule
def _pickup_later_cash_convertible(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    cc = i.basket.cash_convertible
    fired = i.facts.pickup_later and cc >= spec.yen("min_cash_convertible")
    return _result(spec, fired, {"pickup_later": i.facts.pickup_later, "cash_convertible": cc})


@rule
def _old_token(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    age = i.facts.token_age_s
    if age is None:
        return _unknown(spec, "token_age_s")
    fired = age > spec.yen("max_age_s") and i.basket.cash_convertible >= spec.yen(
        "min_cash_convertible"
    )
    return _result(spec, fired, {"token_age_s": age, "cash_convertible": i.basket.cash_convertible})


@rule
def _store_tobacco_spike(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    last_hour, baseline = i.ctx.store_tobacco_1h, i.ctx.store_tobacco_hourly_baseline
    if last_hour is None or baseline is None:
        return _unknown(spec, "store tobacco history")
    inputs = {"store_tobacco_1h": last_hour, "store_hourly_baseline": baseline}
    fired = (
        i.basket.tobacco >= spec.yen("min_basket_tobacco")
        and last_hour >= spec.yen("min_store_1h")
        and last_hour > spec.number("factor") * baseline
    )
    return _result(spec, fired, inputs)


@rule
def _offline_cash_convertible(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    cc = i.basket.cash_convertible
    fired = i.facts.offline and cc > spec.yen("max_offline_cash_convertible")
    inputs = {"offline": i.facts.offline, "cash_convertible": cc}
    return _result(spec, fired, {**inputs, "limit": spec.yen("max_offline_cash_convertible")})


@rule
def _offline_trust_list_old(i: Inputs, spec: RuleSpec) -> RuleEvaluation:
    if not i.facts.offline:
        return _result(spec, False, {"offline": False})
    age = i.ctx.trust_list_age_s
    if age is None:
        return _unknown(spec, "trust_list_age_s")
    return _result(spec, age > spec.yen("max_age_s"), {"trust_list_age_h": age // 3600})

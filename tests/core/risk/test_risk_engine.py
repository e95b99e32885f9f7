"""The ladder, the two contexts, offline acceptance and the explanation."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from pos_app.core.risk.config import RuleSet
from pos_app.core.risk.engine import RiskEngine
from pos_app.core.risk.explain import explain
from pos_app.core.risk.model import Action, RiskContext, RuleStatus, TokenFlag, decision_line
from pos_app.core.risk.rules import basket_of, cc_gate

TERMINAL = RiskContext(terminal_wallets_30m=(), terminal_declines_10m=0, trust_list_age_s=3600)


def test_plain_basket_is_allowed_with_no_reasons(kit: SimpleNamespace, rules: RuleSet) -> None:
    decision = RiskEngine(rules).decide(kit.make_sale(kit.LUNCH, kit.PACK), TERMINAL)
    assert decision.action is Action.ALLOW
    assert decision.score == 0
    assert decision.reasons == ()
    assert decision.offline_ok
    assert decision.rules_version == rules.version


def test_large_basket_without_takeover_goes_to_a_manager(
    kit: SimpleNamespace, rules: RuleSet
) -> None:
    sale = kit.make_sale(("electronics", 1, 120_000))
    ctx = RiskContext(
        wallet_cc_spend_24h=0, wallet_cc_max_before_24h=150_000,
        wallet_history_age_s=60 * 86_400, wallet_history_sales=40,
    )  # fmt: skip
    decision = RiskEngine(rules).decide(sale, ctx)
    assert decision.action is Action.MANAGER_APPROVAL
    assert decision.manager_may_override
    assert {"large_basket", "large_cash_convertible_basket"} <= set(decision.codes)


def test_takeover_signal_turns_manager_into_owner(kit: SimpleNamespace, rules: RuleSet) -> None:
    sale = kit.make_sale(("electronics", 1, 120_000), token_flags=TokenFlag.CREDENTIAL_RESET)
    decision = RiskEngine(rules).decide(sale, TERMINAL)
    assert decision.action is Action.CUSTOMER_APPROVAL
    assert not decision.manager_may_override
    reason = next(r for r in decision.reasons if r.code == "takeover_token_flags")
    assert reason.takeover
    assert reason.inputs["flags"] == ["credential_reset"]
    assert "credential reset" in reason.en
    assert "パスワード等の変更" in reason.ja


def test_backend_rules_do_not_fire_in_the_terminal_context(
    kit: SimpleNamespace, rules: RuleSet
) -> None:
    decision = RiskEngine(rules).decide(kit.make_sale(kit.CARTON), TERMINAL)
    status = {ev.code: ev for ev in decision.evaluations}
    assert status["cash_convertible_above_history"].status is RuleStatus.UNKNOWN
    assert status["token_reused"].status is RuleStatus.UNKNOWN
    assert status["wallet_rotation_at_terminal"].status is RuleStatus.CLEAR
    assert "not known in this context" in status["topup_then_spend"].note
    assert decision.action is Action.ALLOW


def test_same_rules_fire_in_the_backend_context(kit: SimpleNamespace, rules: RuleSet) -> None:
    ctx = RiskContext(
        wallet_cc_spend_24h=0, wallet_cc_max_before_24h=0, wallet_history_age_s=0,
        wallet_history_sales=0, wallet_cc_categories=(), token_reused=False,
    )  # fmt: skip
    engine = RiskEngine(rules)
    decision = engine.decide(kit.make_sale(kit.CARTON), ctx)
    assert decision.codes == ("category_new_for_wallet",)
    assert decision.action is Action.CUSTOMER_APPROVAL
    assert not decision.manager_may_override
    two = engine.decide(kit.make_sale(("heated_tobacco", 2, 5800)), ctx)
    assert two.codes == ("cash_convertible_above_history", "category_new_for_wallet")


def test_token_reuse_and_frozen_wallet_decline(kit: SimpleNamespace, rules: RuleSet) -> None:
    engine = RiskEngine(rules)
    assert engine.decide(kit.make_sale(kit.LUNCH), RiskContext(token_reused=True)).action is (
        Action.DECLINE
    )
    frozen = engine.decide(kit.make_sale(kit.LUNCH), RiskContext(wallet_frozen=True))
    assert frozen.action is Action.DECLINE
    assert not frozen.manager_may_override


def test_offline_only_small_cash_convertible(kit: SimpleNamespace, rules: RuleSet) -> None:
    engine = RiskEngine(rules)
    small = engine.decide(kit.make_sale(kit.PACK, kit.PACK, kit.LUNCH, offline=True), TERMINAL)
    assert small.offline_ok
    carton = engine.decide(kit.make_sale(kit.CARTON, offline=True), TERMINAL)
    assert carton.online_required and not carton.offline_ok
    assert carton.action is Action.CUSTOMER_APPROVAL
    assert carton.codes == ("offline_cash_convertible",)
    lunch = engine.decide(kit.make_sale(("food", 40, 650), offline=True), TERMINAL)
    assert lunch.offline_ok


def test_old_trust_list_blocks_offline(kit: SimpleNamespace, rules: RuleSet) -> None:
    ctx = RiskContext(trust_list_age_s=3 * 86_400)
    decision = RiskEngine(rules).decide(kit.make_sale(kit.LUNCH, offline=True), ctx)
    assert decision.codes == ("offline_trust_list_old",)
    assert not decision.offline_ok


def test_unknown_flag_bits_require_online(kit: SimpleNamespace, rules: RuleSet) -> None:
    engine = RiskEngine(rules)
    online = engine.decide(kit.make_sale(kit.LUNCH, token_flags=64), TERMINAL)
    assert online.online_required and "unknown_token_flags" in online.codes
    assert online.action is Action.ALLOW
    offline = engine.decide(kit.make_sale(kit.LUNCH, token_flags=64, offline=True), TERMINAL)
    assert not offline.offline_ok
    assert offline.action is Action.CUSTOMER_APPROVAL
    assert offline.reasons[0].inputs["unknown_bits"] == 64


def test_to_json_shape(kit: SimpleNamespace, rules: RuleSet) -> None:
    sale = kit.make_sale(kit.CARTON, token_flags=TokenFlag.NEW_DEVICE, sale_id="s-9")
    decision = RiskEngine(rules).decide(sale, TERMINAL)
    assert json.loads(decision.to_json()) == {
        "sale_id": "s-9",
        "action": "customer_approval",
        "score": 40,
        "reasons": ["takeover_token_flags"],
    }


@pytest.mark.parametrize(
    "sale_id, codes",
    [("s-9", ()), ("s-1", ("a", "b_c")), ('店-"1"\\\n', ("takeover_token_flags",))],
)
def test_decision_line_is_the_json_dumps_of_its_dict(sale_id: str, codes: tuple[str, ...]) -> None:
    line = decision_line(sale_id, Action.CUSTOMER_APPROVAL, 42, codes)
    expected = {"sale_id": sale_id, "action": "customer_approval", "score": 42,
                "reasons": list(codes)}  # fmt: skip
    assert line == json.dumps(expected, ensure_ascii=False, separators=(", ", ": "))


def test_explanation_shows_reasons_inputs_and_unknowns(
    kit: SimpleNamespace, rules: RuleSet
) -> None:
    sale = kit.make_sale(("heated_tobacco", 4, 5800), token_flags=TokenFlag.OVERSEAS)
    decision = RiskEngine(rules).decide(sale, TERMINAL)
    text = explain(sale, decision, TERMINAL)
    assert "action: customer_approval  score: 60" in text
    assert "manager may override: no" in text
    assert f"rules version: {rules.version}" in text
    assert "[takeover_token_flags] +40, forces customer_approval, takeover signal" in text
    assert "en: The account shows signs of takeover (overseas)" in text
    assert "ja: アカウントに乗っ取りの兆候（海外からの利用）" in text
    assert '"cash_convertible": 23200' in text
    assert "unknown cash_convertible_above_history: not known in this context" in text
    assert "wallet_typical_spend: null" in text


def test_every_fired_rule_has_both_sentences(kit: SimpleNamespace, rules: RuleSet) -> None:
    flags = TokenFlag.NEW_DEVICE | TokenFlag.NEW_ACCOUNT | 64
    sale = kit.make_sale(("e_cig", 40, 5800), pickup_later=True, offline=True, token_flags=flags,
                         token_age_s=250)  # fmt: skip
    ctx = RiskContext(
        terminal_wallets_30m=(("w-a", 50_000), ("w-b", 60_000)), terminal_declines_10m=3,
        trust_list_age_s=10**6, wallet_cc_spend_24h=9000, wallet_cc_spend_7d=90_000,
        wallet_cc_max_before_24h=0, wallet_history_age_s=0, wallet_history_sales=4,
        wallet_typical_spend=700, device_new_for_wallet=True, store_new_for_wallet=True,
        device_owner_approvals=(), last_topup_age_s=120, wallet_refused_approvals=1,
        wallet_last_refused_age_s=7200, wallet_cc_categories=("tobacco",),
        last_topup_amount=100_000, other_store_regions_1h=("JP-27",), store_tobacco_1h=400_000,
        store_tobacco_hourly_baseline=5000, token_reused=True, wallet_frozen=True,
    )  # fmt: skip
    decision = RiskEngine(rules).decide(sale, ctx)
    assert set(decision.codes) == {r.code for r in rules.rules}
    for reason in decision.reasons:
        assert reason.en and reason.ja and "{" not in reason.en + reason.ja
    assert decision.action is Action.DECLINE


def test_rules_below_their_resale_gate_cannot_fire(kit: SimpleNamespace, rules: RuleSet) -> None:
    """decide_both skips a rule whose easy-to-resell minimum the basket misses (CC_GATES):
    running it anyway, in the worst context, must not fire it."""
    engine = RiskEngine(rules)
    worst = RiskContext(
        terminal_wallets_30m=(("w-a", 10**6), ("w-b", 10**6)), terminal_declines_10m=9,
        wallet_cc_spend_24h=10**6, wallet_cc_spend_7d=10**6, wallet_cc_max_before_24h=0,
        wallet_history_age_s=0, wallet_history_sales=9, wallet_typical_spend=1,
        device_new_for_wallet=True, device_owner_approvals=(), store_new_for_wallet=True,
        wallet_refused_approvals=3, wallet_last_refused_age_s=1, last_topup_age_s=1,
        last_topup_amount=1, other_store_regions_1h=("JP-13",), trust_list_age_s=10**6,
        wallet_cc_categories=(),
    )  # fmt: skip
    gated = {spec.code: cc_gate(spec) for spec in rules.rules if cc_gate(spec) > 0}
    assert len(gated) >= 15
    for code, gate in gated.items():
        sale = kit.make_sale(("gift_card", 1, gate - 1), ("food", 50, 3000), pickup_later=True,
                             offline=True, token_flags=31, token_age_s=290)  # fmt: skip
        (ev,) = [e for e in engine.evaluate(sale, worst) if e.code == code]
        assert ev.status is not RuleStatus.FIRED, (code, gate)
        till, back = engine.decide_both(sale, till_ctx=worst, backend_ctx=worst)
        assert code not in till.codes + back.codes
        full = engine.decide_both(sale, till_ctx=worst, backend_ctx=worst, gate=False)
        assert (till.action, back.action) == (full[0].action, full[1].action)
        assert (till.codes, back.codes) == (full[0].codes, full[1].codes)
    # Nothing easy to resell (the common case, its own fast path): only ungated rules run.
    for sale in (kit.make_sale(("food", 50, 3000), offline=True, token_flags=31),
                 kit.make_sale(kit.LUNCH, store_region="JP-27")):  # fmt: skip
        fast = engine.decide_both(sale, till_ctx=worst, backend_ctx=worst)
        full = engine.decide_both(sale, till_ctx=worst, backend_ctx=worst, gate=False)
        assert [(d.action, d.codes) for d in fast] == [(d.action, d.codes) for d in full]
        assert "large_basket" in fast[0].codes + fast[1].codes or sale.total < 100_000


def test_discounted_resale_goods_count_for_part_of_their_price(
    kit: SimpleNamespace, rules: RuleSet
) -> None:
    party = kit.make_sale(("alcohol", 2, 4000), ("electronics", 1, 3000), ("tobacco", 1, 6000))
    basket = basket_of(party, rules.policy)
    assert rules.policy.discounted_resale_percent == 50
    assert basket.cash_convertible == 4000 + 1500 + 6000
    assert basket.max_identical_cc_units == 2 and basket.tobacco == 6000

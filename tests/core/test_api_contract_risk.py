"""``risk`` of a sale view parsed into typed values; malformed parts are dropped."""

from __future__ import annotations

from typing import get_args

from pos_app.core.api_contract import RiskActionName, RiskDetail, RiskVerdict, parse
from pos_app.core.risk.model import Action


def parse_risk(view: dict[str, object]) -> RiskVerdict | None:
    risk = view.get("risk")
    return None if risk is None else parse(RiskVerdict, risk)


def test_a_full_risk_object_becomes_typed_values() -> None:
    view: dict[str, object] = {
        "status": "step_up_required",
        "risk": {
            "score": 60,
            "action": "customer_approval",
            "reasons": ["cash_convertible_above_history", "bulk_cash_convertible"],
            "details": [
                {"code": "cash_convertible_above_history", "inputs": {"floor": 5000}},
                {"code": "bulk_cash_convertible", "inputs": {"cartons": 3}},
            ],
        },
    }
    risk = parse_risk(view)
    assert risk is not None
    assert (risk.action, risk.score) == ("customer_approval", 60)
    assert risk.reasons == ("cash_convertible_above_history", "bulk_cash_convertible")
    assert risk.details[0] == RiskDetail("cash_convertible_above_history", {"floor": 5000})
    assert risk.detail("bulk_cash_convertible") == RiskDetail(
        "bulk_cash_convertible", {"cartons": 3}
    )


def test_an_answer_without_details_or_with_junk_is_not_trusted() -> None:
    assert parse_risk({"status": "declined", "risk": None}) is None
    risk = parse_risk(
        {
            "risk": {
                "score": True,
                "action": "shrug",
                "reasons": ["a", "a", 7, ""],
                "details": [{"code": 5}, {"code": "a", "inputs": []}, {"code": "b"}, "x"],
            }
        }
    )
    assert risk is not None
    assert (risk.action, risk.score, risk.reasons) == (None, None, ("a",))
    assert risk.details == (RiskDetail("b", {}),)


def test_the_wire_names_an_action_by_the_engines_actions_and_no_other() -> None:
    # mypy checks each Action against RiskActionName where the till sends it (api_risk);
    # this checks the other way: the contract names no action the engine cannot give.
    assert set(get_args(RiskActionName)) == {action.value for action in Action}

"""Reason codes and cashier texts."""

from __future__ import annotations

import re

import pytest

from pos_app.core import reasons
from pos_app.paytoken.reasons import cashier_text

BACKEND_API_CODES = {
    "token_already_used", "insufficient_funds", "wallet_frozen", "device_revoked",
    "limit_exceeded", "risk_declined", "step_up_denied", "step_up_expired",
    "manager_required",  # BACKEND-API.md, revisions (wave 2): 403 without a manager's proof
}  # fmt: skip
NEXT_STEP = re.compile(r"\b(ask|wait|call|do not|reduce|update|check)\b", re.IGNORECASE)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_all_reasons_are_pt1_steps_1_to_21_plus_trust_list_invalid() -> None:
    assert len(reasons.ALL_REASONS) == 22 and len(set(reasons.ALL_REASONS)) == 22
    assert reasons.ALL_REASONS[:17] == reasons.VERIFY_REASONS
    assert reasons.ALL_REASONS[17:] == ("replayed", "trust_list_stale", "online_required",
                                  "over_offline_limit", "trust_list_invalid")  # fmt: skip
    assert set(reasons.BACKEND_REASONS) == BACKEND_API_CODES
    assert set(reasons.ALL_CODES) == set(reasons.ALL_REASONS) | BACKEND_API_CODES


@pytest.mark.parametrize("code", reasons.ALL_CODES)
def test_every_code_has_actionable_english_and_japanese_text(code: str) -> None:
    english, japanese = cashier_text(code, "en"), cashier_text(code, "ja")
    assert ":" in english and NEXT_STEP.search(english.split(":", 1)[1]), english
    assert JAPANESE.search(japanese) and english != japanese
    assert "{" not in english + japanese
    assert cashier_text(code) == english


def test_expired_text_matches_the_issue() -> None:
    assert cashier_text("expired") == (
        "Code expired: ask the customer to refresh the code in their app"
    )


def test_unknown_code_gets_generic_text_naming_it() -> None:
    assert "mystery_code" in cashier_text("mystery_code")
    assert "mystery_code" in cashier_text("mystery_code", "ja")

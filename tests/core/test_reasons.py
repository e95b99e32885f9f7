"""The one enumeration of reason codes: the strings of PT1-TOKEN.md and BACKEND-API.md."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

from pos_app.core import reasons
from pos_app.core.reasons import ReasonCode

# PT1-TOKEN.md section 4, steps 1 to 21 in order.
PT1_STEPS = (
    "too_long", "bad_prefix", "bad_base45", "bad_cbor", "not_sign1", "bad_header", "unknown_kid",
    "bad_signature", "bad_claims", "wrong_audience", "wrong_currency", "lifetime_too_long",
    "not_yet_valid", "expired", "key_revoked", "key_not_valid_for_iat", "key_expired",
    "replayed", "trust_list_stale", "online_required", "over_offline_limit",
)  # fmt: skip
# BACKEND-API.md, POST /v1/sales: a declined sale's reason beside the PT1 codes.
BACKEND_DECLINES = {
    "token_already_used", "insufficient_funds", "wallet_frozen", "device_revoked",
    "limit_exceeded", "risk_declined", "step_up_denied", "step_up_expired",
}  # fmt: skip


def test_the_groups_follow_the_contracts_in_step_order() -> None:
    assert (*reasons.VERIFY_REASONS, *reasons.ACCEPTANCE_REASONS) == PT1_STEPS
    assert reasons.ALL_REASONS[-1] == "trust_list_invalid"
    assert set(reasons.BACKEND_REASONS) >= BACKEND_DECLINES
    assert set(PT1_STEPS) | BACKEND_DECLINES | {"bad_offline_time"} <= set(reasons.DECLINE_REASONS)
    assert len(set(ReasonCode)) == len(list(ReasonCode))  # no alias hides a second name for a code


def test_a_reason_is_its_string_everywhere_it_is_written() -> None:
    code = ReasonCode.OUTCOME_UNKNOWN
    assert code == "outcome_unknown" and f"{code}" == "outcome_unknown" == str(code)
    assert json.dumps({"reason": ReasonCode.REPLAYED}) == '{"reason": "replayed"}'
    conn = sqlite3.connect(":memory:")
    stored = conn.execute("SELECT ?", (ReasonCode.RISK_DECLINED,)).fetchone()[0]
    assert stored == "risk_declined" and type(stored) is str
    assert ReasonCode("wallet_frozen") is ReasonCode.WALLET_FROZEN


def test_the_tills_errors_carry_codes_of_the_enumeration() -> None:
    from pos_app.terminal.errors import NotEnrolled, OutcomeUnknown

    assert OutcomeUnknown("lost").code is ReasonCode.OUTCOME_UNKNOWN
    assert NotEnrolled("no credential").code is ReasonCode.NOT_ENROLLED


SERVER = Path(__file__).resolve().parents[2] / "pos_app" / "server"


def declined_with(root: Path) -> dict[str, str]:
    """Every reason written as a literal where the backend declines a sale
    (``decline(sale, "...")``, ``_decline(..., "...")``) -> where."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in ("decline", "_decline"):
                continue
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.setdefault(arg.value, f"{path.name}:{node.lineno}")
    return found


def test_every_reason_the_backend_declines_with_is_a_member() -> None:
    # The backend spells its declines as strings; a typo would reach the till as a code
    # no text and no rule knows. Each must be one of the enumeration's decline reasons.
    written = declined_with(SERVER)
    assert len(written) >= 5  # the scan sees the backend's declines (not vacuous)
    unknown = {code: at for code, at in written.items() if code not in reasons.DECLINE_REASONS}
    assert unknown == {}


def test_the_decline_scan_catches_a_misspelt_reason(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        'sales.decline(sale, "insufficent_funds", now=1)\n_decline(s, sale, t, "replayed")\n'
    )
    assert declined_with(tmp_path) == {"insufficent_funds": "bad.py:1", "replayed": "bad.py:2"}

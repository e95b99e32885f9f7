"""Everything a manager needs to decide one flagged sale, gathered in one value.

Basket, rules that fired (with their sentences and inputs), token facts, the
cashier and each step's time come from the sale's own rows; approvals and voids
given at the till come from the audit log, which nobody at the store can edit
without it showing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pos_app.core.age_check import AgeCheck, AgeCheckError
from pos_app.core.risk.model import FLAG_NAMES
from pos_app.terminal.audit.log import AuditAction
from pos_app.terminal.reviews.queue import (
    DecisionRecord,
    QueueItem,
    ReviewError,
    decisions_of,
    item_from_row,
    parse_risk,
)
from pos_app.terminal.store.db import LocalStore


@dataclass(frozen=True, slots=True)
class DetailLine:
    name: str
    category: str
    quantity: int
    unit_price: int
    line_total: int


@dataclass(frozen=True, slots=True)
class FiredRule:
    code: str
    en: str
    ja: str
    inputs: tuple[tuple[str, str], ...]
    source: str = "terminal"  # "backend": the payment network's rules added it


@dataclass(frozen=True, slots=True)
class TokenView:
    wallet_masked: str | None
    flags: tuple[str, ...]
    age_s: int | None
    offline: bool
    other: tuple[tuple[str, str], ...]  # facts we do not interpret, shown as they are


@dataclass(frozen=True, slots=True)
class StepTime:
    at: int
    state: str
    detail: str


@dataclass(frozen=True, slots=True)
class TillAction:
    """A manager approval or a void given at the till, from the audit log."""

    at: int
    action: str
    manager_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class SaleDetail:
    item: QueueItem
    lines: tuple[DetailLine, ...]
    rules: tuple[FiredRule, ...]
    rules_version: str
    token: TokenView
    steps: tuple[StepTime, ...]
    till_actions: tuple[TillAction, ...]
    decisions: tuple[DecisionRecord, ...]
    age_check: AgeCheck | None = None  # "20 or older?" for tobacco and alcohol, if asked


ProductName = Callable[[str], str | None]  # sku -> the catalog's name in the manager's language


def load_detail(
    store: LocalStore, sale_id: str, *, product_name: ProductName | None = None
) -> SaleDetail:
    row = _sale_row(store, sale_id)
    risk = parse_risk(row["risk"])
    facts = json.loads(row["token_facts"]) if _has(row, "token_facts") else {}
    review = store.query("SELECT * FROM reviews WHERE sale_id = ?", (sale_id,))
    return SaleDetail(
        item=item_from_row(row, review[0] if review else None),
        lines=_lines(store, sale_id, product_name),
        rules=tuple(_rule(r) for r in risk.get("reasons") or ()),
        rules_version=str(risk.get("rules_version") or ""),
        token=token_view(facts, wallet_masked=row["wallet_masked"], offline=bool(row["offline"])),
        steps=_steps(store, sale_id),
        till_actions=_till_actions(store, sale_id),
        decisions=tuple(decisions_of(store, sale_id)),
        age_check=_age_check(row),
    )


def _age_check(row: Any) -> AgeCheck | None:
    """Kept with this till's own sales (another till's sale has no such column here)."""
    if not _has(row, "age_check"):
        return None
    try:
        return AgeCheck.from_record(json.loads(row["age_check"]))
    except (ValueError, AgeCheckError):
        return None


def token_view(facts: Mapping[str, Any], *, wallet_masked: str | None, offline: bool) -> TokenView:
    raw_flags = facts.get("flags", 0)
    if isinstance(raw_flags, int):
        flags = tuple(name for name, bit in FLAG_NAMES.items() if raw_flags & bit)
    else:
        flags = tuple(str(f) for f in raw_flags or ())
    age = facts.get("age_s", facts.get("token_age_s"))
    known = {"flags", "age_s", "token_age_s", "wallet_masked", "offline"}
    other = tuple((str(k), _text(v)) for k, v in sorted(facts.items()) if k not in known)
    return TokenView(
        wallet_masked=wallet_masked or facts.get("wallet_masked"),
        flags=flags,
        age_s=int(age) if isinstance(age, int | float) else None,
        offline=offline or bool(facts.get("offline")),
        other=other,
    )


def _sale_row(store: LocalStore, sale_id: str) -> Any:
    rows = store.query(
        "SELECT *, 0 AS remote FROM sales WHERE sale_id = ?", (sale_id,)
    ) or store.query(
        "SELECT *, 1 AS remote, 0 AS seq FROM remote_sales WHERE sale_id = ?", (sale_id,)
    )
    if not rows:
        raise ReviewError(f"no flagged sale {sale_id} on this terminal", code="unknown_sale")
    return rows[0]


def _has(row: Any, column: str) -> bool:
    names = row.keys()  # sqlite3.Row: `in` on the row itself looks at values
    return column in names and bool(row[column])


def _rule(reason: Any) -> FiredRule:
    if not isinstance(reason, dict):
        return FiredRule(str(reason), "", "", ())
    inputs = reason.get("inputs") or {}
    pairs = inputs.items() if isinstance(inputs, dict) else inputs
    return FiredRule(
        code=str(reason.get("code", "")),
        en=str(reason.get("en", "")),
        ja=str(reason.get("ja", "")),
        inputs=tuple((str(k), _text(v)) for k, v in pairs),
        source=str(reason.get("source") or "terminal"),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _lines(
    store: LocalStore, sale_id: str, product_name: ProductName | None
) -> tuple[DetailLine, ...]:
    """The sale's lines; names from the catalog in the manager's language where it knows the
    product (the till stores the English name with the sale)."""
    rows = store.query(
        "SELECT sku, name, category, quantity, unit_price, line_total FROM sale_lines"
        " WHERE sale_id = ? ORDER BY line_no",
        (sale_id,),
    )
    return tuple(
        DetailLine(
            (product_name(r["sku"]) if product_name else None) or r["name"],
            r["category"],
            r["quantity"],
            r["unit_price"],
            r["line_total"],
        )
        for r in rows
    )


def _steps(store: LocalStore, sale_id: str) -> tuple[StepTime, ...]:
    rows = store.query(
        "SELECT at, state, detail FROM sale_events WHERE sale_id = ? ORDER BY id", (sale_id,)
    )
    return tuple(StepTime(r["at"], r["state"], r["detail"] or "") for r in rows)


def _till_actions(store: LocalStore, sale_id: str) -> tuple[TillAction, ...]:
    rows = store.query(
        "SELECT at, actor, action, detail FROM audit_log WHERE action IN (?, ?, ?)"
        " AND json_extract(detail, '$.sale_id') = ? ORDER BY id",
        (AuditAction.MANAGER_APPROVAL, AuditAction.VOID, AuditAction.VOID_REFUSED, sale_id),
    )
    actions = []
    for r in rows:
        detail = json.loads(r["detail"])
        reason = detail.get("reason") or detail.get("note") or detail.get("refusal") or ""
        actions.append(TillAction(r["at"], r["action"], r["actor"], str(reason)))
    return tuple(actions)

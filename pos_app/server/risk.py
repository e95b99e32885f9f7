"""The backend's side of the risk decision: features from the database, then the rules.

The shared rules engine (``pos_app.core.risk``) is fed the same sale facts as
the terminal plus the history only the backend knows. The hard outcomes that
are plain facts (token already used, wallet frozen, insufficient funds) are
decided by the finalize flow itself with their own reason codes.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, String, and_, bindparam, case, func, select
from sqlalchemy.orm import Session, aliased

from pos_app.core.categories import Category
from pos_app.core.risk import model
from pos_app.core.risk.config import default_rules
from pos_app.core.risk.engine import RiskEngine
from pos_app.server.models import Device, Sale, TopUp

RANK = {"allow": 0, "customer_approval": 1, "manager_approval": 2, "decline": 3}
TOBACCO = frozenset({Category.TOBACCO, Category.HEATED_TOBACCO, Category.E_CIG})
HOUR, DAY, WEEK = 3600, 86400, 7 * 86400
COUNTED = ("approved", "step_up_required")


@dataclass(frozen=True)
class Verdict:
    action: str
    score: int
    reasons: tuple[str, ...]
    manager_may_override: bool = True
    # The backend's fired rules with their sentences: {code, en, ja, inputs} (for reviews).
    details: tuple[dict[str, Any], ...] = ()
    rules_version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "action": self.action, "reasons": list(self.reasons)}

    def explanation(self) -> dict[str, Any]:
        """What a reviewer reads: the rule-set version and each backend rule that fired."""
        return {"rules_version": self.rules_version, "reasons": list(self.details)}


@dataclass(frozen=True)
class SaleInput:
    """The finalize request reduced to what the rules read."""

    sale_id: str
    store_id: str
    terminal_id: str
    store_region: str
    wallet_id: str
    device_id: str
    total: int
    currency: str
    lines: tuple[tuple[str, str, int, int, int], ...]  # sku, category, qty, unit, line_total
    token_flags: int
    token_age_s: int
    offline: bool


def basket_totals(lines: tuple[tuple[str, str, int, int, int], ...]) -> tuple[int, int]:
    """(cash-convertible total, tobacco total) of a basket."""
    cc = sum(t for _, cat, _, _, t in lines if Category(cat).cash_convertible)
    tob = sum(t for _, cat, _, _, t in lines if Category(cat) in TOBACCO)
    return cc, tob


@functools.cache
def _engine() -> RiskEngine:
    # One rule set for terminal and backend: the packaged defaults (config/risk.toml).
    return RiskEngine(default_rules())


def backend_verdict(session: Session, sale: SaleInput, *, now: int) -> Verdict:
    """Evaluate the shared rule set with the backend's features."""
    context = features(session, sale, now=now)
    facts = model.SaleFacts(
        sale_id=sale.sale_id,
        time=now,
        lines=tuple(
            model.SaleLine(sku=s, category=Category(c), quantity=q, unit_price=u, line_total=t)
            for s, c, q, u, t in sale.lines
        ),
        total=sale.total,
        currency=sale.currency,
        token_flags=sale.token_flags,
        token_age_s=sale.token_age_s,
        offline=sale.offline,
        store_id=sale.store_id,
        terminal_id=sale.terminal_id,
        wallet_id=sale.wallet_id,
        device_id=sale.device_id,
        store_region=sale.store_region,
    )
    decision = _engine().decide(facts, model.RiskContext(**context))
    return Verdict(
        action=decision.action.value,
        score=decision.score,
        reasons=decision.codes,
        manager_may_override=decision.manager_may_override,
        details=tuple(_detail(r) for r in decision.reasons),
        rules_version=decision.rules_version,
    )


def _detail(reason: model.Reason) -> dict[str, Any]:
    # Inputs go into a JSON column: tuples become lists, anything exotic a string.
    inputs = json.loads(json.dumps(reason.inputs, default=str))
    return {"code": reason.code, "en": reason.en, "ja": reason.ja, "inputs": inputs}


def features(session: Session, sale: SaleInput, *, now: int) -> dict[str, Any]:
    """Backend-only history features (RiskContext field names), this sale excluded.

    One statement, every part of it indexed: the wallet's history as one aggregate over
    ``ix_sales_wallet_time``, with scalar subqueries for its last top-up
    (``ix_top_ups_wallet_time``), the other store regions within the hour, and the
    store's tobacco week (``ix_sales_store_time``). The device row is already in the
    session (finalize read it).
    """
    row = session.execute(
        _features_statement(),
        {
            "wallet_id": sale.wallet_id,
            "store_id": sale.store_id,
            "since_1h": now - HOUR,
            "since_24h": now - DAY,
            "since_7d": now - WEEK,
            "since_30d": now - 30 * DAY,
        },
    ).one()
    ctx = _wallet_history(row[:WALLET_COLUMNS], now=now)
    topup_at, topup_amount, regions, tobacco_1h, tobacco_week = row[WALLET_COLUMNS:]
    ctx["last_topup_age_s"] = None if topup_at is None else now - int(topup_at)
    ctx["last_topup_amount"] = None if topup_amount is None else int(topup_amount)
    ctx["other_store_regions_1h"] = tuple(sorted(set(filter(None, (regions or "").split(SEP)))))
    # Baseline: the average hour of the week before the last hour.
    ctx["store_tobacco_1h"] = int(tobacco_1h)
    ctx["store_tobacco_hourly_baseline"] = (int(tobacco_week) - int(tobacco_1h)) // (7 * 24 - 1)
    device = session.get(Device, sale.device_id)
    ctx["device_new_for_wallet"] = device is not None and now - device.created_at < 3 * DAY
    ctx["token_reused"] = False
    ctx["wallet_frozen"] = False
    return ctx


SEP = "\x1f"  # joins region names in one aggregate string; never inside a name
WALLET_COLUMNS = 14


@functools.cache
def _features_statement() -> Any:
    """Built once with bound parameters: building it per sale cost more than running it."""
    since = {n: bindparam(f"since_{n}", type_=BigInteger) for n in ("1h", "24h", "7d", "30d")}
    wallet_id, store_id = bindparam("wallet_id", type_=String), bindparam("store_id", type_=String)
    return select(
        *_wallet_columns(since),
        *_topup_columns(wallet_id),
        _regions_column(wallet_id, store_id, since["1h"]),
        *_tobacco_columns(store_id, since),
    ).where(Sale.wallet_id == wallet_id)


def _wallet_columns(since: dict[str, Any]) -> list[Any]:
    """Velocity over 1 h / 24 h / 7 d, typical spend, history age: one scan of the wallet."""
    counted = Sale.status.in_(COUNTED)
    approved = Sale.status == "approved"
    columns: list[Any] = []
    for span in ("1h", "24h", "7d"):
        recent = and_(counted, Sale.created_at >= since[span])
        columns += [_sum(recent, 1), _sum(recent, Sale.total), _sum(recent, Sale.cc_total)]
    typical = and_(approved, Sale.created_at >= since["30d"], Sale.created_at < since["24h"])
    return [
        *columns,
        _sum(typical, Sale.total),
        _sum(typical, 1),
        func.max(case((and_(counted, Sale.created_at < since["24h"]), Sale.cc_total))),
        func.min(case((approved, Sale.created_at))),
        _sum(approved, 1),
    ]


def _wallet_history(row: Any, *, now: int) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    for i, label in enumerate(("1h", "24h", "7d")):
        ctx[f"wallet_sales_{label}"] = int(row[3 * i])
        ctx[f"wallet_spend_{label}"] = int(row[3 * i + 1])
        ctx[f"wallet_cc_spend_{label}"] = int(row[3 * i + 2])
    typical_sum, typical_n, cc_max, first, n_sales = row[9:]
    # Totals are never negative: floor division is the truncated average read before.
    ctx["wallet_typical_spend"] = int(typical_sum) // int(typical_n) if typical_n else None
    ctx["wallet_cc_max_before_24h"] = int(cc_max or 0)
    ctx["wallet_history_age_s"] = None if first is None else now - int(first)
    ctx["wallet_history_sales"] = int(n_sales)
    return ctx


def _sum(condition: Any, value: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _topup_columns(wallet_id: Any) -> list[Any]:
    last = (
        select(TopUp.created_at, TopUp.amount)
        .where(TopUp.wallet_id == wallet_id)
        .order_by(TopUp.created_at.desc(), TopUp.id.desc())
        .limit(1)
        .subquery()
    )
    return [
        select(last.c.created_at).scalar_subquery(),
        select(last.c.amount).scalar_subquery(),
    ]


def _regions_column(wallet_id: Any, store_id: Any, since_1h: Any) -> Any:
    other = aliased(Sale)
    return (
        select(func.aggregate_strings(other.store_region, SEP))
        .where(
            other.wallet_id == wallet_id,
            other.store_id != store_id,
            other.store_region != "",
            other.status.in_(COUNTED),
            other.created_at >= since_1h,
        )
        .scalar_subquery()
    )


def _tobacco_columns(store_id: Any, since: dict[str, Any]) -> list[Any]:
    store = aliased(Sale)
    week = (
        store.store_id == store_id,
        store.status.in_(COUNTED),
        store.wallet_id.is_not(None),
        store.tobacco_total > 0,
        store.created_at >= since["7d"],
    )
    return [
        select(_sum(store.created_at >= since["1h"], store.tobacco_total))
        .where(*week)
        .scalar_subquery(),
        select(func.coalesce(func.sum(store.tobacco_total), 0)).where(*week).scalar_subquery(),
    ]


def combine(terminal: dict[str, Any] | None, backend: Verdict) -> Verdict:
    """The stricter of the terminal's (advisory) and the backend's verdicts applies."""
    if terminal is None:
        return backend
    t_action = str(terminal["action"])
    action = t_action if RANK[t_action] > RANK[backend.action] else backend.action
    reasons = tuple(dict.fromkeys([*backend.reasons, *terminal["reasons"]]))
    return Verdict(
        action=action,
        score=max(int(terminal["score"]), backend.score),
        reasons=reasons,
        manager_may_override=backend.manager_may_override,
        details=backend.details,
        rules_version=backend.rules_version,
    )

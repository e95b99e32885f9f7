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

from sqlalchemy import BigInteger, String, and_, bindparam, case, func, or_, select, true
from sqlalchemy.orm import Session

from pos_app.core.categories import Category
from pos_app.core.risk import model
from pos_app.core.risk.config import default_rules
from pos_app.core.risk.engine import RiskEngine, combine_actions
from pos_app.core.risk.features import (
    HOUR,
    PastSale,
    refused_features,
    resale_categories,
    store_tobacco_features,
    topup_features,
    wallet_features,
)
from pos_app.core.risk.rules import basket_of
from pos_app.server import db
from pos_app.server.models import Sale, StepUp, TopUp

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
        """The finalize answer's ``risk`` object (BACKEND-API.md, revisions wave 2)."""
        return {
            "score": self.score,
            "action": self.action,
            "reasons": list(self.reasons),
            "details": [{"code": d["code"], "inputs": d["inputs"]} for d in self.details],
        }

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


def _sale_lines(lines: tuple[tuple[str, str, int, int, int], ...]) -> tuple[model.SaleLine, ...]:
    return tuple(
        model.SaleLine(sku=s, category=Category(c), quantity=q, unit_price=u, line_total=t)
        for s, c, q, u, t in lines
    )


def basket_totals(
    lines: tuple[tuple[str, str, int, int, int], ...], *, engine: RiskEngine | None = None
) -> tuple[int, int]:
    """(cash-convertible total, tobacco total) of a basket, as the rules count them."""
    policy = (engine or default_engine()).rules.policy
    facts = model.SaleFacts(sale_id="", time=0, lines=_sale_lines(lines), total=0)
    basket = basket_of(facts, policy)
    return basket.cash_convertible, basket.tobacco


def stored_categories(lines: tuple[tuple[str, str, int, int, int], ...]) -> str:
    """``sales.categories``: the distinct categories of a basket, sorted, comma-separated."""
    return ",".join(sorted({category for _, category, *_ in lines}))


@functools.cache
def default_engine() -> RiskEngine:
    # One rule set for terminal and backend: the packaged defaults (config/risk.toml).
    return RiskEngine(default_rules())


def sale_facts(sale: SaleInput, *, now: int) -> model.SaleFacts:
    """What the backend knows of the sale (it is never told "pick up later")."""
    return model.SaleFacts(
        sale_id=sale.sale_id,
        time=now,
        lines=_sale_lines(sale.lines),
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


def backend_verdict(
    session: Session, sale: SaleInput, *, now: int, engine: RiskEngine | None = None
) -> Verdict:
    """Evaluate the shared rule set with the backend's features (read once)."""
    engine = engine or default_engine()
    context = features(session, sale, now=now, engine=engine)
    decision = engine.decide(sale_facts(sale, now=now), model.RiskContext(**context))
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


def features(
    session: Session, sale: SaleInput, *, now: int, engine: RiskEngine | None = None
) -> dict[str, Any]:
    """Backend-only history features (RiskContext field names), this sale excluded.

    Four indexed reads gather the raw history (the wallet's sales in its history
    window, its last top-up, its step-ups the owner never approved, the store's
    tobacco); the features themselves are
    derived by ``pos_app.core.risk.features``, the functions the backtest uses.
    """
    windows = (engine or default_engine()).rules.windows
    params = _history_params(sale.wallet_id, sale.sale_id, sale.store_id, now=now, windows=windows)
    rules = (engine or default_engine()).rules
    past, held = _wallet_history(session, params["wallet_history"], rules.policy.cash_convertible)
    ctx = wallet_features(
        past, now=now, store_id=sale.store_id, device_id=sale.device_id, held=held
    )
    last, tobacco = _topup_and_tobacco(
        session, params["topup_and_tobacco"], now=now, window_s=windows.store_baseline_s
    )
    ctx.update(topup_features(last, now=now))
    ctx.update(tobacco)
    refused = _refused_step_ups(session, params["refused_step_ups"])
    ctx.update(refused_features(refused, now=now, history_s=windows.wallet_history_s))
    # Hard facts are decided before the rules run (finalize's _hard_reason).
    ctx["token_reused"] = False
    ctx["wallet_frozen"] = False
    return ctx


def features_ahead(
    session: Session, *, wallet_id: str, sale_id: str, store_id: str, now: int
) -> None:
    """Send the reads of :func:`features` ahead, in its order (``db.ahead``)."""
    windows = default_engine().rules.windows
    params = _history_params(wallet_id, sale_id, store_id, now=now, windows=windows)
    for name in ("wallet_history", "topup_and_tobacco", "refused_step_ups"):
        db.ahead(session, _statements()[name], params[name])


def _history_params(
    wallet_id: str, sale_id: str, store_id: str, *, now: int, windows: Any
) -> dict[str, dict[str, Any]]:
    """The bound values of the three history reads, by statement name."""
    since = now - windows.wallet_history_s
    return {
        "wallet_history": {
            "b_wallet": wallet_id,
            "b_since": since,
            "b_now": now,
            "b_sale": sale_id,
        },
        "topup_and_tobacco": {
            "b_wallet": wallet_id,
            "b_topup_since": now - windows.topup_memory_s,
            "b_store": store_id,
            "b_hour": now - HOUR,
            "b_since": now - windows.store_baseline_s,
            "b_now": now,
        },
        "refused_step_ups": {"b_wallet": wallet_id, "b_since": since, "b_now": now},
    }


def _wallet_history(
    session: Session, params: dict[str, Any], cash_convertible: frozenset[str]
) -> tuple[list[PastSale], list[PastSale]]:
    """The wallet's sales in its history window, oldest first: (completed, still held for
    the owner). Only completed ones vouch for anything (``wallet_features``)."""
    rows = db.raw(session, _statements()["wallet_history"], params)
    past: list[PastSale] = []
    held: list[PastSale] = []
    for t, total, cc, store, region, device, ok, paid, kinds, lines in rows.fetchall():
        sale = PastSale(
            int(t),
            int(total),
            int(cc),
            store,
            region or "",
            device or "",
            bool(ok),
            _resale_kinds(kinds, lines, cash_convertible),
        )
        (past if paid else held).append(sale)
    return past, held


def _resale_kinds(
    kinds: str | None, lines: Any, cash_convertible: frozenset[str]
) -> frozenset[str]:
    """The easy-to-resell kinds of goods in a stored sale."""
    if kinds is not None:  # ``sales.categories``, as finalize wrote it
        return _written_kinds(kinds, cash_convertible)
    return resale_categories(_line_categories(lines), cash_convertible)  # an older row


@functools.lru_cache(maxsize=512)
def _written_kinds(kinds: str, cash_convertible: frozenset[str]) -> frozenset[str]:
    # A handful of distinct values for all the sales: each is split once.
    return resale_categories(kinds.split(",") if kinds else (), cash_convertible)


def _line_categories(lines: Any) -> list[str]:
    """The line categories of a sale written before ``sales.categories`` (NULL there), from
    its ``sales.lines`` (JSON as the till sent it).

    A row this cannot read (not JSON, not a list of line objects: an older till, a
    hand repair) vouches for no kind of goods; it never fails the sale being decided.
    """
    if isinstance(lines, str | bytes):  # drivers that do not decode JSON columns
        try:
            lines = json.loads(lines)
        except ValueError:
            return []
    if not isinstance(lines, list):
        return []
    return [str(line.get("category", "")) for line in lines if isinstance(line, dict)]


# A step-up the owner never approved: denied, expired, cancelled, or still pending
# after its expiry (sales.py marks those expired when the sale is next read).
REFUSED = ("denied", "expired", "cancelled")


def _refused_step_ups(session: Session, params: dict[str, Any]) -> list[int]:
    """When the wallet's unapproved step-ups ended (decided or expired), within its history."""
    rows = db.raw(session, _statements()["refused_step_ups"], params).fetchall()
    return [int(t) for (t,) in rows]


def _topup_and_tobacco(
    session: Session, params: dict[str, Any], *, now: int, window_s: int
) -> tuple[tuple[int, int] | None, dict[str, Any]]:
    """The wallet's last top-up in memory, and the store's tobacco: one statement."""
    at, amount, last_hour, in_window, earliest = db.raw(
        session, _statements()["topup_and_tobacco"], params
    ).fetchone()
    tobacco = store_tobacco_features(
        now=now,
        last_hour=int(last_hour),
        in_window=int(in_window),
        earliest=None if earliest is None else int(earliest),
        window_s=window_s,
    )
    return (None if at is None else (int(at), int(amount))), tobacco


@functools.cache
def _statements() -> dict[str, Any]:
    """The two history reads, built once with bound parameters (every sale runs them;
    building an ORM statement per sale cost more than running it)."""
    p = {
        name: bindparam(name, type_=kind)
        for name, kind in (
            ("b_wallet", String()),
            ("b_store", String()),
            ("b_sale", String()),
            ("b_since", BigInteger()),
            ("b_topup_since", BigInteger()),
            ("b_hour", BigInteger()),
            ("b_now", BigInteger()),
        )
    }
    counted = or_(*(Sale.status == status for status in COUNTED))  # raw(): no IN (list)
    wallet_history = (
        select(
            Sale.created_at,
            Sale.total,
            Sale.cc_total,
            Sale.store_id,
            Sale.store_region,
            Sale.device_id,
            StepUp.status == "approved",
            Sale.status == "approved",
            Sale.categories,
            case((Sale.categories.is_(None), Sale.lines)),  # an older row: read its lines
        )
        .outerjoin(StepUp, StepUp.sale_id == Sale.sale_id)
        .where(
            Sale.wallet_id == p["b_wallet"],
            counted,
            Sale.created_at >= p["b_since"],
            Sale.created_at <= p["b_now"],
            Sale.sale_id != p["b_sale"],
        )
        .order_by(Sale.created_at, Sale.sale_id)
    )
    last_topup = (
        select(TopUp.created_at, TopUp.amount)
        .where(
            TopUp.wallet_id == p["b_wallet"],
            TopUp.created_at >= p["b_topup_since"],
            TopUp.created_at <= p["b_now"],
        )
        .order_by(TopUp.created_at.desc(), TopUp.id.desc())
        .limit(1)
        .subquery()
    )
    ended = func.coalesce(StepUp.decided_at, StepUp.expires_at)
    refused_step_ups = select(ended).where(
        StepUp.wallet_id == p["b_wallet"],
        or_(
            *(StepUp.status == status for status in REFUSED),  # raw(): no IN (list)
            and_(StepUp.status == "pending", StepUp.expires_at < p["b_now"]),
        ),
        ended >= p["b_since"],
        ended <= p["b_now"],
    )
    last_hour = Sale.created_at >= p["b_hour"]
    store_tobacco = select(
        func.coalesce(func.sum(case((last_hour, Sale.tobacco_total), else_=0)), 0).label("hour"),
        func.coalesce(func.sum(Sale.tobacco_total), 0).label("window"),
        func.min(Sale.created_at).label("earliest"),
    ).where(
        Sale.store_id == p["b_store"],
        counted,
        Sale.wallet_id.is_not(None),
        Sale.tobacco_total > 0,
        Sale.created_at >= p["b_since"],
        Sale.created_at <= p["b_now"],
    )
    tobacco = store_tobacco.subquery()
    # The aggregate is always one row; the top-up joins it when there is one.
    topup_and_tobacco = select(
        last_topup.c.created_at,
        last_topup.c.amount,
        tobacco.c.hour,
        tobacco.c.window,
        tobacco.c.earliest,
    ).select_from(tobacco.outerjoin(last_topup, true()))
    return {
        "wallet_history": wallet_history,
        "refused_step_ups": refused_step_ups,
        "topup_and_tobacco": topup_and_tobacco,
    }


db.usual(*_statements().values())


def combine(terminal: dict[str, Any] | None, backend: Verdict) -> Verdict:
    """The stricter of the terminal's (advisory) and the backend's verdicts applies."""
    if terminal is None:
        return backend
    action, may_override = combine_actions(
        model.Action(backend.action),
        model.Action(str(terminal["action"])),
        backend_override=backend.manager_may_override,
    )
    reasons = tuple(dict.fromkeys([*backend.reasons, *terminal["reasons"]]))
    return Verdict(
        action=action.value,
        score=max(int(terminal["score"]), backend.score),
        reasons=reasons,
        manager_may_override=may_override,
        details=backend.details,
        rules_version=backend.rules_version,
    )

"""The risk engine in the terminal context: facts from the basket and token, till history.

The terminal knows the basket, the token's flags and age, whether it is
offline, the trust list's age, and its own recent history (wallets presented
and declines, :class:`TerminalTracker`). The backend's verdict is stricter
where it knows more; the terminal's is advisory but decides offline.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from pos_app.core.api_contract import TerminalRiskBody
from pos_app.core.basket import BasketLine
from pos_app.core.categories import Category
from pos_app.core.risk.config import RuleSet, default_rules, load_rules
from pos_app.core.risk.engine import RiskEngine
from pos_app.core.risk.model import Action, Decision, RiskContext, SaleFacts, SaleLine
from pos_app.core.risk.velocity import TerminalTracker
from pos_app.paytoken.claims import Claims
from pos_app.terminal.checkout.types import RiskReasonView
from pos_app.terminal.settings.schema import Settings
from pos_app.terminal.store.db import LocalStore


@dataclass(frozen=True, slots=True)
class SaleContext:
    """What the till knows about a sale, apart from the token."""

    sale_id: str
    lines: tuple[BasketLine, ...]
    total: int
    currency: str
    store_id: str
    terminal_id: str
    pickup_later: bool


def rules_from_settings(settings: Settings) -> RuleSet:
    path = settings.risk.rules_file
    return load_rules(path) if path else default_rules()


def sale_lines(lines: tuple[BasketLine, ...]) -> tuple[SaleLine, ...]:
    return tuple(
        SaleLine(
            sku=ln.product.gtin,
            category=ln.product.category,
            quantity=ln.quantity,
            unit_price=ln.product.price,
            line_total=ln.line_total,
        )
        for ln in lines
    )


class TerminalRisk:
    """Decides with the shared engine and remembers what this till has seen."""

    def __init__(self, rules: RuleSet) -> None:
        self.engine = RiskEngine(rules)
        self._tracker = TerminalTracker(rules)
        self._lock = threading.Lock()  # the tracker is not thread-safe

    def facts(self, sale: SaleContext, claims: Claims, *, now: int, offline: bool) -> SaleFacts:
        return SaleFacts(
            sale_id=sale.sale_id,
            time=now,
            lines=sale_lines(sale.lines),
            total=sale.total,
            currency=sale.currency,
            token_flags=claims.flags,
            token_age_s=max(0, now - claims.iat),
            offline=offline,
            pickup_later=sale.pickup_later,
            store_id=sale.store_id,
            terminal_id=sale.terminal_id,
            wallet_id=wallet_ref(claims.sub),
            device_id=claims.device.hex(),
        )

    def decide(self, facts: SaleFacts, *, trust_list_age_s: int | None) -> Decision:
        with self._lock:
            ctx = self._tracker.context_for(facts, RiskContext(trust_list_age_s=trust_list_age_s))
        return self.engine.decide(facts, ctx)

    def record(self, facts: SaleFacts, action: Action) -> None:
        """Remember the wallet (and a decline) for the next sales at this till."""
        with self._lock:
            self._tracker.record_sale(facts, action)

    def warm_from(self, store: LocalStore, *, now: int, window_s: int) -> int:
        """Rebuild the till's recent history from its own sales after a restart.

        Without this, a thief rotating wallets could reset the "distinct wallets
        at this till" signal by restarting the application. Returns the number
        of sales replayed.
        """
        # Every sale a wallet was presented for counts, whatever became of it: held for
        # the owner, then cancelled or voided, as much as approved or declined.
        rows = store.query(
            "SELECT sale_id, store_id, terminal_id, total, currency, state, token_facts,"
            " updated_at FROM sales WHERE updated_at >= ? AND token_facts IS NOT NULL"
            " ORDER BY updated_at",
            (now - window_s,),
        )
        replayed = 0
        for row in rows:
            facts = _replayed_facts(store, row)
            if facts is not None:
                action = Action.DECLINE if row["state"] == "declined" else Action.ALLOW
                self.record(facts, action)
                replayed += 1
        return replayed


def wallet_ref(wallet_id: str) -> str:
    """A stable pseudonym of the wallet id: the till needs "same wallet or not", not who."""
    return hashlib.sha256(wallet_id.encode("utf-8")).hexdigest()[:16]


def _replayed_facts(store: LocalStore, row: Any) -> SaleFacts | None:
    try:
        token = json.loads(row["token_facts"] or "{}")
    except ValueError:
        return None
    ref = token.get("wallet_ref") if isinstance(token, dict) else None
    if not isinstance(ref, str):
        return None
    lines = tuple(
        SaleLine(
            sku=ln["sku"],
            category=Category(ln["category"]),
            quantity=ln["quantity"],
            unit_price=ln["unit_price"],
            line_total=ln["line_total"],
        )
        for ln in store.query(
            "SELECT sku, category, quantity, unit_price, line_total FROM sale_lines"
            " WHERE sale_id = ? ORDER BY line_no",
            (row["sale_id"],),
        )
    )
    return SaleFacts(
        sale_id=row["sale_id"],
        time=int(row["updated_at"]),
        lines=lines,
        total=row["total"],
        currency=row["currency"],
        store_id=row["store_id"],
        terminal_id=row["terminal_id"],
        wallet_id=ref,
    )


def risk_record(decision: Decision) -> dict[str, Any]:
    """The decision as kept with the local sale: everything a reviewing manager needs."""
    return {
        "action": decision.action.value,
        "score": decision.score,
        "rules_version": decision.rules_version,
        "manager_may_override": decision.manager_may_override,
        "online_required": decision.online_required,
        "reasons": [
            {"code": r.code, "en": r.en, "ja": r.ja, "inputs": _jsonable(r.inputs)}
            for r in decision.reasons
        ],
    }


def _jsonable(inputs: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(json.dumps(inputs, default=str))
    return plain


def reason_views(decision: Decision | None) -> tuple[RiskReasonView, ...]:
    if decision is None:
        return ()
    return tuple(
        RiskReasonView(
            code=r.code,
            en=r.en,
            ja=r.ja,
            inputs=tuple((str(k), str(v)) for k, v in sorted(r.inputs.items())),
        )
        for r in decision.reasons
    )


def api_risk(decision: Decision) -> TerminalRiskBody:
    """``terminal_risk`` of POST /v1/sales."""
    return {
        "score": decision.score,
        "action": decision.action.value,  # mypy checks Action against RiskActionName
        "reasons": [r.code[:64] for r in decision.reasons][:100],
    }

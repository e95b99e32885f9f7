"""``pos-app risk backtest --engine backend``: a sales log through the backend's own code.

Each top-up and each completed sale becomes a row in a scratch database with
the backend's schema (the real migrations), and each sale is decided by what
``finalize`` calls: :func:`pos_app.server.risk.backend_verdict` (the same
feature reads and rule evaluation) combined with the till's advisory verdict by
:func:`pos_app.server.risk.combine`. The till's side is the shared engine with
the till's own history, as the terminal computes it. What became of a sale
held for the owner follows the replay's model of people
(:func:`pos_app.core.risk.backtest.simulated_outcome`).
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pos_app.core.risk.backtest import Outcome, ReplayDecision, simulated_outcome
from pos_app.core.risk.config import RuleSet
from pos_app.core.risk.engine import RiskEngine
from pos_app.core.risk.events import TopUpEvent
from pos_app.core.risk.model import Action, Decision, RiskContext, SaleFacts
from pos_app.core.risk.velocity import TerminalTracker
from pos_app.server import db, risk
from pos_app.server.models import Sale, StepUp, TopUp

COMMIT_EVERY = 500


class BackendReplay:
    """Replays events into a scratch SQLite database (deleted on :meth:`close`)."""

    def __init__(self, rules: RuleSet, *, directory: str | None = None) -> None:
        self.engine = RiskEngine(rules)
        self._terminals = TerminalTracker(rules)
        self._dir = tempfile.TemporaryDirectory(prefix="risk-replay-", dir=directory)
        self._db = db.make_engine(f"sqlite:///{Path(self._dir.name) / 'replay.db'}")
        db.upgrade(self._db)
        self._session: Session = db.session_factory(self._db)()
        self._pending = 0

    def close(self) -> None:
        self._session.close()
        self._db.dispose()
        self._dir.cleanup()

    def __enter__(self) -> BackendReplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def top_up(self, event: TopUpEvent) -> None:
        row = TopUp(wallet_id=event.wallet_id, amount=event.amount, created_at=event.time)
        self._session.add(row)
        self._written()

    def sale(self, facts: SaleFacts, label: str | None = None) -> ReplayDecision:
        till = self.engine.decide(facts, RiskContext(**self._terminals.features_for(facts)))
        backend = risk.backend_verdict(
            self._session, _sale_input(facts), now=facts.time, engine=self.engine
        )
        verdict = risk.combine(_terminal_risk(till), backend)
        action = Action(verdict.action)
        outcome = simulated_outcome(action, label)
        self._record(facts, verdict, outcome)
        self._terminals.record_sale(facts, action)
        return ReplayDecision(facts.sale_id, action, verdict.score, verdict.reasons)

    def _record(self, facts: SaleFacts, verdict: risk.Verdict, outcome: Outcome) -> None:
        lines = _lines(facts)
        cc_total, tobacco_total = risk.basket_totals(lines, engine=self.engine)
        sale = Sale(
            **_alike(facts),
            terminal_id=facts.terminal_id,
            cashier_id="replay",
            lines=[_line_json(line) for line in lines],
            cc_total=cc_total,
            tobacco_total=tobacco_total,
            categories=risk.stored_categories(lines),
            store_region=facts.store_region,
            status="approved" if outcome.completed else "declined",
            risk=verdict.as_dict(),
            created_at=facts.time,
            updated_at=facts.time,
        )
        self._session.add(sale)
        if outcome.owner_approved or outcome.refused:
            self._session.flush()  # the step-up row refers to the sale
            self._session.add(_step_up(facts, "approved" if outcome.owner_approved else "denied"))
        self._written()

    def _written(self) -> None:
        # The feature reads see pending rows (autoflush); committing in batches keeps
        # the scratch database's transactions short without a commit per event.
        self._pending += 1
        if self._pending >= COMMIT_EVERY:
            self._session.commit()
            self._pending = 0


def _alike(facts: SaleFacts) -> dict[str, Any]:
    """The facts every record of a replayed sale (Sale, risk.SaleInput, StepUp) names alike."""
    names = ("sale_id", "store_id", "wallet_id", "device_id", "total", "currency")
    return {name: getattr(facts, name) for name in names}


def _sale_input(facts: SaleFacts) -> risk.SaleInput:
    return risk.SaleInput(
        **_alike(facts),
        terminal_id=facts.terminal_id,
        store_region=facts.store_region,
        lines=_lines(facts),
        token_flags=facts.token_flags,
        token_age_s=facts.token_age_s or 0,
        offline=facts.offline,
    )


def _lines(facts: SaleFacts) -> tuple[tuple[str, str, int, int, int], ...]:
    return tuple(
        (ln.sku, ln.category.value, ln.quantity, ln.unit_price, ln.line_total) for ln in facts.lines
    )


def _line_json(line: tuple[str, str, int, int, int]) -> dict[str, Any]:
    sku, category, quantity, unit_price, line_total = line
    return {
        "sku": sku,
        "name": sku,
        "category": category,
        "quantity": quantity,
        "unit_price": unit_price,
        "line_total": line_total,
    }


def _terminal_risk(decision: Decision) -> dict[str, Any]:
    """The till's verdict as it travels in ``terminal_risk`` (terminal_risk.api_risk)."""
    return {
        "score": decision.score,
        "action": decision.action.value,
        "reasons": list(decision.codes),
    }


def _step_up(facts: SaleFacts, status: str) -> StepUp:
    return StepUp(
        **_alike(facts),
        challenge_id=str(uuid.uuid4()),
        status=status,
        expires_at=facts.time + 120,
        decided_at=facts.time,
    )

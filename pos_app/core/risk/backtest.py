"""Replay a sales log through the rules, the way the live system would see it.

:class:`Replay` keeps the backend's velocity state and each till's own history,
and decides every sale with both (terminal features + backend features, the
same rules). The backtest streams lines, so memory stays flat; labels, when
present, are used only for scoring, never shown to the rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pos_app.core.risk.config import RuleSet
from pos_app.core.risk.engine import RiskEngine
from pos_app.core.risk.events import EventError, SaleEvent, TopUp, parse_event
from pos_app.core.risk.model import Action, Decision, RiskContext, SaleFacts
from pos_app.core.risk.rules import basket_of
from pos_app.core.risk.velocity import TerminalTracker, VelocityTracker


class Replay:
    """Backend velocity state + per-till history + the engine."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.engine = RiskEngine(rules)
        self.velocity = VelocityTracker(rules)
        self.terminals = TerminalTracker(rules)

    def context_for(self, facts: SaleFacts) -> RiskContext:
        return RiskContext(
            **self.terminals.features_for(facts), **self.velocity.features_for(facts)
        )

    def sale(self, facts: SaleFacts) -> tuple[Decision, RiskContext]:
        ctx = self.context_for(facts)
        basket = basket_of(facts, self.rules.policy)
        decision = self.engine.decide(facts, ctx, basket)
        # The log records sales that happened, so they count in velocity whatever
        # the rules would have said; the till remembers its own declines.
        self.velocity.record_sale(facts, basket)
        self.terminals.record_sale(facts, decision.action, basket)
        return decision, ctx

    def top_up(self, event: TopUp) -> None:
        self.velocity.record_topup(event.wallet_id, event.time, event.amount)


# Simple policies reported beside ours: does the policy add friction to a sale?
BASELINES: dict[str, Callable[[int, int], bool]] = {
    "allow_all": lambda total, cc: False,
    "customer_approval_over_1000": lambda total, cc: total > 1000,
    "customer_approval_over_10000": lambda total, cc: total > 10000,
    "customer_approval_any_cash_convertible": lambda total, cc: cc > 0,
}


@dataclass
class Score:
    """Labelled outcomes of one policy."""

    fraud_sales: int = 0
    fraud_value: int = 0
    fraud_value_stopped: int = 0
    legit_sales: int = 0
    legit_value: int = 0
    legit_friction: int = 0
    legit_declined: int = 0
    legit_value_declined: int = 0

    def add(self, label: str, total: int, action: Action) -> None:
        if label == "fraud":
            self.fraud_sales += 1
            self.fraud_value += total
            if action is not Action.ALLOW:
                self.fraud_value_stopped += total
        else:
            self.legit_sales += 1
            self.legit_value += total
            self.legit_friction += action is not Action.ALLOW
            if action is Action.DECLINE:
                self.legit_declined += 1
                self.legit_value_declined += total

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(vars(self))
        out["fraud_value_stopped_share"] = _share(self.fraud_value_stopped, self.fraud_value)
        out["legit_friction_share"] = _share(self.legit_friction, self.legit_sales)
        return out


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


@dataclass
class Backtest:
    """Streaming backtest; feed lines, then read :meth:`summary`."""

    rules: RuleSet
    emit: Callable[[Decision], None]
    report: Callable[[int, str], None]
    replay: Replay = field(init=False)
    events: int = 0
    sales: int = 0
    top_ups: int = 0
    malformed: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    ours: Score = field(default_factory=Score)
    baselines: dict[str, Score] = field(default_factory=lambda: {k: Score() for k in BASELINES})
    _last_time: int = 0

    def __post_init__(self) -> None:
        self.replay = Replay(self.rules)

    def feed(self, lines: Iterable[str]) -> None:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                self.feed_line(number, text)

    def feed_line(self, number: int, text: str) -> None:
        self.events += 1
        try:
            event = parse_event(text)
            if event_time(event) < self._last_time:
                raise EventError(f"time {event_time(event)} is before the previous event's")
        except EventError as exc:
            self.malformed += 1
            self.report(number, str(exc))
            return
        self._last_time = event_time(event)
        if isinstance(event, TopUp):
            self.top_ups += 1
            self.replay.top_up(event)
        else:
            self._sale(event)

    def _sale(self, event: SaleEvent) -> None:
        self.sales += 1
        decision, _ = self.replay.sale(event.facts)
        self.emit(decision)
        self.actions[decision.action.value] += 1
        self.reasons.update(decision.codes)
        if event.label is None:
            return
        total = event.facts.total
        self.ours.add(event.label, total, decision.action)
        cc = basket_of(event.facts, self.rules.policy).cash_convertible
        for name, adds_friction in BASELINES.items():
            action = Action.CUSTOMER_APPROVAL if adds_friction(total, cc) else Action.ALLOW
            self.baselines[name].add(event.label, total, action)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "summary": "risk-backtest",
            "rules_version": self.rules.version,
            "events": self.events,
            "sales": self.sales,
            "top_ups": self.top_ups,
            "malformed": self.malformed,
            "actions": {a.value: self.actions.get(a.value, 0) for a in Action},
            "reasons": dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        }
        labelled = self.ours.fraud_sales + self.ours.legit_sales
        if labelled:
            ours = self.ours.as_dict()
            out["fraud_value_stopped"] = ours["fraud_value_stopped_share"]
            out["legit_friction"] = ours["legit_friction_share"]
            out["legit_declined"] = self.ours.legit_declined
            out["legit_value_declined"] = self.ours.legit_value_declined
            out["labelled"] = ours
            out["baselines"] = {k: v.as_dict() for k, v in self.baselines.items()}
        return out


def event_time(event: TopUp | SaleEvent) -> int:
    return event.time if isinstance(event, TopUp) else event.facts.time


def find_sale(
    lines: Iterable[str], rules: RuleSet, sale_id: str
) -> tuple[SaleFacts, Decision, RiskContext] | None:
    """Replay up to ``sale_id`` and return its facts, decision and context."""
    replay = Replay(rules)
    for text in lines:
        try:
            event = parse_event(text)
        except EventError:
            continue
        if isinstance(event, TopUp):
            replay.top_up(event)
            continue
        decision, ctx = replay.sale(event.facts)
        if event.facts.sale_id == sale_id:
            return event.facts, decision, ctx
    return None

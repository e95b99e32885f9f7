"""Replay a sales log through the rules, the way the live system would see it.

:class:`Replay` keeps the backend's velocity state and each till's own history,
and decides every sale with both (terminal features + backend features, the
same rules). The backtest streams lines, so memory stays flat; labels, when
present, are used only for scoring, never shown to the rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Protocol

from pos_app.core.risk.config import RuleSet
from pos_app.core.risk.engine import RiskEngine, combine
from pos_app.core.risk.events import EventError, SaleEvent, TopUpEvent, parse_event
from pos_app.core.risk.model import Action, Decision, RiskContext, SaleFacts, decision_line
from pos_app.core.risk.rules import basket_of
from pos_app.core.risk.velocity import TerminalTracker, VelocityTracker


class Outcome(NamedTuple):
    """What became of a sale after its decision, in the replay's model of people."""

    completed: bool  # the sale went through and counts in the wallet's history
    owner_approved: bool  # the owner passed a step-up on the paying phone
    refused: bool = False  # a step-up the owner never approved (the backend keeps it)


def simulated_outcome(action: Action, label: str | None) -> Outcome:
    """The replay's model of the person answering a step-up (docs/RISK-BACKTEST.md).

    The label decides only who answers, never a rule: the owner approves their
    own purchase on their phone; a thief cannot pass the phone's user
    verification, so a fraudulent sale held for the owner never completes. A
    manager at the till is assumed to approve (nothing in the log says
    otherwise). Without a label the log is taken as what happened.
    """
    if action is Action.ALLOW or action is Action.MANAGER_APPROVAL:
        return Outcome(completed=True, owner_approved=False)
    if action is Action.DECLINE:
        return Outcome(completed=False, owner_approved=False)
    if label is None:
        return Outcome(completed=True, owner_approved=False)
    legit = label != "fraud"
    return Outcome(completed=legit, owner_approved=legit, refused=not legit)


class Replay:
    """The live system in memory: each till's decision, the backend's, combined.

    The till decides with what it knows (the sale, the token, its own recent
    history); the backend decides with the wallet's and the store's history; the
    stricter applies (``engine.combine``), as finalize does with the till's
    ``terminal_risk``. ``pos_app.server.risk_replay`` runs the same through the
    backend's own code and database.
    """

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.engine = RiskEngine(rules)
        self.velocity = VelocityTracker(rules)
        self.terminals = TerminalTracker(rules)

    def context_for(self, facts: SaleFacts) -> RiskContext:
        """Everything known about the sale on either side (for explanations)."""
        return RiskContext(
            **self.terminals.features_for(facts), **self.velocity.features_for(facts)
        )

    def sale(self, facts: SaleFacts, label: str | None = None, *, full: bool = False) -> Decision:
        """Decide and record one sale (``full``: run every rule, for an explanation)."""
        basket = basket_of(facts, self.rules.policy)
        till_ctx = RiskContext(**self.terminals.features_for(facts))
        # The backend is never told "pick up later" (it is not in the finalize request).
        seen = replace(facts, pickup_later=False) if facts.pickup_later else facts
        backend_ctx = RiskContext(**self.velocity.features_for(facts))
        till, backend = self.engine.decide_both(
            facts,
            till_ctx=till_ctx,
            backend_ctx=backend_ctx,
            backend_facts=seen,
            basket=basket,
            gate=not full,
        )
        decision = combine(till, backend)
        outcome = simulated_outcome(decision.action, label)
        if outcome.completed:
            self.velocity.record_sale(facts, basket, owner_approved=outcome.owner_approved)
        elif outcome.refused:
            self.velocity.record_refused(facts.wallet_id, facts.time)
        self.terminals.record_sale(facts, decision.action, basket)
        return decision

    def top_up(self, event: TopUpEvent) -> None:
        self.velocity.record_topup(event.wallet_id, event.time, event.amount)


class Decided(Protocol):
    """The part of a decision a backtest writes and counts."""

    @property
    def sale_id(self) -> str: ...
    @property
    def action(self) -> Action: ...
    @property
    def score(self) -> int: ...
    @property
    def codes(self) -> tuple[str, ...]: ...
    def to_json(self) -> str: ...


class ReplayDecision(NamedTuple):
    """A decision line from an engine that keeps only the rule codes (backend, till)."""

    sale_id: str
    action: Action
    score: int
    codes: tuple[str, ...]

    def to_json(self) -> str:
        return decision_line(self.sale_id, self.action, self.score, self.codes)


class Engine(Protocol):
    """A way to replay a log: this module's :class:`Replay`, the backend's, the till's."""

    def sale(self, facts: SaleFacts, label: str | None = None) -> Decided: ...

    def top_up(self, event: TopUpEvent) -> None: ...


# Simple policies reported beside ours: does the policy add friction to a sale?
BASELINES: dict[str, Callable[[int, int], bool]] = {
    "allow_all": lambda total, cc: False,
    "customer_approval_over_1000": lambda total, cc: total > 1000,
    "customer_approval_over_10000": lambda total, cc: total > 10000,
    "customer_approval_any_cash_convertible": lambda total, cc: cc > 0,
}


class Score:
    """Labelled outcomes of one policy: sales counted and their yen, all from zero."""

    def __init__(self) -> None:
        self.fraud_sales = self.fraud_value = self.fraud_value_stopped = 0
        self.legit_sales = self.legit_value = self.legit_friction = 0
        self.legit_declined = self.legit_value_declined = 0

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
    emit: Callable[[Decided], None]
    report: Callable[[int, str], None]
    replay: Engine | None = None
    # Sales before this time (Unix seconds) are history only: decided, answered by
    # the replay's people and remembered, like the weeks a live backend has seen
    # before the period under study, but neither written nor scored.
    score_from: int | None = None
    events: int = 0
    sales: int = 0
    history_sales: int = 0
    top_ups: int = 0
    malformed: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    ours: Score = field(default_factory=Score)
    baselines: dict[str, Score] = field(default_factory=lambda: {k: Score() for k in BASELINES})
    _last_time: int = 0

    def __post_init__(self) -> None:
        if self.replay is None:
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
        assert self.replay is not None
        if isinstance(event, TopUpEvent):
            self.top_ups += 1
            self.replay.top_up(event)
        else:
            self._sale(event)

    def _sale(self, event: SaleEvent) -> None:
        assert self.replay is not None
        decision = self.replay.sale(event.facts, event.label)
        if self.score_from is not None and event.facts.time < self.score_from:
            self.history_sales += 1
            return
        self.sales += 1
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
        if self.score_from is not None:
            out["score_from"] = self.score_from
            out["history_sales"] = self.history_sales
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


def event_time(event: TopUpEvent | SaleEvent) -> int:
    return event.time if isinstance(event, TopUpEvent) else event.facts.time


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
        if isinstance(event, TopUpEvent):
            replay.top_up(event)
            continue
        target = event.facts.sale_id == sale_id
        ctx = replay.context_for(event.facts) if target else None
        decision = replay.sale(event.facts, event.label, full=target)
        if ctx is not None:
            return event.facts, decision, ctx
    return None

"""The decision: run every enabled rule, add up the score, climb the ladder.

Ladder (RISK.md): allow -> customer_approval -> manager_approval -> decline.

- A fired rule may force a minimum action (``force`` in the rule file).
- The score is the sum of the fired rules' weights; at ``customer_approval_score``
  the owner must approve, at ``decline_score`` the sale is declined.
- When any fired rule is an account-takeover signal (``takeover = true``), a
  manager can never stand in for the owner: ``manager_approval`` becomes
  ``customer_approval`` and ``manager_may_override`` is False.
- An offline sale that needs online authorization is at least
  ``customer_approval`` (which itself needs the network): offline acceptance
  happens only on a plain ``allow``.
"""

from __future__ import annotations

from pos_app.core.risk.config import RuleSet, RuleSpec
from pos_app.core.risk.model import (
    Action,
    Decision,
    Reason,
    RiskContext,
    RuleEvaluation,
    RuleStatus,
    SaleFacts,
)
from pos_app.core.risk.rules import (
    BACKEND_RULES,
    ONLINE_RULES,
    RULES,
    TERMINAL_RULES,
    BasketTotals,
    Inputs,
    RuleFn,
    basket_of,
    cc_gate,
)

_EMPTY_CONTEXT = RiskContext()
_OTHER_SIDE = "not known in this context: evaluated on the other side"
_FACTS, _TILL, _BACKEND, _OFF = 0, 1, 2, 3


def _side(spec: RuleSpec) -> int:
    if not spec.enabled:
        return _OFF
    if spec.code in TERMINAL_RULES:
        return _TILL
    return _BACKEND if spec.code in BACKEND_RULES else _FACTS


def _skipped(spec: RuleSpec) -> RuleEvaluation:
    if not spec.enabled:
        return RuleEvaluation(spec.code, RuleStatus.DISABLED, {})
    return RuleEvaluation(spec.code, RuleStatus.UNKNOWN, {}, _OTHER_SIDE)


def _gated(spec: RuleSpec) -> RuleEvaluation:
    return RuleEvaluation(
        spec.code, RuleStatus.CLEAR, {}, "clear: too little easy-to-resell value to fire"
    )


class RiskEngine:
    """Stateless evaluator of one rule set; safe to share between threads."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._specs = tuple((spec, RULES[spec.code]) for spec in rules.rules)
        self._by_code = {spec.code: spec for spec in rules.rules}
        # (spec, rule, which side runs it, what the other side reports, the
        # easy-to-resell value it needs to fire, its "clear" below that), built once.
        self._sided = tuple(
            (spec, fn, _side(spec), _skipped(spec), cc_gate(spec), _gated(spec))
            for spec, fn in self._specs
        )
        # Most baskets hold no easy-to-resell goods at all: every gated rule is
        # clear, so decide_both starts from these lists and runs only the rest.
        gates = [needs for *_, needs, _ in self._sided if needs > 0]
        self._min_gate = min(gates, default=0)
        self._low_till: list[RuleEvaluation] = []
        self._low_back: list[RuleEvaluation] = []
        self._low_run: list[tuple[int, RuleSpec, RuleFn, int]] = []
        for index, (spec, fn, side, unknown, needs, clear) in enumerate(self._sided):
            if side == _OFF:
                self._low_till.append(unknown)
                self._low_back.append(unknown)
            elif needs > 0:
                self._low_till.append(unknown if side == _BACKEND else clear)
                self._low_back.append(unknown if side == _TILL else clear)
            else:
                self._low_till.append(unknown)
                self._low_back.append(unknown)
                self._low_run.append((index, spec, fn, side))

    @property
    def version(self) -> str:
        return self.rules.version

    def evaluate(
        self,
        facts: SaleFacts,
        ctx: RiskContext,
        basket: BasketTotals | None = None,
        *,
        skip: frozenset[str] = frozenset(),
    ) -> tuple[RuleEvaluation, ...]:
        """Every rule's outcome; rules in ``skip`` are reported unknown without running."""
        basket = basket or basket_of(facts, self.rules.policy)
        inputs = Inputs(facts, ctx, basket, self.rules.policy)
        out: list[RuleEvaluation] = []
        for spec, fn in self._specs:
            if not spec.enabled:
                out.append(RuleEvaluation(spec.code, RuleStatus.DISABLED, {}))
            elif spec.code in skip:
                out.append(RuleEvaluation(spec.code, RuleStatus.UNKNOWN, {}, _OTHER_SIDE))
            else:
                out.append(fn(inputs, spec))
        return tuple(out)

    def decide(
        self,
        facts: SaleFacts,
        ctx: RiskContext = _EMPTY_CONTEXT,
        basket: BasketTotals | None = None,
        *,
        skip: frozenset[str] = frozenset(),
    ) -> Decision:
        """Decide one sale; ``basket`` (from ``basket_of``) may be passed to avoid recomputing.

        ``skip``: rules this side cannot know (``rules.TERMINAL_RULES`` on the
        backend, ``rules.BACKEND_RULES`` on the till), skipped for speed.
        """
        return self._decision(facts, self.evaluate(facts, ctx, basket, skip=skip))

    def decide_both(
        self,
        facts: SaleFacts,
        *,
        till_ctx: RiskContext,
        backend_ctx: RiskContext,
        backend_facts: SaleFacts | None = None,
        basket: BasketTotals | None = None,
        gate: bool = True,
    ) -> tuple[Decision, Decision]:
        """The till's and the backend's decisions, each rule run on the side that knows it.

        The same as ``decide(facts, till_ctx, skip=BACKEND_RULES)`` and
        ``decide(backend_facts, backend_ctx, skip=TERMINAL_RULES)``, with the rules
        that read only the sale run once for both (``backend_facts`` may differ
        from ``facts`` only in what those rules do not read: "pick up later").
        With ``gate``, a rule the basket's easy-to-resell value cannot reach
        (``rules.CC_GATES``) is reported clear without running (same actions,
        fewer inputs shown); ``gate=False`` runs every rule, for explanations.
        """
        basket = basket or basket_of(facts, self.rules.policy)
        policy = self.rules.policy
        till_in = Inputs(facts, till_ctx, basket, policy)
        back_in = Inputs(backend_facts or facts, backend_ctx, basket, policy)
        till_fired: list[RuleEvaluation] = []
        back_fired: list[RuleEvaluation] = []
        fired = RuleStatus.FIRED
        if gate and basket.cash_convertible < self._min_gate:
            return self._decide_low(till_in, back_in)
        till = []
        back = []
        cc = basket.cash_convertible if gate else None
        for spec, fn, side, unknown, needs, clear in self._sided:
            if side == _OFF:
                till.append(unknown)
                back.append(unknown)
            elif cc is not None and cc < needs:
                till.append(unknown if side == _BACKEND else clear)
                back.append(unknown if side == _TILL else clear)
            elif side == _FACTS:
                ev = fn(till_in, spec)
                till.append(ev)
                back.append(ev)
                if ev.status is fired:
                    till_fired.append(ev)
                    back_fired.append(ev)
            else:  # one side knows the rule, the other reports it unknown
                on_till = side == _TILL
                ev = fn(till_in if on_till else back_in, spec)
                till.append(ev if on_till else unknown)
                back.append(unknown if on_till else ev)
                if ev.status is fired:
                    (till_fired if on_till else back_fired).append(ev)
        return (
            self._decision(facts, tuple(till), till_fired),
            self._decision(back_in.facts, tuple(back), back_fired),
        )

    def _decide_low(self, till_in: Inputs, back_in: Inputs) -> tuple[Decision, Decision]:
        """decide_both for a basket below every resale gate: only ungated rules run."""
        till, back = self._low_till.copy(), self._low_back.copy()
        till_fired: list[RuleEvaluation] = []
        back_fired: list[RuleEvaluation] = []
        for index, spec, fn, side in self._low_run:
            ev = fn(back_in if side == _BACKEND else till_in, spec)
            if side != _BACKEND:
                till[index] = ev
                if ev.status is RuleStatus.FIRED:
                    till_fired.append(ev)
            if side != _TILL:
                back[index] = ev
                if ev.status is RuleStatus.FIRED:
                    back_fired.append(ev)
        return (
            self._decision(till_in.facts, tuple(till), till_fired),
            self._decision(back_in.facts, tuple(back), back_fired),
        )

    def _decision(
        self,
        facts: SaleFacts,
        evaluations: tuple[RuleEvaluation, ...],
        fired: list[RuleEvaluation] | None = None,
    ) -> Decision:
        if fired is None:
            fired = [ev for ev in evaluations if ev.status is RuleStatus.FIRED]
        if not fired:  # most sales: nothing to weigh (both score thresholds are >= 1)
            return Decision(
                sale_id=facts.sale_id,
                action=Action.ALLOW,
                score=0,
                reasons=(),
                rules_version=self.rules.version,
                manager_may_override=True,
                online_required=False,
                evaluations=evaluations,
            )
        reasons = tuple(self._reason(ev) for ev in fired)
        score = sum(r.weight for r in reasons)
        takeover = any(r.takeover for r in reasons)
        online_required = any(r.code in ONLINE_RULES for r in reasons)
        action = self._action(reasons, score, takeover=takeover)
        if facts.offline and online_required:
            action = at_least(action, Action.CUSTOMER_APPROVAL)
        return Decision(
            sale_id=facts.sale_id,
            action=action,
            score=score,
            reasons=reasons,
            rules_version=self.rules.version,
            manager_may_override=not takeover and action is not Action.DECLINE,
            online_required=online_required,
            evaluations=evaluations,
        )

    def _reason(self, ev: RuleEvaluation) -> Reason:
        spec = self._by_code[ev.code]
        return Reason(ev.code, ev.inputs, spec.weight, spec.force, spec.takeover)

    def _action(self, reasons: tuple[Reason, ...], score: int, *, takeover: bool) -> Action:
        policy = self.rules.policy
        action = Action.ALLOW
        for reason in reasons:
            if reason.force is not None:
                action = at_least(action, reason.force)
        if score >= policy.decline_score:
            return Action.DECLINE
        if score >= policy.customer_approval_score:
            action = at_least(action, Action.CUSTOMER_APPROVAL)
        if takeover and action is Action.MANAGER_APPROVAL:
            # The account itself looks taken over: only the owner can vouch for it.
            action = Action.CUSTOMER_APPROVAL
        return action


def at_least(action: Action, floor: Action) -> Action:
    """The stricter of two actions (RISK.md ladder): how verdicts combine everywhere."""
    return floor if floor.rank > action.rank else action


def combine(till: Decision, backend: Decision) -> Decision:
    """What applies when the till's advisory decision travels with the sale to the backend.

    The stricter action wins; the score is the larger one; the backend's reasons
    come first, then the till's own. The backend alone says whether a manager may
    stand in (``pos_app.server.risk.combine`` does the same with the till's
    ``terminal_risk``).
    """
    action, may_override = combine_actions(
        backend.action, till.action, backend_override=backend.manager_may_override
    )
    reasons, evaluations = backend.reasons, backend.evaluations
    if till.reasons:  # most sales: nothing fired on the till, nothing to merge
        seen = set(backend.codes)
        reasons += tuple(r for r in till.reasons if r.code not in seen)
        fired = {ev.code: ev for ev in till.evaluations if ev.status is RuleStatus.FIRED}
        evaluations = tuple(fired.get(ev.code, ev) for ev in evaluations)
    return Decision(
        sale_id=backend.sale_id,
        action=action,
        score=max(till.score, backend.score),
        reasons=reasons,
        rules_version=backend.rules_version,
        manager_may_override=may_override,
        online_required=till.online_required or backend.online_required,
        evaluations=evaluations,
    )


def combine_actions(
    backend: Action, till: Action, *, backend_override: bool
) -> tuple[Action, bool]:
    """The action that applies and whether a manager may stand in for the owner.

    The stricter action wins, except that a side asking for the owner
    (``customer_approval``) is never satisfied by a manager: then a combined
    ``manager_approval`` is the owner's approval, as finalize treats it.
    """
    action = at_least(backend, till)
    owner = Action.CUSTOMER_APPROVAL in (backend, till)
    may_override = backend_override and not owner and action is not Action.DECLINE
    if action is Action.MANAGER_APPROVAL and not may_override:
        action = Action.CUSTOMER_APPROVAL
    return action, may_override

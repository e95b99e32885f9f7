"""``pos-app risk backtest --engine terminal``: what the till decides on its own.

Every sale is replayed as if the backend were unreachable (``offline``), through
the till's own :class:`~pos_app.terminal.terminal_risk.TerminalRisk`: the basket,
the token's flags and age, and this till's recent wallets and declines. The till
never sees top-ups or other stores. A sale it does not ``allow`` could not be
accepted offline; it would wait for the network (the owner's approval).
"""

from __future__ import annotations

from dataclasses import replace

from pos_app.core.risk.config import RuleSet
from pos_app.core.risk.events import TopUpEvent
from pos_app.core.risk.model import Decision, SaleFacts
from pos_app.terminal.terminal_risk import TerminalRisk, wallet_ref


class TillReplay:
    """One :class:`TerminalRisk` per till, as each till keeps its own history."""

    def __init__(self, rules: RuleSet) -> None:
        self._rules = rules
        self._tills: dict[tuple[str, str], TerminalRisk] = {}

    def sale(self, facts: SaleFacts, label: str | None = None) -> Decision:
        del label  # the till's decision is final offline; nobody answers a step-up
        key = (facts.store_id, facts.terminal_id)
        till = self._tills.get(key)
        if till is None:
            till = self._tills[key] = TerminalRisk(self._rules)
        # The till knows the wallet only by a pseudonym (terminal_risk.wallet_ref).
        seen = replace(facts, wallet_id=wallet_ref(facts.wallet_id), offline=True)
        decision = till.decide(seen, trust_list_age_s=None)
        till.record(seen, decision.action)
        return decision

    def top_up(self, event: TopUpEvent) -> None:
        del event  # top-ups happen in the wallet app; the till never sees them

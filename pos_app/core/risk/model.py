"""Values that cross the risk engine's boundary: sale facts, history context, decision.

All money is in integer minor units (yen); all times are Unix seconds injected by
the caller. ``None`` in :class:`RiskContext` means "not known in this context": a
rule whose inputs are unknown does not fire, and the explanation says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntFlag, StrEnum
from typing import Any, NamedTuple

from pos_app.core.categories import Category
from pos_app.core.risk.texts import render


class Action(StrEnum):
    """Outcomes, from least to most friction (RISK.md)."""

    ALLOW = "allow"
    CUSTOMER_APPROVAL = "customer_approval"
    MANAGER_APPROVAL = "manager_approval"
    DECLINE = "decline"

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self]


_ACTION_RANK: dict[Action, int] = {
    Action.ALLOW: 0,
    Action.CUSTOMER_APPROVAL: 1,
    Action.MANAGER_APPROVAL: 2,
    Action.DECLINE: 3,
}


class TokenFlag(IntFlag):
    """PT1 ``flags`` bits (PT1-TOKEN.md section 2)."""

    NEW_DEVICE = 1
    CREDENTIAL_RESET = 2
    OVERSEAS = 4
    NEW_ACCOUNT = 8
    NO_USER_VERIFICATION = 16


KNOWN_FLAG_BITS = 31
# Plain ints: IntFlag arithmetic is slow on the hot path.
FLAG_NAMES: dict[str, int] = {
    "new_device": int(TokenFlag.NEW_DEVICE),
    "credential_reset": int(TokenFlag.CREDENTIAL_RESET),
    "overseas": int(TokenFlag.OVERSEAS),
    "new_account": int(TokenFlag.NEW_ACCOUNT),
    "no_user_verification": int(TokenFlag.NO_USER_VERIFICATION),
}


@dataclass(frozen=True, slots=True)
class SaleLine:
    sku: str
    category: Category
    quantity: int
    unit_price: int
    line_total: int


@dataclass(frozen=True, slots=True)
class SaleFacts:
    """What is known about one sale at the moment of the decision."""

    sale_id: str
    time: int
    lines: tuple[SaleLine, ...]
    total: int
    currency: str = "JPY"
    token_flags: int = 0
    token_age_s: int | None = None
    offline: bool = False
    pickup_later: bool = False
    store_id: str = ""
    terminal_id: str = ""
    wallet_id: str = ""
    device_id: str = ""
    store_region: str = ""


@dataclass(frozen=True, slots=True)
class RiskContext:
    """History features; each is ``None`` when the evaluating side cannot know it.

    Terminal side: the ``terminal_*`` fields and ``trust_list_age_s``. Backend side:
    everything about the wallet across the network, the store, and the token's
    single use.
    """

    # Terminal: other wallets at this terminal in the last 30 min -> their largest
    # cash-convertible basket; declines at this terminal in the last 10 min.
    terminal_wallets_30m: tuple[tuple[str, int], ...] | None = None
    terminal_declines_10m: int | None = None
    trust_list_age_s: int | None = None
    # Backend: the wallet's previous sales (this sale excluded).
    wallet_sales_1h: int | None = None
    wallet_sales_24h: int | None = None
    wallet_sales_7d: int | None = None
    wallet_spend_1h: int | None = None
    wallet_spend_24h: int | None = None
    wallet_spend_7d: int | None = None
    wallet_cc_spend_1h: int | None = None
    wallet_cc_spend_24h: int | None = None
    wallet_cc_spend_7d: int | None = None
    wallet_typical_spend: int | None = None
    wallet_cc_max_before_24h: int | None = None
    wallet_history_age_s: int | None = None
    wallet_history_sales: int | None = None
    device_new_for_wallet: bool | None = None
    # Each basket the owner approved on this phone (a passed step-up) within the
    # wallet's history, oldest first: (its easy-to-resell value, the easy-to-resell
    # kinds of goods it held, sorted); () when none.
    device_owner_approvals: tuple[tuple[int, tuple[str, ...]], ...] | None = None
    store_new_for_wallet: bool | None = None
    # The easy-to-resell categories the wallet bought in its history (sorted).
    wallet_cc_categories: tuple[str, ...] | None = None
    # Step-ups of this wallet the owner never approved (denied, expired,
    # cancelled) within its history, and how long ago the last one ended.
    wallet_refused_approvals: int | None = None
    wallet_last_refused_age_s: int | None = None
    last_topup_age_s: int | None = None
    last_topup_amount: int | None = None
    other_store_regions_1h: tuple[str, ...] | None = None
    store_tobacco_1h: int | None = None
    store_tobacco_hourly_baseline: int | None = None
    token_reused: bool | None = None
    wallet_frozen: bool | None = None


TERMINAL_CONTEXT = "terminal"
BACKEND_CONTEXT = "backend"


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that fired: stable code, sentences for people, and its inputs.

    The sentences are rendered when read: a backtest decides millions of sales
    and reads none of them.
    """

    code: str
    inputs: dict[str, Any]
    weight: int
    force: Action | None
    takeover: bool

    @property
    def en(self) -> str:
        return render(self.code, self.inputs)[0]

    @property
    def ja(self) -> str:
        return render(self.code, self.inputs)[1]


class RuleStatus(StrEnum):
    FIRED = "fired"
    CLEAR = "clear"
    UNKNOWN = "unknown"  # an input is not known in this context
    DISABLED = "disabled"


class RuleEvaluation(NamedTuple):
    """One rule's outcome (a NamedTuple: built for every rule on every decision)."""

    code: str
    status: RuleStatus
    inputs: dict[str, Any]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    sale_id: str
    action: Action
    score: int
    reasons: tuple[Reason, ...]
    rules_version: str
    manager_may_override: bool
    online_required: bool
    evaluations: tuple[RuleEvaluation, ...] = field(default=(), repr=False)

    @property
    def offline_ok(self) -> bool:
        """Offline acceptance is allowed only for a plain ``allow``."""
        return self.action is Action.ALLOW and not self.online_required

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sale_id": self.sale_id,
            "action": self.action.value,
            "score": self.score,
            "reasons": list(self.codes),
        }

    def to_json(self) -> str:
        return decision_line(self.sale_id, self.action, self.score, self.codes)


_encode = json.JSONEncoder(ensure_ascii=False).encode


def decision_line(sale_id: str, action: Action, score: int, codes: tuple[str, ...]) -> str:
    """One backtest decision line, the same bytes as ``json.dumps`` of the dict with
    ``separators=(", ", ": ")`` (a test compares them), written directly for speed."""
    reasons = ", ".join(_encode(c) for c in codes)
    return (
        f'{{"sale_id": {_encode(sale_id)}, "action": "{action.value}", '
        f'"score": {int(score)}, "reasons": [{reasons}]}}'
    )

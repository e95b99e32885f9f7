"""Accepting an authentic token for a sale: steps 18-21 of PT1-TOKEN.md.

:func:`accept` checks and, only when every applicable step passed, records
the ``cti`` (the record itself is the atomic single-use decision: a
concurrent winner makes it ``replayed``). :func:`check_acceptance` only
checks, for callers that record with
:func:`pos_app.paytoken.seen_store.record_on` in their own sale transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict, Unpack

from pos_app.core.reasons import ReasonCode
from pos_app.paytoken.claims import Claims
from pos_app.paytoken.errors import AcceptanceUsageError
from pos_app.paytoken.seen_store import SeenTokenStore
from pos_app.paytoken.verifier import DEFAULT_SKEW, VerifyResult


class Conditions(TypedDict):
    """What steps 18-21 judge a verified token against: the keyword arguments of
    :func:`check_acceptance` and :func:`accept`."""

    now: int
    seen: SeenTokenStore
    offline: bool
    amount: int | None  # the sale's total; required offline (a non-negative int)
    trust_list_stale: bool
    skew: NotRequired[int]  # DEFAULT_SKEW when left out


@dataclass(frozen=True, slots=True)
class AcceptanceResult:
    """Outcome of steps 1-21. ``recorded`` is True when this call stored the cti."""

    ok: bool
    reason: str | None
    claims: Claims | None
    recorded: bool = False
    expires_at: int | None = None  # when the seen-store row may go: exp + skew


def check_acceptance(result: VerifyResult, **conditions: Unpack[Conditions]) -> AcceptanceResult:
    """Steps 18-21 without recording anything."""
    if not result.ok or result.claims is None:
        return AcceptanceResult(ok=False, reason=result.reason, claims=result.claims)
    claims = result.claims
    now, seen, offline = conditions["now"], conditions["seen"], conditions["offline"]
    amount, skew = conditions["amount"], conditions.get("skew", DEFAULT_SKEW)
    if offline and (amount is None or type(amount) is not int or amount < 0):
        raise AcceptanceUsageError("an offline sale needs its amount (a non-negative int)")
    reason = None
    if seen.is_seen(claims.cti, now):
        reason = ReasonCode.REPLAYED
    elif offline and conditions["trust_list_stale"]:
        reason = ReasonCode.TRUST_LIST_STALE
    elif offline and claims.limit == 0:
        reason = ReasonCode.ONLINE_REQUIRED
    elif offline and amount is not None and amount > claims.limit:
        reason = ReasonCode.OVER_OFFLINE_LIMIT
    return AcceptanceResult(
        ok=reason is None, reason=reason, claims=claims, expires_at=claims.exp + skew
    )


def accept(result: VerifyResult, **conditions: Unpack[Conditions]) -> AcceptanceResult:
    """Steps 18-21, then record the cti if all passed (atomic; a lost race is ``replayed``)."""
    checked = check_acceptance(result, **conditions)
    if not checked.ok or checked.claims is None or checked.expires_at is None:
        return checked
    if not conditions["seen"].record(checked.claims.cti, checked.expires_at, now=conditions["now"]):
        return AcceptanceResult(ok=False, reason=ReasonCode.REPLAYED, claims=checked.claims)
    return AcceptanceResult(
        ok=True, reason=None, claims=checked.claims, recorded=True, expires_at=checked.expires_at
    )

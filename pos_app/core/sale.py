"""The sale state machine.

    open ──pay──▶ awaiting_payment ──code_read──▶ authorizing ──▶ approved ──void──▶ voided
      ▲               │    ▲                         │    │
      └────back───────┘    └──retry── declined ◀─────┘    └──step_up──▶ step_up ──▶ approved
                                                                           │        declined
    open, awaiting_payment, declined, step_up ──cancel──▶ cancelled        └──────▶ cancelled

A transition not in ``TRANSITIONS`` raises ``IllegalTransition``: a sale can
never be approved twice, voided before approval, or cancelled while its
finalize request is in flight (its outcome must be known first).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pos_app.core.errors import IllegalTransition


class SaleState(StrEnum):
    OPEN = "open"
    AWAITING_PAYMENT = "awaiting_payment"
    AUTHORIZING = "authorizing"
    STEP_UP = "step_up"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    VOIDED = "voided"


class SaleTrigger(StrEnum):
    PAY = "pay"
    BACK = "back"
    CODE_READ = "code_read"
    APPROVE = "approve"
    DECLINE = "decline"
    STEP_UP = "step_up"
    RETRY = "retry"
    CANCEL = "cancel"
    VOID = "void"


S, E = SaleState, SaleTrigger

TRANSITIONS: dict[tuple[SaleState, SaleTrigger], SaleState] = {
    (S.OPEN, E.PAY): S.AWAITING_PAYMENT,
    (S.OPEN, E.CANCEL): S.CANCELLED,
    (S.AWAITING_PAYMENT, E.BACK): S.OPEN,
    (S.AWAITING_PAYMENT, E.CODE_READ): S.AUTHORIZING,
    (S.AWAITING_PAYMENT, E.CANCEL): S.CANCELLED,
    (S.AUTHORIZING, E.APPROVE): S.APPROVED,
    (S.AUTHORIZING, E.DECLINE): S.DECLINED,
    (S.AUTHORIZING, E.STEP_UP): S.STEP_UP,
    (S.STEP_UP, E.APPROVE): S.APPROVED,
    (S.STEP_UP, E.DECLINE): S.DECLINED,
    (S.STEP_UP, E.CANCEL): S.CANCELLED,
    (S.DECLINED, E.RETRY): S.AWAITING_PAYMENT,
    (S.DECLINED, E.CANCEL): S.CANCELLED,
    (S.APPROVED, E.VOID): S.VOIDED,
}

TERMINAL_STATES = frozenset({S.APPROVED, S.CANCELLED, S.VOIDED})
FINAL_STATES = frozenset({S.CANCELLED, S.VOIDED})


def next_state(state: SaleState, event: SaleTrigger) -> SaleState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s is state)
        hint = f"allowed now: {', '.join(allowed)}" if allowed else "the sale is closed"
        raise IllegalTransition(
            f"cannot {event.value} a sale that is {state.value} ({hint})"
        ) from None


@dataclass(frozen=True, slots=True)
class SaleStatus:
    """A sale's state with the history of how it got there (oldest first)."""

    state: SaleState = SaleState.OPEN
    history: tuple[tuple[SaleTrigger, SaleState], ...] = ()

    def apply(self, event: SaleTrigger) -> SaleStatus:
        new = next_state(self.state, event)
        return SaleStatus(new, (*self.history, (event, new)))

    def can(self, event: SaleTrigger) -> bool:
        return (self.state, event) in TRANSITIONS


def sale_number(store_id: str, terminal_id: str, seq: int) -> str:
    """The short number a person reads aloud and types: store, till, the till's running count
    (``S001-T01-000042``); printed on receipts and shown in the manager window."""
    return f"{store_id}-{terminal_id}-{seq:06d}"

import itertools

import pytest

from pos_app.core.errors import IllegalTransition
from pos_app.core.sale import TRANSITIONS, SaleState, SaleStatus, SaleTrigger, next_state

S, E = SaleState, SaleTrigger


@pytest.mark.parametrize(("state", "event"), sorted(TRANSITIONS))
def test_every_legal_transition(state: SaleState, event: SaleTrigger) -> None:
    assert next_state(state, event) is TRANSITIONS[(state, event)]


ILLEGAL = [
    (s, e) for s, e in itertools.product(SaleState, SaleTrigger) if (s, e) not in TRANSITIONS
]


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_every_illegal_transition_is_refused(state: SaleState, event: SaleTrigger) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot {event.value}"):
        next_state(state, event)


def test_the_contracted_states_exist() -> None:
    assert [s.value for s in SaleState] == [
        "open",
        "awaiting_payment",
        "authorizing",
        "step_up",
        "approved",
        "declined",
        "cancelled",
        "voided",
    ]


def test_a_whole_sale_with_step_up_and_void() -> None:
    status = SaleStatus()
    for event in (E.PAY, E.CODE_READ, E.STEP_UP, E.APPROVE, E.VOID):
        status = status.apply(event)
    assert status.state is S.VOIDED
    assert [s for _, s in status.history] == [
        S.AWAITING_PAYMENT,
        S.AUTHORIZING,
        S.STEP_UP,
        S.APPROVED,
        S.VOIDED,
    ]


def test_key_safety_properties() -> None:
    # Never approved twice; never cancelled while finalizing; closed sales stay closed.
    assert not SaleStatus(S.APPROVED).can(E.APPROVE)
    assert not SaleStatus(S.AUTHORIZING).can(E.CANCEL)
    for event in SaleTrigger:
        assert not SaleStatus(S.VOIDED).can(event)
        assert not SaleStatus(S.CANCELLED).can(event)
    with pytest.raises(IllegalTransition, match="the sale is closed"):
        next_state(S.CANCELLED, E.PAY)
    with pytest.raises(IllegalTransition, match="allowed now: void"):
        next_state(S.APPROVED, E.CANCEL)

"""Age verification (20 or older) for tobacco and alcohol, as Japanese law requires.

A basket with an age-restricted line cannot start its payment until someone
confirms the buyer is 20 or older: the customer, by pressing 「20歳以上です」 on
the customer display, or, when no display is attached and the store allows
it, the cashier after looking at the customer. A "no" takes the restricted
lines out of the sale; with nothing left, the sale is cancelled.

Japanese convenience stores ask on every such sale (no "looks old enough"
shortcut while a display is there to ask), and the 2019 7pay loot was
tobacco: the question is cheap and the record of who answered is evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pos_app.core.basket import BasketLine
from pos_app.core.errors import DomainError

LEGAL_AGE = 20
CUSTOMER = "customer"  # who confirmed, when it was the customer on the display


class AgeCheckError(DomainError):
    code = "age_check"


class AgeCheckMethod(StrEnum):
    CUSTOMER_DISPLAY = "customer_display"  # the customer pressed the button on the display
    CASHIER_VISUAL = "cashier_visual"  # the cashier looked (no display attached)


class AgeCheckResult(StrEnum):
    CONFIRMED = "confirmed"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AgeCheck:
    """One answer to the age question, kept with the sale and in the audit chain."""

    result: AgeCheckResult
    method: AgeCheckMethod
    confirmed_by: str  # CUSTOMER, or the cashier's id
    at: int  # Unix seconds

    def as_record(self) -> dict[str, object]:
        return {
            "result": self.result.value,
            "method": self.method.value,
            "confirmed_by": self.confirmed_by,
            "at": self.at,
        }

    @classmethod
    def from_record(cls, record: dict[str, object]) -> AgeCheck:
        try:
            return cls(
                result=AgeCheckResult(str(record["result"])),
                method=AgeCheckMethod(str(record["method"])),
                confirmed_by=str(record["confirmed_by"]),
                at=int(str(record["at"])),
            )
        except (KeyError, ValueError) as exc:
            raise AgeCheckError(f"unreadable age check record ({exc})") from None


@dataclass(frozen=True, slots=True)
class AgeCheckPolicy:
    cashier_may_confirm: bool  # without a customer display; a store setting


def restricted(lines: Iterable[BasketLine]) -> tuple[BasketLine, ...]:
    return tuple(line for line in lines if line.product.age_restricted)


def needs_age_check(lines: Iterable[BasketLine]) -> bool:
    return bool(restricted(lines))


def without_restricted(lines: Iterable[BasketLine]) -> tuple[BasketLine, ...]:
    """What a "no" leaves of the sale: empty means the sale is cancelled."""
    return tuple(line for line in lines if not line.product.age_restricted)


def check_method(
    policy: AgeCheckPolicy,
    method: AgeCheckMethod,
    *,
    display_attached: bool,
    confirmed: bool = True,
) -> None:
    """Raise unless ``method`` may answer the age question at this till right now.

    A "no" is always accepted: it only takes goods out of the sale."""
    if not confirmed:
        return
    if method is AgeCheckMethod.CUSTOMER_DISPLAY:
        if not display_attached:
            raise AgeCheckError(
                "no customer display is attached: the customer cannot confirm their age on it"
            )
        return
    if display_attached:
        raise AgeCheckError(
            "the customer confirms their age on the customer display: ask them to press "
            "「20歳以上です」 (I am 20 or older) or 「いいえ」 (No)"
        )
    if not policy.cashier_may_confirm:
        raise AgeCheckError(
            "age-restricted items need the customer display at this store: reconnect it, "
            "or remove the tobacco and alcohol from the basket"
        )


def may_cashier_confirm(policy: AgeCheckPolicy, *, display_attached: bool) -> bool:
    try:
        check_method(policy, AgeCheckMethod.CASHIER_VISUAL, display_attached=display_attached)
    except AgeCheckError:
        return False
    return True

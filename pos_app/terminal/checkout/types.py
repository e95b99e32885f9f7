"""The contract between the checkout service (terminal) and the cashier UI.

The UI sends the cashier's intents (start payment, submit a scanned code,
cancel, manager approval) and renders the immutable ``PaymentUpdate`` it gets
back; it holds no business rules. Every ``CheckoutPort`` method may block on
disk or network, so the UI calls them from its background-task lane, never on
the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from pos_app.core.age_check import (
    CUSTOMER,
    AgeCheck,
    AgeCheckMethod,
    AgeCheckPolicy,
    AgeCheckResult,
    check_method,
)
from pos_app.core.basket import BasketLine
from pos_app.terminal.manager_keys import ManagerSigner


class PaymentPhase(StrEnum):
    """One distinct screen state per step (colour and words in the UI)."""

    WAITING_FOR_CODE = "waiting_for_code"
    VERIFYING = "verifying"
    APPROVED = "approved"
    DECLINED = "declined"
    CUSTOMER_APPROVAL = "customer_approval"  # owner approves on their registered phone
    MANAGER_APPROVAL = "manager_approval"  # manager PIN at the till, with a reason
    OFFLINE_ACCEPTED = "offline_accepted"  # accepted offline, queued for the backend
    CANCELLED = "cancelled"
    VOIDED = "voided"
    AGE_CHECK = "age_check"  # tobacco or alcohol: "20 or older?" before the code is shown


@dataclass(frozen=True, slots=True)
class RiskReasonView:
    code: str
    en: str
    ja: str
    inputs: tuple[tuple[str, str], ...] = ()  # what made the rule fire, for the manager


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    sale_id: str
    phase: PaymentPhase
    total: int  # minor units
    currency: str
    reason: str | None = None  # stable reason code when declined (PT1 or backend codes)
    authorization_id: str | None = None
    wallet_masked: str | None = None  # e.g. "w-0b6…a93e"; never the whole id
    expires_at: int | None = None  # step-up deadline (Unix seconds) for the countdown
    risk_action: str | None = None  # allow | customer_approval | manager_approval | decline
    risk_reasons: tuple[RiskReasonView, ...] = ()
    manager_may_override: bool = True  # False when the account itself looks taken over
    offline: bool = False
    age_check: AgeCheck | None = None  # the answer to "20 or older?", once given


@dataclass(frozen=True, slots=True)
class TerminalStatus:
    online: bool
    outbox_pending: int
    trust_list_age_s: int | None  # None: no trust list yet
    trust_list_stale: bool
    clock_skew_s: float | None  # backend time minus ours, from the last response
    enrolled: bool
    # False until the backend has answered or failed once: "online" would be a guess.
    backend_known: bool = True
    outbox_failed: int = 0  # entries the backend refused for good: each has a review open
    receipts_waiting: int = 0  # receipts stored, not yet printed
    printer_problem: str | None = None  # why they wait: a printing.FaultKind value, or None


@dataclass(frozen=True, slots=True)
class AgeAnswer:
    """The answer to "20 or older?" as the till took it: from the customer on the display
    (``AgeCheckMethod.CUSTOMER_DISPLAY``) or from the cashier who looked at them."""

    confirmed: bool
    method: AgeCheckMethod
    cashier_id: str  # the cashier at the till, whoever answered
    display_attached: bool  # a cashier may answer only without a customer display

    def check_allowed(self, policy: AgeCheckPolicy) -> None:
        """``AgeCheckError`` unless this till may take the answer this way (a "no" always)."""
        check_method(
            policy, self.method, display_attached=self.display_attached, confirmed=self.confirmed
        )

    def record(self, *, at: int) -> AgeCheck:
        """The answer as kept with the sale: confirmed by the customer, or by the cashier."""
        by = CUSTOMER if self.method is AgeCheckMethod.CUSTOMER_DISPLAY else self.cashier_id
        result = AgeCheckResult.CONFIRMED if self.confirmed else AgeCheckResult.REFUSED
        return AgeCheck(result=result, method=self.method, confirmed_by=by, at=at)


class CheckoutPort(Protocol):
    def start_payment(
        self, lines: tuple[BasketLine, ...], *, cashier_id: str, pickup_later: bool = False
    ) -> PaymentUpdate:
        """Freeze the basket into a sale waiting for the customer's code."""
        ...

    def submit_token(self, sale_id: str, token_text: str) -> PaymentUpdate:
        """Verify offline, score risk, finalize online or queue offline."""
        ...

    def poll(self, sale_id: str) -> PaymentUpdate:
        """Step-up progress (customer approval); call about every poll_interval_s."""
        ...

    def manager_approve(
        self, sale_id: str, *, manager_id: str, reason: str, signer: ManagerSigner | None = None
    ) -> PaymentUpdate:
        """Record a manager's approval (logged) and finalize; refused when not allowed.
        ``signer`` is the manager's unlocked key (``ManagerSigner``): the backend's proof."""
        ...

    def answer_age_check(self, sale_id: str, answer: AgeAnswer) -> PaymentUpdate:
        """The answer to "20 or older?": yes opens the payment, no cancels the sale
        (the UI then takes the restricted lines out of the basket). Logged in the audit chain."""
        ...

    def cancel(self, sale_id: str) -> PaymentUpdate: ...

    def void(
        self, sale_id: str, *, manager_id: str, reason: str, signer: ManagerSigner | None = None
    ) -> PaymentUpdate:
        """A manager voids a paid sale; ``signer`` (their unlocked key) signs the refund, the
        backend's proof (403 manager_required without it)."""
        ...

    def status(self) -> TerminalStatus: ...

    def notices(self) -> tuple[PaymentUpdate, ...]:
        """Sales settled while nobody watched them (after a restart, offline sales the
        backend refused); each is returned once, for the cashier to be told."""
        ...

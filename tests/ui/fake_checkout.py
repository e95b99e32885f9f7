"""A scriptable CheckoutPort for UI tests that need no backend.

The token text picks the outcome: ``PT1:APPROVE``, ``PT1:DECLINE-<reason>``,
``PT1:CUSTOMER``, ``PT1:MANAGER``, ``PT1:NOOVERRIDE``, ``PT1:OFFLINE``, ``PT1:LOST``
(the finalize's answer was lost: verifying, reason ``outcome_unknown``).
Customer approval and a lost answer resolve when the test sets ``step_up_answer``.
A real PT1 code the test puts in ``approved_tokens`` is approved.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace

from pos_app.core.age_check import AgeCheckPolicy, needs_age_check
from pos_app.core.basket import BasketLine
from pos_app.terminal.checkout.types import (
    AgeAnswer,
    PaymentPhase,
    PaymentUpdate,
    RiskReasonView,
    TerminalStatus,
)
from pos_app.terminal.manager_keys import ManagerSigner

CARTONS = RiskReasonView(
    "cash_convertible_share", "Most of the basket is tobacco cartons", "カートンが大半です"
)


class FakeCheckout:
    def __init__(self) -> None:
        self.sales: dict[str, PaymentUpdate] = {}
        self.calls: list[tuple[str | bool, ...]] = []
        self.step_up_answer: str | None = None  # "approve" | "deny"
        self.delay_s = 0.0
        self.online = True
        self.approved_tokens: set[str] = set()
        self.pending_notices: list[PaymentUpdate] = []  # settled while nobody watched
        self.fail_next: Exception | None = None
        self.age_policy = AgeCheckPolicy(cashier_may_confirm=True)
        self._lock = threading.Lock()

    def _save(self, update: PaymentUpdate) -> PaymentUpdate:
        with self._lock:
            self.sales[update.sale_id] = update
        return update

    def start_payment(
        self, lines: tuple[BasketLine, ...], *, cashier_id: str, pickup_later: bool = False
    ) -> PaymentUpdate:
        self.calls.append(("start", cashier_id))
        total = sum(line.line_total for line in lines)
        phase = PaymentPhase.AGE_CHECK if needs_age_check(lines) else PaymentPhase.WAITING_FOR_CODE
        sale = PaymentUpdate(str(uuid.uuid4()), phase, total, "JPY")
        return self._save(sale)

    def answer_age_check(self, sale_id: str, answer: AgeAnswer) -> PaymentUpdate:
        """The real rule (core) decides who may answer; tests read ``calls``."""
        confirmed = answer.confirmed
        self.calls.append(
            ("age", str(confirmed), answer.method.value, str(answer.display_attached))
        )
        answer.check_allowed(self.age_policy)
        check = answer.record(at=int(time.time()))
        sale = self.sales[sale_id]
        if confirmed:
            return self._save(replace(sale, phase=PaymentPhase.WAITING_FOR_CODE, age_check=check))
        return self._save(
            replace(sale, phase=PaymentPhase.CANCELLED, reason="age_check_refused", age_check=check)
        )

    def submit_token(self, sale_id: str, token_text: str) -> PaymentUpdate:
        self.calls.append(("submit", token_text))
        time.sleep(self.delay_s)
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        sale = self.sales[sale_id]
        kind = token_text.removeprefix("PT1:")
        if kind == "APPROVE" or token_text in self.approved_tokens:
            new = replace(
                sale,
                phase=PaymentPhase.APPROVED,
                authorization_id="A-123",
                wallet_masked="w-0b6…a93e",
            )
        elif kind.startswith("DECLINE-"):
            new = replace(
                sale,
                phase=PaymentPhase.DECLINED,
                reason=kind.removeprefix("DECLINE-").lower().replace(".", "_"),
            )
        elif kind == "CUSTOMER":
            new = replace(
                sale,
                phase=PaymentPhase.CUSTOMER_APPROVAL,
                expires_at=int(time.time()) + 90,
                risk_reasons=(CARTONS,),
            )
        elif kind in {"MANAGER", "NOOVERRIDE"}:
            new = replace(
                sale,
                phase=PaymentPhase.MANAGER_APPROVAL,
                risk_reasons=(CARTONS,),
                manager_may_override=kind == "MANAGER",
            )
        elif kind == "LOST":
            new = replace(sale, phase=PaymentPhase.VERIFYING, reason="outcome_unknown")
        elif kind == "OFFLINE":
            new = replace(sale, phase=PaymentPhase.OFFLINE_ACCEPTED, offline=True)
        else:
            new = replace(sale, phase=PaymentPhase.DECLINED, reason="bad_prefix")
        return self._save(new)

    def poll(self, sale_id: str) -> PaymentUpdate:
        self.calls.append(("poll", sale_id))
        sale = self.sales[sale_id]
        lost = sale.phase is PaymentPhase.VERIFYING and sale.reason == "outcome_unknown"
        if lost and self.step_up_answer == "approve":
            return self._save(replace(sale, phase=PaymentPhase.APPROVED, reason=None))
        if sale.phase is PaymentPhase.CUSTOMER_APPROVAL and self.step_up_answer == "approve":
            return self._save(replace(sale, phase=PaymentPhase.APPROVED, authorization_id="A-9"))
        if sale.phase is PaymentPhase.CUSTOMER_APPROVAL and self.step_up_answer == "deny":
            return self._save(replace(sale, phase=PaymentPhase.DECLINED, reason="step_up_denied"))
        return sale

    def manager_approve(
        self,
        sale_id: str,
        *,
        manager_id: str,
        reason: str,
        signer: ManagerSigner | None = None,
    ) -> PaymentUpdate:
        self.calls.append(("manager", manager_id, reason))
        sale = self.sales[sale_id]
        return self._save(replace(sale, phase=PaymentPhase.APPROVED, authorization_id="A-M"))

    def cancel(self, sale_id: str) -> PaymentUpdate:
        self.calls.append(("cancel", sale_id))
        return self._save(replace(self.sales[sale_id], phase=PaymentPhase.CANCELLED))

    def void(
        self, sale_id: str, *, manager_id: str, reason: str, signer: ManagerSigner | None = None
    ) -> PaymentUpdate:
        self.calls.append(("void", manager_id, reason, signer is not None))
        return self._save(replace(self.sales[sale_id], phase=PaymentPhase.VOIDED))

    def notices(self) -> tuple[PaymentUpdate, ...]:
        told, self.pending_notices = tuple(self.pending_notices), []
        return told

    def status(self) -> TerminalStatus:
        return TerminalStatus(
            online=self.online,
            outbox_pending=0 if self.online else 1,
            trust_list_age_s=120,
            trust_list_stale=False,
            clock_skew_s=0.4,
            enrolled=True,
        )

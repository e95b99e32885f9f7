"""The till's checkout with receipts: prints on approval and after a void, reports the queue.

It wraps any :class:`CheckoutPort` and adds nothing to the money path: the sale's answer is
returned as the checkout gave it, and a receipt that cannot be built is logged, never raised
to the cashier (the sale is done; the receipt can be reprinted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from pos_app.core.basket import BasketLine
from pos_app.core.errors import PosError
from pos_app.terminal.checkout.types import (
    AgeAnswer,
    CheckoutPort,
    PaymentPhase,
    PaymentUpdate,
    TerminalStatus,
)
from pos_app.terminal.manager_keys import ManagerSigner
from pos_app.terminal.printing.service import ReceiptService

log = logging.getLogger(__name__)
PRINTS_ON = frozenset({PaymentPhase.APPROVED, PaymentPhase.OFFLINE_ACCEPTED})


class PrintingCheckout:
    def __init__(self, inner: CheckoutPort, receipts: ReceiptService) -> None:
        self._inner, self._receipts = inner, receipts
        self._printed: set[str] = set()
        self.last_sale_id: str | None = None  # the reprint key's sale

    @property
    def receipts(self) -> ReceiptService:
        return self._receipts

    def start_payment(
        self, lines: tuple[BasketLine, ...], *, cashier_id: str, pickup_later: bool = False
    ) -> PaymentUpdate:
        return self._inner.start_payment(lines, cashier_id=cashier_id, pickup_later=pickup_later)

    def submit_token(self, sale_id: str, token_text: str) -> PaymentUpdate:
        return self._after(self._inner.submit_token(sale_id, token_text))

    def poll(self, sale_id: str) -> PaymentUpdate:
        return self._after(self._inner.poll(sale_id))

    def manager_approve(
        self, sale_id: str, *, manager_id: str, reason: str, signer: ManagerSigner | None = None
    ) -> PaymentUpdate:
        return self._after(
            self._inner.manager_approve(
                sale_id, manager_id=manager_id, reason=reason, signer=signer
            )
        )

    def answer_age_check(self, sale_id: str, answer: AgeAnswer) -> PaymentUpdate:
        return self._inner.answer_age_check(sale_id, answer)

    def notices(self) -> tuple[PaymentUpdate, ...]:
        return self._inner.notices()

    def cancel(self, sale_id: str) -> PaymentUpdate:
        return self._inner.cancel(sale_id)

    def void(
        self, sale_id: str, *, manager_id: str, reason: str, signer: ManagerSigner | None = None
    ) -> PaymentUpdate:
        update = self._inner.void(sale_id, manager_id=manager_id, reason=reason, signer=signer)
        if update.phase == PaymentPhase.VOIDED:
            self._safely(self._receipts.print_void, sale_id)
        return update

    def status(self) -> TerminalStatus:
        state = self._receipts.state()
        return replace(
            self._inner.status(),
            receipts_waiting=state.waiting,
            printer_problem=state.fault.value if state.fault else None,
        )

    def reprint_last(self) -> bool:
        """The till's reprint key: the last approved sale's receipt again."""
        if self.last_sale_id is None:
            return False
        return self._safely(self._receipts.reprint, self.last_sale_id)

    def _after(self, update: PaymentUpdate) -> PaymentUpdate:
        if update.phase in PRINTS_ON and update.sale_id not in self._printed:
            self._printed.add(update.sale_id)
            self.last_sale_id = update.sale_id
            self._safely(self._receipts.on_approved, update.sale_id)
        return update

    @staticmethod
    def _safely(action: Callable[[str], object], sale_id: str) -> bool:
        try:
            action(sale_id)
        except PosError as exc:
            log.error("receipt for sale %s not queued: %s (%s)", sale_id, exc.code, exc.message)
            return False
        return True

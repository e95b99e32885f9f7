"""The checkout service: the cashier's intents for one sale, behind ``CheckoutPort``.

The payment itself (verify, risk, online or offline, reconcile) is
:mod:`pos_app.terminal.checkout.flow`; this module keeps the open sales,
logs manager approvals and voids, and cancels at the backend (or queues the
cancel in the outbox when it cannot be reached).

Every method may block on disk or network: the UI calls them from its
background lane. One lock serialises the service (and the outbox drainer's
updates to sales), so two intents for one sale never interleave.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from pos_app.core.basket import BasketLine
from pos_app.core.sale import SaleState
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.backend.client import BackendClient
from pos_app.terminal.checkout.flow import PaymentFlow
from pos_app.terminal.checkout.state import (
    AWAITING_MANAGER,
    ActiveSale,
    cancel_entry,
    manager_approval,
    record_of,
    update_of,
)
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate, TerminalStatus
from pos_app.terminal.errors import (
    BackendRejected,
    BackendServerError,
    BackendUnavailable,
    CheckoutError,
)
from pos_app.terminal.manager_keys import ManagerSigner
from pos_app.terminal.store.db import LocalStore
from pos_app.terminal.store.sales_repo import save_sale
from pos_app.terminal.sync.outbox import count_open, has_open_entry
from pos_app.terminal.sync.trust import TrustListManager
from pos_app.terminal.terminal_risk import SaleContext, TerminalRisk

KEEP_OPEN_S = 12 * 3600
_UNSETTLED = frozenset({SaleState.AUTHORIZING, SaleState.STEP_UP})


class CheckoutService:
    """Implements :class:`pos_app.terminal.checkout.types.CheckoutPort`."""

    def __init__(
        self,
        *,
        store: LocalStore,
        client: BackendClient | None,
        trust: TrustListManager | None,
        risk: TerminalRisk,
        store_id: str,
        terminal_id: str,
        currency: str,
        allow_offline: bool,
        clock: Callable[[], float] = time.time,
        lock: threading.RLock | None = None,
    ) -> None:
        self._store, self._client, self._trust = store, client, trust
        self._store_id, self._terminal_id, self._currency = store_id, terminal_id, currency
        self._clock = clock
        self._flow = PaymentFlow(
            store=store,
            client=client,
            trust=trust,
            risk=risk,
            allow_offline=allow_offline,
            clock=clock,
        )
        self.lock = lock or threading.RLock()
        self._sales: dict[str, ActiveSale] = {}

    def _now(self) -> int:
        return int(self._clock())

    def start_payment(
        self, lines: tuple[BasketLine, ...], *, cashier_id: str, pickup_later: bool = False
    ) -> PaymentUpdate:
        if not lines:
            raise CheckoutError("the basket is empty: scan a product first")
        now = self._now()
        ctx = SaleContext(
            sale_id=str(uuid.uuid4()),
            lines=tuple(lines),
            total=sum(line.line_total for line in lines),
            currency=self._currency,
            store_id=self._store_id,
            terminal_id=self._terminal_id,
            pickup_later=pickup_later,
        )
        sale = ActiveSale(ctx=ctx, cashier_id=cashier_id, created_at=now)
        with self.lock:
            self._forget_old(now)
            save_sale(self._store, record_of(sale, at=now))
            self._sales[ctx.sale_id] = sale
            return update_of(sale)

    def submit_token(self, sale_id: str, token_text: str) -> PaymentUpdate:
        with self.lock:
            sale = self._sale(sale_id)
            if sale.state not in (SaleState.AWAITING_PAYMENT, SaleState.DECLINED):
                raise CheckoutError(
                    f"this sale is {sale.state}: a payment code is not expected now"
                )
            return self._flow.submit(sale, token_text, now=self._now())

    def poll(self, sale_id: str) -> PaymentUpdate:
        with self.lock:
            sale = self._sale(sale_id)
            if sale.state == SaleState.STEP_UP:
                return self._flow.poll_step_up(sale)
            if sale.state == SaleState.AUTHORIZING:
                return self._flow.reconcile(sale)
            return update_of(sale)

    def manager_approve(
        self, sale_id: str, *, manager_id: str, reason: str, signer: ManagerSigner | None = None
    ) -> PaymentUpdate:
        with self.lock:
            sale = self._sale(sale_id)
            decision = sale.decision
            if sale.state != AWAITING_MANAGER or decision is None:
                raise CheckoutError("this sale does not wait for a manager's approval")
            if not decision.manager_may_override:
                raise CheckoutError("only the account owner can approve this sale, not a manager")
            now = self._now()
            append_audit(
                self._store,
                at=now,
                actor=manager_id,
                action=AuditAction.MANAGER_APPROVAL,
                detail={
                    "sale_id": sale_id,
                    "reason": reason,
                    "total": sale.ctx.total,
                    "rules": list(decision.codes),
                },
            )
            facts = self._flow.facts(sale, now=now, offline=False)
            manager = manager_approval(sale, signer, manager_id=manager_id, reason=reason, at=now)
            return self._flow.finalize_online(sale, facts, now=now, manager=manager)

    def cancel(self, sale_id: str) -> PaymentUpdate:
        with self.lock:
            sale = self._sale(sale_id)
            if sale.state == SaleState.AUTHORIZING:
                resolved = self._flow.reconcile(sale)
                if sale.state == SaleState.APPROVED:
                    return resolved  # it went through after all; a manager can void it
            if sale.state == SaleState.STEP_UP:
                return self._cancel_remote(sale, kind="cancel", final=SaleState.CANCELLED)
            if sale.state in (SaleState.AWAITING_PAYMENT, SaleState.DECLINED, AWAITING_MANAGER):
                return self._flow.set(
                    sale, SaleState.CANCELLED, now=self._now(), reason=sale.reason
                )
            if sale.state == SaleState.AUTHORIZING:
                raise CheckoutError(
                    "the backend has not said yet whether this payment went through: wait, "
                    "then try again"
                )
            raise CheckoutError(f"a {sale.state} sale cannot be cancelled (a manager can void it)")

    def void(self, sale_id: str, *, manager_id: str, reason: str) -> PaymentUpdate:
        with self.lock:
            sale = self._sale(sale_id)
            if sale.state != SaleState.APPROVED:
                raise CheckoutError(
                    f"only an approved sale can be voided; this one is {sale.state}"
                )
            update = self._cancel_remote(sale, kind="void", final=SaleState.VOIDED, reason=reason)
            if update.phase is PaymentPhase.VOIDED:  # done, or queued behind its sale
                append_audit(
                    self._store,
                    at=self._now(),
                    actor=manager_id,
                    action=AuditAction.VOID,
                    detail={
                        "sale_id": sale_id,
                        "reason": reason,
                        "total": sale.ctx.total,
                        "authorization_id": sale.authorization_id,
                    },
                )
            return update

    def status(self) -> TerminalStatus:
        now = self._now()
        client, trust = self._client, self._trust
        pending = count_open(self._store)
        return TerminalStatus(
            online=client is not None and client.online,
            outbox_pending=pending,
            trust_list_age_s=trust.age_s(now) if trust else None,
            trust_list_stale=trust.is_stale(now) if trust else True,
            clock_skew_s=client.clock_skew_s if client else None,
            enrolled=client is not None and client.identity is not None,
            backend_known=client is None
            or client.last_contact_at is not None
            or client.last_failure_at is not None,
        )

    def _cancel_remote(
        self, sale: ActiveSale, *, kind: str, final: str, reason: str | None = None
    ) -> PaymentUpdate:
        now = self._now()
        key = f"{kind}-{sale.server_sale_id}"
        # An offline sale still queued must be settled before it is voided: queue behind it.
        queued = self._client is None or has_open_entry(self._store, sale.sale_id)
        if not queued and self._client is not None:
            try:
                view = self._client.cancel_sale(
                    sale.server_sale_id, idempotency_key=key, reason=reason
                )
            except BackendRejected as exc:
                if exc.code != "not_cancellable":
                    raise CheckoutError(f"the backend refused: {exc.message}") from None
                view = self._client.get_sale(sale.server_sale_id)  # declined meanwhile
            except (BackendUnavailable, BackendServerError):
                queued = True  # the outbox sends it with the same key
            if not queued and view.get("status") != "cancelled":
                facts = self._flow.facts(sale, now=now, offline=False)
                return self._flow.apply(sale, view, facts=facts, now=now)
        entry = cancel_entry(sale, kind=kind, key=key, reason=reason) if queued else None
        sale.state = final
        save_sale(self._store, record_of(sale, at=now), outbox=entry)
        return update_of(sale)

    def _forget_old(self, now: int) -> None:
        """Keep a shift's sales for voids; older ones live on only in the store."""
        for sale_id, sale in list(self._sales.items()):
            if now - sale.created_at > KEEP_OPEN_S and sale.state not in _UNSETTLED:
                del self._sales[sale_id]

    def _sale(self, sale_id: str) -> ActiveSale:
        sale = self._sales.get(sale_id)
        if sale is None:
            raise CheckoutError(f"no open sale {sale_id} at this till: start the payment again")
        return sale

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
import uuid

from pos_app.core.age_check import (
    AgeCheckPolicy,
    needs_age_check,
    restricted,
)
from pos_app.core.api_contract import CancelBody
from pos_app.core.basket import BasketLine
from pos_app.core.sale import SaleState
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.checkout.flow import CheckoutFlow
from pos_app.terminal.checkout.recovery import (
    close_abandoned,
    settled_in_background,
    take_notices,
)
from pos_app.terminal.checkout.state import (
    AGE_CHECK_REFUSED,
    AWAITING_AGE_CHECK,
    AWAITING_MANAGER,
    ActiveSale,
    cancel_entry,
    manager_approval,
    record_of,
    update_of,
    update_of_row,
)
from pos_app.terminal.checkout.types import (
    AgeAnswer,
    PaymentPhase,
    PaymentUpdate,
    TerminalStatus,
)
from pos_app.terminal.errors import (
    BackendRejected,
    BackendServerError,
    BackendUnavailable,
    CheckoutError,
)
from pos_app.terminal.manager_keys import ManagerSigner
from pos_app.terminal.store.sales_repo import save_sale
from pos_app.terminal.sync.outbox import (
    close_reconcile,
    count_failed,
    count_open,
    drop_entry,
    finish_entry,
    has_queued_send,
    release_entry,
    release_held,
    write_ahead,
)
from pos_app.terminal.terminal_risk import SaleContext

KEEP_OPEN_S = 12 * 3600
CASHIER_MAY_CONFIRM = AgeCheckPolicy(cashier_may_confirm=True)  # the setting's default
_UNSETTLED = frozenset({SaleState.AUTHORIZING, SaleState.STEP_UP})
# A sale polled this recently is watched by a cashier: the outbox leaves it to the checkout.
WATCH_S = 30
# Refusals of a cancel that mean the sale was decided meanwhile: look it up, show that.
_MOOT_CANCEL = ("not_cancellable", "manager_required")
# What a cancel or a void leaves the sale in, once done (or queued).
_ENDS_IN = {"cancel": SaleState.CANCELLED, "void": SaleState.VOIDED}


class CheckoutService:
    """Implements :class:`pos_app.terminal.checkout.types.CheckoutPort`."""

    def __init__(
        self,
        flow: CheckoutFlow,
        *,
        store_id: str,
        terminal_id: str,
        currency: str,
        age_policy: AgeCheckPolicy = CASHIER_MAY_CONFIRM,
        lock: threading.RLock | None = None,
    ) -> None:
        self._flow = flow
        self._store, self._client, self._trust, self._clock = (
            flow.store,
            flow.client,
            flow.trust,
            flow.clock,
        )
        self._age_policy = age_policy
        self._store_id, self._terminal_id, self._currency = store_id, terminal_id, currency
        self.lock = lock or threading.RLock()
        self._sales: dict[str, ActiveSale] = {}
        close_abandoned(self._store, now=self._now())
        release_held(self._store)

    def _now(self) -> int:
        return int(self._clock())

    def _audit(
        self, action: str, sale_id: str, *, actor: str, now: int | None = None, **detail: object
    ) -> None:
        """An entry of the audit chain about a sale of this till (made ``now``, or at once)."""
        at = self._now() if now is None else now
        detail = {"sale_id": sale_id, **detail}
        append_audit(self._store, at=at, actor=actor, action=action, detail=detail)

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
        if needs_age_check(lines):  # no payment code before "20 or older?" is answered
            sale.state = AWAITING_AGE_CHECK
        with self.lock:
            self._forget_old(now)
            save_sale(self._store, record_of(sale, at=now))
            self._sales[ctx.sale_id] = sale
            return update_of(sale)

    def submit_token(self, sale_id: str, token_text: str) -> PaymentUpdate:
        with self.lock:
            sale = self._sale(sale_id)
            if sale.state == AWAITING_AGE_CHECK:
                raise CheckoutError(
                    "the customer's age (20 or older) is not confirmed yet: the customer answers "
                    "on the customer display first, then shows the payment code"
                )
            if sale.state not in (SaleState.AWAITING_PAYMENT, SaleState.DECLINED):
                raise CheckoutError(
                    f"this sale is {sale.state}: a payment code is not expected now"
                )
            return self._flow.submit(sale, token_text, now=self._now())

    def poll(self, sale_id: str) -> PaymentUpdate:
        with self.lock:
            sale = self._sales.get(sale_id)
            if sale is None:  # from before a restart: the outbox follows it to its end
                return self._stored(sale_id)
            sale.extra["polled_at"] = self._now()
            if sale.state in _UNSETTLED and settled_in_background(self._store, sale):
                return update_of(sale)
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
            self._audit(
                AuditAction.MANAGER_APPROVAL,
                sale_id,
                actor=manager_id,
                now=now,
                reason=reason,
                total=sale.ctx.total,
                rules=list(decision.codes),
            )
            facts = self._flow.facts(sale, now=now, offline=False)
            manager = manager_approval(sale, signer, manager_id=manager_id, reason=reason, at=now)
            return self._flow.finalize_online(sale, facts, now=now, manager=manager)

    def answer_age_check(self, sale_id: str, answer: AgeAnswer) -> PaymentUpdate:
        answer.check_allowed(self._age_policy)
        with self.lock:
            sale = self._sale(sale_id)
            if sale.state != AWAITING_AGE_CHECK:
                raise CheckoutError(f"this sale is {sale.state}: it does not wait for an age check")
            now = self._now()
            sale.age_check = answer.record(at=now)
            self._audit(
                AuditAction.AGE_CHECK,
                sale_id,
                actor=sale.age_check.confirmed_by,
                now=now,
                **sale.age_check.as_record(),
                cashier_id=answer.cashier_id,
                restricted_items=sum(ln.quantity for ln in restricted(sale.ctx.lines)),
                total=sale.ctx.total,
            )
            if answer.confirmed:
                return self._flow.set(sale, SaleState.AWAITING_PAYMENT, now=now)
            return self._flow.set(sale, SaleState.CANCELLED, now=now, reason=AGE_CHECK_REFUSED)

    def cancel(self, sale_id: str) -> PaymentUpdate:
        with self.lock:
            sale = self._sale(sale_id)
            if sale.state == SaleState.AUTHORIZING:
                resolved = self._flow.reconcile(sale)
                if sale.state == SaleState.APPROVED:
                    return resolved  # it went through after all; a manager can void it
            if sale.state == SaleState.STEP_UP:
                return self._cancel_remote(sale, {"reason": None}, kind="cancel")
            cancellable = (SaleState.AWAITING_PAYMENT, SaleState.DECLINED, AWAITING_MANAGER)
            if sale.state in (*cancellable, AWAITING_AGE_CHECK):
                return self._flow.set(
                    sale, SaleState.CANCELLED, now=self._now(), reason=sale.reason
                )
            if sale.state == SaleState.AUTHORIZING:
                raise CheckoutError(
                    "the backend has not said yet whether this payment went through: wait, "
                    "then try again"
                )
            raise CheckoutError(f"a {sale.state} sale cannot be cancelled (a manager can void it)")

    def void(
        self, sale_id: str, *, manager_id: str, reason: str, signer: ManagerSigner | None = None
    ) -> PaymentUpdate:
        """A manager reverses a paid sale. The refund moves money, so the manager's key signs
        the void (this sale, amount and reason) and the backend checks it (docs/BACKEND.md,
        "Manager proofs"); a void queued offline keeps its proof in the outbox."""
        with self.lock:
            sale = self._sale(sale_id)
            self._take_stored_approval(sale)
            if sale.state != SaleState.APPROVED:
                raise CheckoutError(
                    f"only an approved sale can be voided; this one is {sale.state}"
                )
            if signer is None or signer.manager_id != manager_id:
                raise CheckoutError(
                    "a void refunds the customer, so a manager approves it with their "
                    f"passphrase: this till has no manager key for {manager_id} "
                    "(pos-app manager-key)"
                )
            at = int(self._client.now()) if self._client is not None else self._now()
            proof = signer.approve_void(
                sale.server_sale_id,
                total=sale.ctx.total,
                currency=sale.ctx.currency,
                reason=reason,
                at=at,
            )
            try:
                body: CancelBody = {"reason": reason, "manager_approval": proof}
                update = self._cancel_remote(sale, body, kind="void")
            except CheckoutError as exc:  # refused: the sale stays paid, and the log says so
                self._audit(
                    AuditAction.VOID_REFUSED,
                    sale_id,
                    actor=manager_id,
                    reason=reason,
                    refusal=exc.message,
                )
                raise
            if update.phase is PaymentPhase.VOIDED:  # done, or queued behind its sale
                self._audit(
                    AuditAction.VOID,
                    sale_id,
                    actor=manager_id,
                    reason=reason,
                    total=sale.ctx.total,
                    authorization_id=sale.authorization_id,
                )
            return update

    def notices(self) -> tuple[PaymentUpdate, ...]:
        with self.lock:
            return take_notices(self._store)

    def is_watched(self, sale_id: str) -> bool:
        """A cashier is polling this waiting sale now (the outbox keeps its hands off)."""
        with self.lock:
            sale = self._sales.get(sale_id)
            polled = sale.extra.get("polled_at") if sale is not None else None
            if sale is None or sale.state not in _UNSETTLED or polled is None:
                return False
            return self._now() - int(polled) < WATCH_S

    def status(self) -> TerminalStatus:
        now = self._now()
        client, trust = self._client, self._trust
        pending = count_open(self._store)
        return TerminalStatus(
            outbox_failed=count_failed(self._store),
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

    def _take_stored_approval(self, sale: ActiveSale) -> None:
        """The outbox found this sale paid after all, while this process still shows it
        voided or cancelled (a queued void the backend refused, a queued cancel that came
        after the owner's approval): take that over, so a manager can void it (again)."""
        if sale.state not in (SaleState.VOIDED, SaleState.CANCELLED):
            return
        rows = self._store.query(
            "SELECT state, reason, authorization_id FROM sales WHERE sale_id = ?", (sale.sale_id,)
        )
        if rows and rows[0]["state"] == SaleState.APPROVED:
            sale.state, sale.reason = SaleState.APPROVED, rows[0]["reason"]
            sale.authorization_id = rows[0]["authorization_id"] or sale.authorization_id

    def _cancel_remote(self, sale: ActiveSale, body: CancelBody, *, kind: str) -> PaymentUpdate:
        now = self._now()
        key = f"{kind}-{sale.server_sale_id}"
        proof = body.get("manager_approval")
        if proof is not None:  # each signed attempt its own key: a refused one
            key = f"{key}-{proof['approved_at']}-{uuid.uuid4().hex[:8]}"
        # An offline sale still queued must be settled before it is voided: queue behind it.
        queued = self._client is None or has_queued_send(self._store, sale.sale_id)
        # Written ahead: if the till dies while the request is out, the outbox sends it again
        # (same key) and records the outcome; while the cashier waits, the outbox leaves it.
        entry = cancel_entry(sale, body, kind=kind, key=key)
        entry_id = write_ahead(self._store, sale.sale_id, entry, at=now, hold=not queued)
        if not queued and self._client is not None:
            try:
                view = self._client.cancel_sale(sale.server_sale_id, body, idempotency_key=key)
            except BackendRejected as exc:
                # A cancel that finds the sale approved meanwhile (the customer's approval
                # won the race) is refused manager_required: the till shows it paid.
                moot = ("not_cancellable",) if kind == "void" else _MOOT_CANCEL
                if exc.code not in moot:
                    drop_entry(self._store, entry_id)  # refused: nothing happened
                    if kind == "void":
                        raise CheckoutError(
                            f"the backend refused the void: {exc.message}. The sale stays "
                            "paid: the customer was not refunded"
                        ) from None
                    raise CheckoutError(f"the backend refused: {exc.message}") from None
                view = self._client.get_sale(sale.server_sale_id)  # decided meanwhile
            except (BackendUnavailable, BackendServerError):
                queued = True  # the outbox sends it with the same key
            if not queued:
                finish_entry(self._store, entry_id)
            if not queued and view.status != "cancelled":
                facts = self._flow.facts(sale, now=now, offline=False)
                return self._flow.apply(sale, view, facts=facts, now=now)
        if queued:
            release_entry(self._store, entry_id, at=now)
        sale.state = _ENDS_IN[kind]
        save_sale(self._store, record_of(sale, at=now))
        if not queued:
            close_reconcile(self._store, sale.sale_id)
        return update_of(sale)

    def _stored(self, sale_id: str) -> PaymentUpdate:
        rows = self._store.query("SELECT * FROM sales WHERE sale_id = ?", (sale_id,))
        if not rows:
            raise CheckoutError(f"no sale {sale_id} at this till: start the payment again")
        return update_of_row(rows[0])

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

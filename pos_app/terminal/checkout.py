"""The checkout service: the whole payment of one sale, behind ``CheckoutPort``.

verify (PT1 steps 1-17) -> terminal risk -> finalize online, or, when the
backend cannot be reached and the rules allow it, accept offline (risk says
``allow`` AND steps 18-21 pass) with the sale, its outbox entry and the token's
``cti`` in one transaction. Step-up is polled; a manager's approval is logged;
a finalize whose outcome is unknown is reconciled with GET before any retry.

Every method may block on disk or network: the UI calls them from its
background lane. One lock serialises the service (and the outbox drainer's
updates to sales), so two intents for one sale never interleave.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from pos_app.core.basket import BasketLine
from pos_app.core.errors import BackendError
from pos_app.core.risk.model import Action, SaleFacts
from pos_app.core.sale import SaleState
from pos_app.paytoken import reasons
from pos_app.paytoken.acceptance import check_acceptance
from pos_app.paytoken.seen_store import ConnectionSeenStore
from pos_app.terminal.audit import AuditAction, append_audit
from pos_app.terminal.checkout_state import (
    AWAITING_MANAGER,
    ActiveSale,
    record_of,
    sale_body,
    seen_expiry,
    update_of,
)
from pos_app.terminal.checkout_types import PaymentUpdate, TerminalStatus
from pos_app.terminal.client import BackendClient
from pos_app.terminal.errors import (
    BackendRejected,
    BackendServerError,
    BackendUnavailable,
    CheckoutError,
    OutcomeUnknown,
)
from pos_app.terminal.outbox import OutboxDrainer
from pos_app.terminal.sales_repo import OutboxEntry, SeenToken, save_sale
from pos_app.terminal.store import LocalStore
from pos_app.terminal.terminal_risk import SaleContext, TerminalRisk
from pos_app.terminal.trust import TrustListManager

NOT_ENROLLED = "not_enrolled"
BACKEND_UNAVAILABLE = "backend_unavailable"
OUTCOME_UNKNOWN = "outcome_unknown"


class CheckoutService:
    """Implements :class:`pos_app.terminal.checkout_types.CheckoutPort`."""

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
        outbox: OutboxDrainer | None = None,
        lock: threading.RLock | None = None,
    ) -> None:
        self._store, self._client, self._trust, self._risk = store, client, trust, risk
        self._store_id, self._terminal_id, self._currency = store_id, terminal_id, currency
        self._allow_offline = allow_offline
        self._clock = clock
        self._outbox = outbox
        self.lock = lock or threading.RLock()
        self._sales: dict[str, ActiveSale] = {}

    def _now(self) -> int:
        return int(self._clock())

    # --- CheckoutPort -------------------------------------------------------------------------

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
            return self._submit(sale, token_text, now=self._now())

    def poll(self, sale_id: str) -> PaymentUpdate:
        with self.lock:
            sale = self._sale(sale_id)
            if sale.state == SaleState.STEP_UP:
                return self._poll_step_up(sale)
            if sale.state == SaleState.AUTHORIZING:
                return self._reconcile(sale)
            return update_of(sale)

    def manager_approve(self, sale_id: str, *, manager_id: str, reason: str) -> PaymentUpdate:
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
            facts = self._facts(sale, now=now, offline=False)
            manager = {"manager_id": manager_id, "reason": reason}
            return self._finalize_online(sale, facts, now=now, manager=manager)

    def cancel(self, sale_id: str) -> PaymentUpdate:
        with self.lock:
            sale = self._sale(sale_id)
            if sale.state == SaleState.AUTHORIZING:
                self._reconcile(sale)
            if sale.state == SaleState.STEP_UP:
                return self._cancel_remote(sale, kind="cancel", final=SaleState.CANCELLED)
            if sale.state in (SaleState.AWAITING_PAYMENT, SaleState.DECLINED, AWAITING_MANAGER):
                return self._set(sale, SaleState.CANCELLED, now=self._now(), reason=sale.reason)
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
            return self._cancel_remote(sale, kind="void", final=SaleState.VOIDED, reason=reason)

    def status(self) -> TerminalStatus:
        now = self._now()
        client, trust = self._client, self._trust
        pending = self._outbox.pending_count() if self._outbox else _count_open(self._store)
        return TerminalStatus(
            online=client is not None and client.online,
            outbox_pending=pending,
            trust_list_age_s=trust.age_s(now) if trust else None,
            trust_list_stale=trust.is_stale(now) if trust else True,
            clock_skew_s=client.clock_skew_s if client else None,
            enrolled=client is not None and client.identity is not None,
        )

    # --- the payment --------------------------------------------------------------------------

    def _submit(self, sale: ActiveSale, text: str, *, now: int) -> PaymentUpdate:
        verifier = self._trust.verifier() if self._trust else None
        if verifier is None or self._client is None:
            return self._decline(sale, NOT_ENROLLED, now=now)
        result = verifier.verify(text, now=now)
        sale.verified, sale.decision, sale.offline, sale.expires_at = result, None, False, None
        if not result.ok or result.claims is None:
            return self._decline(sale, str(result.reason), now=now)
        sale.token = text
        sale.attempt += 1
        facts = self._facts(sale, now=now, offline=False)
        sale.decision = self._risk.decide(facts, trust_list_age_s=self._trust_age(now))
        replayed = self._acceptance_reason(sale, now=now, offline=False)
        if replayed is not None:
            return self._decline(sale, replayed, now=now, facts=facts)
        if sale.decision.action is Action.DECLINE:
            return self._decline(sale, reasons.RISK_DECLINED, now=now, facts=facts)
        if sale.decision.action is Action.MANAGER_APPROVAL and sale.decision.manager_may_override:
            return self._set(sale, AWAITING_MANAGER, now=now)
        return self._finalize_online(sale, facts, now=now)

    def _finalize_online(
        self,
        sale: ActiveSale,
        facts: SaleFacts,
        *,
        now: int,
        manager: dict[str, str] | None = None,
    ) -> PaymentUpdate:
        assert self._client is not None  # checked by _submit
        body = sale_body(sale, manager=manager)
        try:
            view = self._client.finalize(body, idempotency_key=sale.idempotency_key)
        except (OutcomeUnknown, BackendServerError):
            return self._outcome_unknown(sale, body, now=now)
        except BackendRejected as exc:
            return self._decline(sale, exc.code, now=now, facts=facts)
        except BackendUnavailable:
            return self._offline(sale, facts, now=now)
        return self._apply(sale, view, facts=facts, now=self._now())

    def _offline(self, sale: ActiveSale, online_facts: SaleFacts, *, now: int) -> PaymentUpdate:
        """The backend is unreachable: accept only if the policy and steps 18-21 allow it."""
        if not self._allow_offline:
            return self._decline(sale, BACKEND_UNAVAILABLE, now=now, track=False)
        facts = replace(online_facts, offline=True)
        sale.decision = self._risk.decide(facts, trust_list_age_s=self._trust_age(now))
        reason = self._acceptance_reason(sale, now=now, offline=True)
        if reason is None and not sale.decision.offline_ok:
            reason = reasons.ONLINE_REQUIRED
        if reason is not None:
            return self._decline(sale, reason, now=now, track=False)
        claims = sale.claims
        assert claims is not None
        sale.offline = True
        body = sale_body(sale, offline_at=now)
        entry = OutboxEntry(
            kind="finalize",
            idempotency_key=f"{sale.idempotency_key}-offline",
            payload={"server_sale_id": sale.server_sale_id, "body": body},
        )
        seen = SeenToken(cti=claims.cti, expires_at=seen_expiry(claims))
        sale.state, sale.reason = SaleState.APPROVED, None
        try:
            save_sale(self._store, record_of(sale, at=now), outbox=entry, seen=seen)
        except sqlite3.IntegrityError:  # another sale took this cti first
            sale.offline = False
            return self._decline(sale, reasons.REPLAYED, now=now)
        self._risk.record(facts, Action.ALLOW)
        return update_of(sale)

    def _outcome_unknown(
        self, sale: ActiveSale, body: dict[str, object], *, now: int
    ) -> PaymentUpdate:
        claims = sale.claims
        entry = OutboxEntry(
            kind="reconcile",
            idempotency_key=f"{sale.idempotency_key}-reconcile",
            payload={
                "server_sale_id": sale.server_sale_id,
                "idempotency_key": sale.idempotency_key,
                "body": body,
                "cti": claims.cti.hex() if claims else None,
                "token_exp": claims.exp if claims else 0,
            },
        )
        sale.state, sale.reason = SaleState.AUTHORIZING, OUTCOME_UNKNOWN
        sale.extra["pending_body"] = body
        save_sale(self._store, record_of(sale, at=now), outbox=entry)
        return update_of(sale)

    def _reconcile(self, sale: ActiveSale) -> PaymentUpdate:
        """GET first; only a sale the backend never saw is sent again (same key, same body)."""
        assert self._client is not None
        body = sale.extra.get("pending_body")
        try:
            try:
                view = self._client.get_sale(sale.server_sale_id)
            except BackendRejected as exc:
                if exc.status != 404 or body is None:
                    raise
                view = self._client.finalize(body, idempotency_key=sale.idempotency_key)
        except BackendError:
            return update_of(sale)  # still unknown: the UI keeps polling
        now = self._now()
        facts = self._facts(sale, now=now, offline=False)
        return self._apply(sale, view, facts=facts, now=now)

    def _poll_step_up(self, sale: ActiveSale) -> PaymentUpdate:
        assert self._client is not None
        try:
            view = self._client.get_sale(sale.server_sale_id)
        except BackendError:
            return replace(update_of(sale), offline=True)
        now = self._now()
        return self._apply(sale, view, facts=self._facts(sale, now=now, offline=False), now=now)

    def _apply(
        self, sale: ActiveSale, view: dict[str, object], *, facts: SaleFacts, now: int
    ) -> PaymentUpdate:
        """Record the backend's decision on the sale (and the token as used when it was)."""
        status = view.get("status")
        was_authorizing = sale.state == SaleState.AUTHORIZING
        if status == "step_up_required":
            step = view.get("step_up")
            sale.expires_at = _int(step.get("expires_at")) if isinstance(step, dict) else None
            return self._set(sale, SaleState.STEP_UP, now=now, seen=True)
        if status == "approved":
            sale.authorization_id = str(view.get("authorization_id") or "") or None
            self._risk.record(facts, Action.ALLOW)
            update = self._set(sale, SaleState.APPROVED, now=now, seen=True)
        elif status == "cancelled":
            update = self._set(sale, SaleState.CANCELLED, now=now)
        else:
            update = self._decline(
                sale, str(view.get("reason") or "declined"), now=now, facts=facts
            )
        if was_authorizing:
            self._close_reconcile(sale)
        return update

    def _cancel_remote(
        self, sale: ActiveSale, *, kind: str, final: str, reason: str | None = None
    ) -> PaymentUpdate:
        now = self._now()
        key = f"{kind}-{sale.server_sale_id}"
        queued = sale.offline and self._outbox is not None and self._has_open_entry(sale)
        if not queued and self._client is not None:
            try:
                view = self._client.cancel_sale(
                    sale.server_sale_id, idempotency_key=key, reason=reason
                )
            except BackendRejected as exc:
                if exc.code != "not_cancellable":
                    raise CheckoutError(f"the backend refused: {exc.message}") from None
                view = self._client.get_sale(sale.server_sale_id)
                return self._apply(
                    sale, view, facts=self._facts(sale, now=now, offline=False), now=now
                )
            except BackendUnavailable:
                queued = True
            else:
                if view.get("status") != "cancelled":
                    return self._apply(
                        sale, view, facts=self._facts(sale, now=now, offline=False), now=now
                    )
        entry = None
        if queued or self._client is None:
            payload: dict[str, object] = {"server_sale_id": sale.server_sale_id, "reason": reason}
            entry = OutboxEntry(kind=kind, idempotency_key=key, payload=payload)
        sale.state = final
        save_sale(self._store, record_of(sale, at=now), outbox=entry)
        return update_of(sale)

    # --- helpers ------------------------------------------------------------------------------

    def _sale(self, sale_id: str) -> ActiveSale:
        sale = self._sales.get(sale_id)
        if sale is None:
            raise CheckoutError(f"no open sale {sale_id} at this till: start the payment again")
        return sale

    def _facts(self, sale: ActiveSale, *, now: int, offline: bool) -> SaleFacts:
        claims = sale.claims
        assert claims is not None
        return self._risk.facts(sale.ctx, claims, now=now, offline=offline)

    def _trust_age(self, now: int) -> int | None:
        return self._trust.age_s(now) if self._trust else None

    def _acceptance_reason(self, sale: ActiveSale, *, now: int, offline: bool) -> str | None:
        assert sale.verified is not None and self._trust is not None
        with self._store.transaction() as conn:
            result = check_acceptance(
                sale.verified,
                now=now,
                seen=ConnectionSeenStore(conn),
                offline=offline,
                amount=sale.ctx.total,
                trust_list_stale=self._trust.is_stale(now),
            )
        return result.reason

    def _decline(
        self,
        sale: ActiveSale,
        reason: str,
        *,
        now: int,
        facts: SaleFacts | None = None,
        track: bool = True,
    ) -> PaymentUpdate:
        if facts is not None and track:
            self._risk.record(facts, Action.DECLINE)
        return self._set(sale, SaleState.DECLINED, now=now, reason=reason)

    def _set(
        self,
        sale: ActiveSale,
        state: str,
        *,
        now: int,
        reason: str | None = None,
        seen: bool = False,
    ) -> PaymentUpdate:
        sale.state, sale.reason = state, reason
        claims = sale.claims
        token = SeenToken(claims.cti, seen_expiry(claims)) if seen and claims else None
        try:
            save_sale(self._store, record_of(sale, at=now), seen=token)
        except sqlite3.IntegrityError:
            # Already recorded (a step-up approved after its cti was stored): the backend
            # enforces single use anyway, so keep the sale's outcome.
            save_sale(self._store, record_of(sale, at=now))
        return update_of(sale)

    def _close_reconcile(self, sale: ActiveSale) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'done' WHERE sale_id = ? AND kind = 'reconcile'"
                " AND state IN ('pending', 'unknown')",
                (sale.sale_id,),
            )
        sale.extra.pop("pending_body", None)

    def _has_open_entry(self, sale: ActiveSale) -> bool:
        rows = self._store.query(
            "SELECT 1 FROM outbox WHERE sale_id = ? AND state IN ('pending', 'unknown')",
            (sale.sale_id,),
        )
        return bool(rows)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count_open(store: LocalStore) -> int:
    rows = store.query("SELECT COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'unknown')")
    return int(rows[0]["n"])

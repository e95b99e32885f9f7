"""The payment flow of one sale: verify, risk, finalize online or accept offline.

verify (PT1 steps 1-17) -> terminal risk -> finalize online, or, when the
backend cannot be reached and the rules allow it, accept offline (risk says
``allow`` AND steps 18-21 pass) with the sale, its outbox entry and the token's
``cti`` in one transaction. A finalize whose outcome is unknown (timeout,
5xx) is recorded as ``authorizing`` with a reconcile entry, and resolved with
GET /v1/sales/{id} before anything is sent again.

:class:`pos_app.terminal.checkout.service.CheckoutService` owns the lock and the
sales; this class holds no state of its own besides its collaborators.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from typing import cast

from pos_app.core.api_contract import FinalizeBody, ManagerApprovalBody, SaleAnswer
from pos_app.core.errors import BackendError
from pos_app.core.reasons import ReasonCode
from pos_app.core.risk.model import Action, SaleFacts
from pos_app.core.sale import SaleState
from pos_app.paytoken.acceptance import check_acceptance
from pos_app.paytoken.seen_store import ConnectionSeenStore
from pos_app.paytoken.verifier import DEFAULT_SKEW
from pos_app.terminal.backend.client import BackendClient
from pos_app.terminal.checkout.state import (
    AWAITING_MANAGER,
    ActiveSale,
    offline_entry,
    reconcile_entry,
    record_of,
    sale_body,
    seen_expiry,
    update_of,
)
from pos_app.terminal.checkout.types import PaymentUpdate
from pos_app.terminal.errors import (
    BackendAuthError,
    BackendRejected,
    BackendServerError,
    BackendUnavailable,
    OutcomeUnknown,
)
from pos_app.terminal.store.db import LocalStore
from pos_app.terminal.store.sales_repo import SeenToken, sale_number_of, save_sale
from pos_app.terminal.sync.outbox import close_reconcile
from pos_app.terminal.sync.trust import TrustListManager
from pos_app.terminal.terminal_risk import TerminalRisk

# A signature more than this far from the backend's clock is refused (BACKEND-API.md).
SIGNATURE_FUTURE_S = 5
_TIME_REASONS = frozenset({ReasonCode.NOT_YET_VALID, ReasonCode.EXPIRED})
# ``ActiveSale.extra``: this code's wallet already counts in the till's risk history.
_COUNTED = "risk_counted"

log = logging.getLogger(__name__)


class CheckoutFlow:
    def __init__(
        self,
        *,
        store: LocalStore,
        client: BackendClient | None,
        trust: TrustListManager | None,
        risk: TerminalRisk,
        allow_offline: bool,
        offline_after_s: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.client, self.trust, self._risk = store, client, trust, risk
        self._allow_offline = allow_offline
        self._offline_after_s = offline_after_s
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock())

    def submit(self, sale: ActiveSale, text: str, *, now: int) -> PaymentUpdate:
        verifier = self.trust.verifier() if self.trust else None
        if verifier is None or self.client is None:
            return self.decline(sale, ReasonCode.NOT_ENROLLED, now=now)
        result = verifier.verify(text, now=now)
        unmeasured = self.client.clock_skew_s is None
        # No contact yet: before blaming the customer's code, ask the backend its time.
        if (
            result.reason in _TIME_REASONS
            and unmeasured
            and self.client.measure_clock() is not None
        ):
            now = self._now()
            result = verifier.verify(text, now=now)
        sale.verified, sale.decision, sale.offline, sale.expires_at = result, None, False, None
        sale.backend_reasons, sale.backend_details = (), ()
        sale.extra.pop(_COUNTED, None)
        if not result.ok or result.claims is None:
            return self.decline(sale, str(result.reason), now=now)
        sale.token = text
        sale.attempt += 1
        facts = self.facts(sale, now=now, offline=False)
        sale.decision = self._risk.decide(facts, trust_list_age_s=self.trust_age(now))
        replayed = self.acceptance_reason(sale, now=now, offline=False)
        if replayed is not None:
            return self.decline(sale, replayed, now=now, facts=facts)
        if sale.decision.action is Action.DECLINE:
            return self.decline(sale, ReasonCode.RISK_DECLINED, now=now, facts=facts)
        if sale.decision.action is Action.MANAGER_APPROVAL and sale.decision.manager_may_override:
            self._presented(sale, facts, Action.MANAGER_APPROVAL)
            return self.set(sale, AWAITING_MANAGER, now=now)
        return self.finalize_online(sale, facts, now=now)

    def finalize_online(
        self,
        sale: ActiveSale,
        facts: SaleFacts,
        *,
        now: int,
        manager: ManagerApprovalBody | None = None,
    ) -> PaymentUpdate:
        assert self.client is not None  # checked by _submit
        body = self._numbered(sale_body(sale, manager=manager), sale)
        # Write-ahead: if the till dies while the request is out, the reconcile entry makes
        # the next start look the sale up before anything else happens.
        sale.state, sale.reason = SaleState.AUTHORIZING, None
        sale.extra["pending_body"] = body
        save_sale(self.store, record_of(sale, at=now), outbox=reconcile_entry(sale, body))
        try:
            answer = self.client.finalize(body, idempotency_key=sale.idempotency_key)
        except (OutcomeUnknown, BackendServerError):
            return self.outcome_unknown(sale, now=now)
        except BackendAuthError as exc:
            # Not the customer's fault: the till's clock, key or enrollment (status shows skew).
            log.error("the backend refused this terminal: %s", exc.message)
            declined = self.decline(sale, self.refused_reason(exc), now=now)
            return self._resolved(sale, declined)
        except BackendRejected as exc:
            return self._resolved(sale, self.decline(sale, exc.code, now=now, facts=facts))
        except BackendUnavailable:
            return self._resolved(sale, self.offline(sale, facts, now=now))
        return self.apply(sale, answer, facts=facts, now=self._now())

    def refused_reason(self, exc: BackendAuthError) -> str:
        skew = self.client.clock_skew_s if self.client else None
        if exc.code == "bad_signature" and skew is not None and abs(skew) > SIGNATURE_FUTURE_S:
            return ReasonCode.TILL_CLOCK_WRONG
        return ReasonCode.TERMINAL_REFUSED

    def backend_just_lost(self) -> bool:
        """The backend answered this till moments ago: to the backend that is still a stretch
        of contact, and an offline claim inside it is refused as a possible backdating
        (422 bad_offline_time, a loss). The customer tries again in a minute instead."""
        since = self.client.seconds_since_contact() if self.client else None
        return since is not None and since < self._offline_after_s

    def clock_untrusted(self) -> bool:
        """The last contact found this till's clock further off than a code's tolerance: a
        clock that wrong may have moved again since, so offline acceptance (which trusts the
        local clock for hours) stops until it is fixed."""
        skew = self.client.clock_skew_s if self.client else None
        return skew is not None and abs(skew) > DEFAULT_SKEW

    def _resolved(self, sale: ActiveSale, update: PaymentUpdate) -> PaymentUpdate:
        """The sale's new state is saved: its write-ahead reconcile entry can go.

        In this order, a crash in between leaves an entry whose sale is no longer
        ``authorizing``, which the drainer simply closes.
        """
        close_reconcile(self.store, sale.sale_id)
        sale.extra.pop("pending_body", None)
        return update

    def offline(self, sale: ActiveSale, online_facts: SaleFacts, *, now: int) -> PaymentUpdate:
        """The backend is unreachable: accept only if the policy and steps 18-21 allow it."""
        if not self._allow_offline:
            return self.decline(sale, ReasonCode.BACKEND_UNAVAILABLE, now=now)
        if self.clock_untrusted():
            return self.decline(sale, ReasonCode.TILL_CLOCK_WRONG, now=now)
        if self.backend_just_lost():
            return self.decline(sale, ReasonCode.BACKEND_JUST_LOST, now=now)
        facts = replace(online_facts, offline=True)
        sale.decision = self._risk.decide(facts, trust_list_age_s=self.trust_age(now))
        reason = self.acceptance_reason(sale, now=now, offline=True)
        if reason is None and not sale.decision.offline_ok:
            reason = ReasonCode.ONLINE_REQUIRED
        if reason is not None:
            return self.decline(sale, reason, now=now)
        claims = sale.claims
        assert claims is not None
        sale.offline = True
        body = self._numbered(sale_body(sale, offline_at=now), sale)
        entry = offline_entry(sale, body)
        seen = SeenToken(cti=claims.cti, expires_at=seen_expiry(claims))
        sale.state, sale.reason = SaleState.APPROVED, None
        try:
            save_sale(self.store, record_of(sale, at=now), outbox=entry, seen=seen)
        except sqlite3.IntegrityError:  # another sale took this cti first
            sale.offline = False
            return self.decline(sale, ReasonCode.REPLAYED, now=now)
        self._risk.record(facts, Action.ALLOW)
        return update_of(sale)

    def _numbered(self, body: FinalizeBody, sale: ActiveSale) -> FinalizeBody:
        """The sale's short number travels with it: another till reprints the receipt."""
        number = sale_number_of(self.store, sale.sale_id)
        return {**body, "sale_number": number} if number else body

    def outcome_unknown(self, sale: ActiveSale, *, now: int) -> PaymentUpdate:
        sale.reason = ReasonCode.OUTCOME_UNKNOWN
        save_sale(self.store, record_of(sale, at=now))
        # One lookup at once: usually only the answer was lost and the cashier needs no wait.
        return self.reconcile(sale)

    def reconcile(self, sale: ActiveSale) -> PaymentUpdate:
        """GET first; only a sale the backend never saw is sent again (same key, same body)."""
        assert self.client is not None
        body = cast("FinalizeBody | None", sale.extra.get("pending_body"))
        try:
            answer = self.client.get_sale(sale.server_sale_id)
        except BackendRejected as exc:
            if exc.status == 404 and body is not None:
                return self._resend(sale, body)
            return update_of(sale)  # still unknown: the UI keeps polling
        except BackendError:
            return update_of(sale)
        now = self._now()
        return self.apply(sale, answer, facts=self.facts(sale, now=now, offline=False), now=now)

    def _resend(self, sale: ActiveSale, body: FinalizeBody) -> PaymentUpdate:
        """The backend has no record of the sale: send the very same request again."""
        assert self.client is not None
        now = self._now()
        facts = self.facts(sale, now=now, offline=False)
        try:
            answer = self.client.finalize(body, idempotency_key=sale.idempotency_key)
        except BackendAuthError as exc:
            declined = self.decline(sale, self.refused_reason(exc), now=now)
            return self._resolved(sale, declined)
        except BackendRejected as exc:
            return self._resolved(sale, self.decline(sale, exc.code, now=now, facts=facts))
        except BackendError:
            return update_of(sale)  # in flight or unreachable: still unknown
        return self.apply(sale, answer, facts=facts, now=now)

    def poll_step_up(self, sale: ActiveSale) -> PaymentUpdate:
        assert self.client is not None
        try:
            answer = self.client.get_sale(sale.server_sale_id)
        except BackendError:
            return replace(update_of(sale), offline=True)
        now = self._now()
        return self.apply(sale, answer, facts=self.facts(sale, now=now, offline=False), now=now)

    def apply(
        self, sale: ActiveSale, answer: SaleAnswer, *, facts: SaleFacts, now: int
    ) -> PaymentUpdate:
        """Record the backend's decision on the sale (and the token as used when it was)."""
        status, risk = answer.status, answer.risk
        if risk is not None:
            sale.backend_reasons, sale.backend_details = risk.reasons, risk.details
        if status == "step_up_required":
            step = answer.step_up
            sale.expires_at = step.expires_at if step is not None else None
            self._presented(sale, facts, Action.CUSTOMER_APPROVAL)
            # The write-ahead entry stays open: if the till restarts while the owner decides,
            # the outbox follows the sale to the backend's answer.
            return self.set(sale, SaleState.STEP_UP, now=now, seen=True)
        elif status == "approved":
            sale.authorization_id = answer.authorization_id or None
            self._presented(sale, facts, Action.ALLOW)
            update = self.set(sale, SaleState.APPROVED, now=now, seen=True)
        elif status == "cancelled":
            update = self.set(sale, SaleState.CANCELLED, now=now)
        else:
            reason = answer.reason or "declined"
            update = self.decline(sale, reason, now=now, facts=facts)
        return self._resolved(sale, update)

    def _presented(self, sale: ActiveSale, facts: SaleFacts, action: Action) -> None:
        """The wallet counts in the till's history once per code, when its sale is first held
        (for the owner or a manager) or approved: whatever the owner answers or the cashier
        does next, a rotation of accounts each held, then cancelled, is still a rotation."""
        if not sale.extra.get(_COUNTED):
            sale.extra[_COUNTED] = True
            self._risk.record(facts, action)

    def facts(self, sale: ActiveSale, *, now: int, offline: bool) -> SaleFacts:
        claims = sale.claims
        assert claims is not None
        return self._risk.facts(sale.ctx, claims, now=now, offline=offline)

    def trust_age(self, now: int) -> int | None:
        return self.trust.age_s(now) if self.trust else None

    def acceptance_reason(self, sale: ActiveSale, *, now: int, offline: bool) -> str | None:
        assert sale.verified is not None and self.trust is not None
        with self.store.transaction() as conn:
            result = check_acceptance(
                sale.verified,
                now=now,
                seen=ConnectionSeenStore(conn),
                offline=offline,
                amount=sale.ctx.total,
                trust_list_stale=self.trust.is_stale(now),
            )
        return result.reason

    def decline(
        self,
        sale: ActiveSale,
        reason: str,
        *,
        now: int,
        facts: SaleFacts | None = None,
    ) -> PaymentUpdate:
        """Declined; with the sale's ``facts``, the decline counts in the till's risk
        windows (not when the backend could not be asked)."""
        if facts is not None:
            self._risk.record(facts, Action.DECLINE)
        return self.set(sale, SaleState.DECLINED, now=now, reason=reason)

    def set(
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
            save_sale(self.store, record_of(sale, at=now), seen=token)
        except sqlite3.IntegrityError:
            # Already recorded (a step-up approved after its cti was stored): the backend
            # enforces single use anyway, so keep the sale's outcome.
            save_sale(self.store, record_of(sale, at=now))
        return update_of(sale)

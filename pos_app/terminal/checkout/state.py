"""The checkout's per-sale working state and the pure mappings around it.

``ActiveSale`` is mutable but private to :class:`CheckoutService` (guarded by
its lock); everything that leaves the service is a frozen ``PaymentUpdate``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from pos_app.core.age_check import AgeCheck
from pos_app.core.api_contract import (
    CancelBody,
    FinalizeBody,
    ManagerApprovalBody,
    RiskDetail,
)
from pos_app.core.risk.model import Decision
from pos_app.core.sale import SaleState
from pos_app.paytoken.claims import Claims
from pos_app.paytoken.verifier import DEFAULT_SKEW, VerifyResult
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
from pos_app.terminal.errors import CheckoutError
from pos_app.terminal.manager_keys import ManagerSigner
from pos_app.terminal.risk_reasons import merge_reasons
from pos_app.terminal.store.sales_repo import OutboxEntry, SaleRecord
from pos_app.terminal.terminal_risk import (
    SaleContext,
    api_risk,
    reason_views,
    risk_record,
    wallet_ref,
)

# Local-only step between a risk decision and the backend: the manager's PIN is awaited.
AWAITING_MANAGER = "awaiting_manager"
# Local-only step before the payment code: "20 or older?" for tobacco and alcohol.
AWAITING_AGE_CHECK = "awaiting_age_check"
AGE_CHECK_REFUSED = "age_check_refused"  # reason of a sale cancelled by a "no"
_RECORDED_AS = {AWAITING_MANAGER: SaleState.AWAITING_PAYMENT, AWAITING_AGE_CHECK: SaleState.OPEN}

PHASE_OF_STATE: dict[str, PaymentPhase] = {
    SaleState.AWAITING_PAYMENT: PaymentPhase.WAITING_FOR_CODE,
    SaleState.AUTHORIZING: PaymentPhase.VERIFYING,
    SaleState.STEP_UP: PaymentPhase.CUSTOMER_APPROVAL,
    SaleState.APPROVED: PaymentPhase.APPROVED,
    SaleState.DECLINED: PaymentPhase.DECLINED,
    SaleState.CANCELLED: PaymentPhase.CANCELLED,
    SaleState.VOIDED: PaymentPhase.VOIDED,
    AWAITING_MANAGER: PaymentPhase.MANAGER_APPROVAL,
    AWAITING_AGE_CHECK: PaymentPhase.AGE_CHECK,
}


@dataclass
class ActiveSale:
    ctx: SaleContext
    cashier_id: str
    created_at: int
    state: str = SaleState.AWAITING_PAYMENT
    attempt: int = 0  # token submissions that may reach the backend
    token: str | None = None
    verified: VerifyResult | None = None
    decision: Decision | None = None
    reason: str | None = None
    authorization_id: str | None = None
    expires_at: int | None = None
    offline: bool = False
    backend_reasons: tuple[str, ...] = ()  # risk.reasons codes of the backend's last answer
    backend_details: tuple[RiskDetail, ...] = ()  # and risk.details: each rule's inputs
    age_check: AgeCheck | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sale_id(self) -> str:
        return self.ctx.sale_id

    @property
    def claims(self) -> Claims | None:
        return None if self.verified is None else self.verified.claims

    @property
    def server_sale_id(self) -> str:
        """The backend refuses a second token on one sale_id, so each attempt gets its own."""
        return self.sale_id if self.attempt <= 1 else f"{self.sale_id}.{self.attempt}"

    @property
    def idempotency_key(self) -> str:
        return f"sale-{self.server_sale_id}"


def mask_wallet(sub: str | None) -> str | None:
    if not sub:
        return None
    return sub if len(sub) <= 10 else f"{sub[:5]}…{sub[-4:]}"


def update_of(sale: ActiveSale) -> PaymentUpdate:
    decision = sale.decision
    phase = PHASE_OF_STATE.get(sale.state, PaymentPhase.VERIFYING)
    if phase is PaymentPhase.APPROVED and sale.offline:
        phase = PaymentPhase.OFFLINE_ACCEPTED
    return PaymentUpdate(
        sale_id=sale.sale_id,
        phase=phase,
        total=sale.ctx.total,
        currency=sale.ctx.currency,
        reason=sale.reason,
        authorization_id=sale.authorization_id,
        wallet_masked=mask_wallet(sale.claims.sub if sale.claims else None),
        expires_at=sale.expires_at,
        risk_action=decision.action.value if decision else None,
        risk_reasons=merge_reasons(
            reason_views(decision), sale.backend_reasons, sale.backend_details
        ),
        manager_may_override=decision.manager_may_override if decision else True,
        offline=sale.offline,
        age_check=sale.age_check,
    )


def update_of_row(row: sqlite3.Row) -> PaymentUpdate:
    """What the cashier sees of a stored sale this process holds no working state for."""
    offline = bool(row["offline"])
    phase = PHASE_OF_STATE.get(str(row["state"]), PaymentPhase.VERIFYING)
    if phase is PaymentPhase.APPROVED and offline:
        phase = PaymentPhase.OFFLINE_ACCEPTED
    return PaymentUpdate(
        sale_id=str(row["sale_id"]),
        phase=phase,
        total=int(row["total"]),
        currency=str(row["currency"]),
        reason=row["reason"],
        authorization_id=row["authorization_id"],
        wallet_masked=row["wallet_masked"],
        offline=offline,
    )


def token_facts(sale: ActiveSale) -> dict[str, object] | None:
    """What the local record keeps of the token: never the token itself."""
    claims = sale.claims
    facts: dict[str, object] = {"server_sale_id": sale.server_sale_id}
    if claims is not None:
        facts.update(
            cti=claims.cti.hex(),
            exp=claims.exp,
            iat=claims.iat,
            flags=claims.flags,
            limit=claims.limit,
            device=claims.device.hex(),
            wallet_ref=wallet_ref(claims.sub),
        )
    return facts


def risk_of(sale: ActiveSale) -> dict[str, Any] | None:
    """The local record of the verdict: the terminal's decision, plus each reason the
    backend added (a step-up the terminal's rules did not ask for), with its sentence
    and inputs, so the manager's evidence says why the sale went to approval."""
    record = risk_record(sale.decision) if sale.decision else None
    own = {str(r.get("code")) for r in (record or {}).get("reasons") or ()}
    added = [c for c in sale.backend_reasons if c not in own]
    if not added:
        return record
    record = dict(record or {"action": "allow", "score": 0, "reasons": []})
    views = merge_reasons((), added, sale.backend_details)
    record["reasons"] = [
        *(record.get("reasons") or ()),
        *(
            {"code": v.code, "en": v.en, "ja": v.ja, "inputs": dict(v.inputs), "source": "backend"}
            for v in views
        ),
    ]
    return record


def record_of(sale: ActiveSale, *, at: int) -> SaleRecord:
    return SaleRecord(
        sale_id=sale.sale_id,
        store_id=sale.ctx.store_id,
        terminal_id=sale.ctx.terminal_id,
        cashier_id=sale.cashier_id,
        currency=sale.ctx.currency,
        total=sale.ctx.total,
        state=_RECORDED_AS.get(sale.state, sale.state),
        lines=sale.ctx.lines,
        at=at,
        reason=sale.reason,
        authorization_id=sale.authorization_id,
        wallet_masked=mask_wallet(sale.claims.sub if sale.claims else None),
        offline=sale.offline,
        pickup_later=sale.ctx.pickup_later,
        risk=risk_of(sale),
        token_facts=token_facts(sale),
        age_check=sale.age_check.as_record() if sale.age_check else None,
    )


def sale_body(
    sale: ActiveSale,
    *,
    offline_at: int | None = None,
    manager: ManagerApprovalBody | None = None,
) -> FinalizeBody:
    """POST /v1/sales body for the current attempt."""
    if sale.token is None or sale.decision is None:
        raise ValueError("a sale body needs a verified token and a risk decision")
    body: FinalizeBody = {
        "sale_id": sale.server_sale_id,
        "store_id": sale.ctx.store_id,
        "terminal_id": sale.ctx.terminal_id,
        "cashier_id": sale.cashier_id,
        "token": sale.token,
        "currency": sale.ctx.currency,
        "total": sale.ctx.total,
        "lines": [line.as_api("en") for line in sale.ctx.lines],
        "terminal_risk": api_risk(sale.decision),
        "offline_accepted_at": offline_at,
    }
    if manager is not None:
        body["manager_approval"] = manager
    return body


def manager_approval(
    sale: ActiveSale, signer: ManagerSigner | None, *, manager_id: str, reason: str, at: int
) -> ManagerApprovalBody:
    """The ``manager_approval`` object: the manager's signature over this very sale.

    Without the manager's key the backend refuses it (403 ``manager_required``), so
    the till refuses first and says what to do."""
    if signer is None or signer.manager_id != manager_id:
        raise CheckoutError(
            "a manager approves with their passphrase: this till has no manager key for "
            f"{manager_id} (pos-app manager-key)"
        )
    return signer.approve_sale(sale_body(sale), reason=reason, at=at)


def seen_expiry(claims: Claims) -> int:
    return claims.exp + DEFAULT_SKEW


def offline_entry(sale: ActiveSale, body: FinalizeBody) -> OutboxEntry:
    """The finalize of a sale accepted offline. Its own key: the online attempt never landed."""
    return OutboxEntry(
        kind="finalize",
        idempotency_key=f"{sale.idempotency_key}-offline",
        payload={"server_sale_id": sale.server_sale_id, "body": body},
    )


def reconcile_entry(sale: ActiveSale, body: FinalizeBody) -> OutboxEntry:
    """An online finalize whose outcome is unknown: looked up, never blindly re-sent."""
    claims = sale.claims
    return OutboxEntry(
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


def cancel_entry(sale: ActiveSale, body: CancelBody, *, kind: str, key: str) -> OutboxEntry:
    """A cancel or void; a void's body carries the manager's signed approval, so one queued
    offline is sent later with its proof (the backend refuses a void without one)."""
    payload: dict[str, object] = {"server_sale_id": sale.server_sale_id, **body}
    return OutboxEntry(kind=kind, idempotency_key=key, payload=payload)

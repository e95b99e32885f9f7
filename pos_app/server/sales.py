"""Sale records as the API shows them, and sale state changes after the decision."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.core.reasons import ReasonCode
from pos_app.server import ledger
from pos_app.server.errors import ApiError
from pos_app.server.models import Sale, StepUp

# Reasons that make a declined sale worth a manager's look.
FLAG_REASONS = frozenset(
    {
        ReasonCode.TOKEN_ALREADY_USED,
        ReasonCode.WALLET_FROZEN,
        ReasonCode.DEVICE_REVOKED,
        ReasonCode.RISK_DECLINED,
        ReasonCode.LIMIT_EXCEEDED,
    }
)


@dataclass(slots=True)
class SaleDraft:
    """A sale being decided by finalize, as a plain object: the ``sales`` row's columns.

    The usual sale is written with one INSERT once decided (``finalize._insert_sale``) and
    never needs the ORM; an ORM ``Sale`` cost about 30 instrumented attribute sets per sale
    (about 5% of a finalize's server CPU under load, docs/BACKEND.md). A sale that must live
    in the session (a step-up refers to it; a refused offline claim) becomes one with
    :meth:`to_orm`."""

    sale_id: str
    store_id: str
    terminal_id: str
    cashier_id: str
    currency: str
    total: int
    lines: list[dict[str, Any]]
    status: str
    risk: dict[str, Any]
    created_at: int
    updated_at: int
    wallet_id: str | None = None
    device_id: str | None = None
    cti: str | None = None
    cc_total: int = 0
    tobacco_total: int = 0
    categories: str | None = None
    store_region: str = ""
    reason: str | None = None
    authorization_id: str | None = None
    risk_explanation: dict[str, Any] | None = None
    offline_accepted_at: int | None = None
    idempotency_key: str | None = None
    manager_id: str | None = None
    manager_reason: str | None = None
    sale_number: str | None = None
    review_status: str | None = None
    claimed_by: str | None = None
    claimed_at: int | None = None
    disputed_at: int | None = None
    dispute_reason: str | None = None

    def to_orm(self) -> Sale:
        """The same sale as an ORM object (its unset columns left unset, as before)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return Sale(**{name: value for name, value in values.items() if value is not None})


AnySale = Sale | SaleDraft


def view(sale: AnySale, step: StepUp | None, *, now: int) -> dict[str, Any]:
    """The decision body of BACKEND-API.md, in its documented key order."""
    step_up = None
    if sale.status == "step_up_required" and step is not None:
        step_up = {"challenge_id": step.challenge_id, "expires_at": step.expires_at}
    return {
        "sale_id": sale.sale_id,
        "status": sale.status,
        "authorization_id": sale.authorization_id,
        "reason": sale.reason,
        "risk": sale.risk,
        "step_up": step_up,
        "server_time": now,
    }


def step_of(session: Session, sale_id: str) -> StepUp | None:
    return session.scalars(select(StepUp).where(StepUp.sale_id == sale_id)).first()


def load(session: Session, sale_id: str) -> Sale:
    sale = session.get(Sale, sale_id)
    if sale is None:
        raise ApiError(404, "unknown_sale", "no sale with this id")
    return sale


def expire_if_due(session: Session, sale: Sale, step: StepUp | None, *, now: int) -> None:
    """A step-up nobody answered in time declines the sale (checked lazily on read)."""
    if sale.status == "step_up_required" and step is not None and now > step.expires_at:
        step.status = "expired"
        decline(sale, "step_up_expired", now=now)


def decline(sale: AnySale, reason: str, *, now: int) -> None:
    sale.status = "declined"
    sale.reason = reason
    sale.updated_at = now
    if reason in FLAG_REASONS or sale.offline_accepted_at is not None:
        sale.review_status = sale.review_status or "pending"


def settle(session: Session, sale: AnySale, *, wallet_id: str, now: int) -> bool:
    """Debit the wallet and credit the store in this transaction; False if funds are short."""
    account = ledger.wallet_account(wallet_id)
    if not ledger.try_debit(session, account, sale.total):
        return False
    store = ledger.store_account(sale.store_id)
    ledger.ensure_account(session, store, kind="store", currency=sale.currency)
    ledger.post_reserved(
        session, "sale", sale.sale_id, debit=account, credit=store, amount=sale.total, now=now
    )
    sale.status = "approved"
    sale.reason = None
    sale.authorization_id = _authorization_id()
    sale.updated_at = now
    return True


def lock(session: Session, sale: Sale) -> None:
    """Take the sale's row lock and re-read it, so a decision on it is made on its latest state.

    Two concurrent voids, two approvals of one step-up, or a cancel racing an approval must
    serialise on the sale: without this, each reads "approved" / "pending" and both act
    (PostgreSQL READ COMMITTED). SQLite serialises writers with BEGIN IMMEDIATE already.
    """
    session.flush()  # keep this transaction's own pending changes (e.g. an expiry)
    session.refresh(sale, with_for_update=True)


def cancel(
    session: Session,
    sale: Sale,
    *,
    now: int,
    authorize_void: Callable[[Sale], None] | None = None,
) -> None:
    """Cancel a sale waiting for step-up, or void an approved one (reversing the debit).

    ``authorize_void`` runs under the sale's lock before an approved sale is voided (the
    cancel route checks the manager's proof there: a void moves money)."""
    lock(session, sale)
    if sale.status == "cancelled":
        return
    if sale.status == "approved" and authorize_void is not None:
        authorize_void(sale)
    if sale.status == "step_up_required":
        step = step_of(session, sale.sale_id)
        if step is not None:
            session.refresh(step)  # read after the sale lock: a concurrent decision is visible
            step.status = "cancelled"
        # The token stays redeemed: PT1 tokens are single use whatever became of the sale.
    elif sale.status == "approved" and sale.wallet_id is not None:
        ledger.post(
            session,
            "void",
            sale.sale_id,
            # Wallet first, then store: the lock order finalize uses, so no deadlock.
            legs=[
                (ledger.wallet_account(sale.wallet_id), sale.total),
                (ledger.store_account(sale.store_id), -sale.total),
            ],
            now=now,
        )
    else:
        raise ApiError(422, "not_cancellable", f"a {sale.status} sale cannot be cancelled")
    sale.status = "cancelled"
    sale.updated_at = now


def _authorization_id() -> str:
    return f"auth-{uuid.uuid4().hex}"

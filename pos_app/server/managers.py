"""Manager proofs at the backend: enrolled manager keys, and the checks that need them.

A terminal's signature says which till sent a request, never who stood at it.
Every manager action that moves money or freezes a wallet (``manager_approval``
on ``POST /v1/sales``, a void of an approved sale, every review decision) must
carry a signature by a key enrolled for that manager and that store, over the
exact sale, amount or decision and a timestamp (``pos_app.paytoken.manager_proof``).
Without one: 403 ``manager_required``. docs/BACKEND.md ("Manager proofs") has the design.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.paytoken import keys, manager_proof
from pos_app.server.errors import ApiError
from pos_app.server.models import ManagerKey, Review, Sale
from pos_app.server.schemas import CancelRequest, ReviewDecisionRequest, SaleRequest

# An approval is made at the counter while the customer waits: a few minutes around
# the moment the sale was sent (online) or accepted (offline) is all it needs.
APPROVAL_WINDOW = 300
# Review decisions may be queued on a till that lost its link; a replay of one is
# refused by its signature's hash, so the window only bounds how stale one may be.
DECISION_MAX_AGE = 72 * 3600
FUTURE_SLACK = 30


def manager_required(detail: str) -> ApiError:
    return ApiError(403, "manager_required", detail)


@dataclass(frozen=True, slots=True)
class EnrolledKey:
    store_id: str
    manager_id: str
    public_key: str  # base64url


def enroll(
    session: Session, *, store_id: str, manager_id: str, public_key: bytes, now: int
) -> EnrolledKey:
    """Add a manager's public key (an administrator's act; idempotent)."""
    keys.public_from_raw(public_key)  # refuse what is not an Ed25519 key
    found = session.scalars(
        select(ManagerKey).where(
            ManagerKey.store_id == store_id,
            ManagerKey.manager_id == manager_id,
            ManagerKey.public_key == public_key,
        )
    ).first()
    if found is None:
        session.add(
            ManagerKey(
                store_id=store_id, manager_id=manager_id, public_key=public_key, created_at=now
            )
        )
    elif found.revoked_at is not None:
        raise ValueError("this key was revoked for this manager: derive a new one")
    return EnrolledKey(store_id, manager_id, keys.b64url_encode(public_key))


def revoke(session: Session, *, store_id: str, manager_id: str, now: int) -> int:
    """Revoke every key of a manager (left the company, passphrase seen); returns how many."""
    rows = session.scalars(
        select(ManagerKey).where(
            ManagerKey.store_id == store_id,
            ManagerKey.manager_id == manager_id,
            ManagerKey.revoked_at.is_(None),
        )
    ).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)


def require_sale_approval(session: Session, req: SaleRequest, *, now: int) -> None:
    """A ``manager_approval`` must be signed by that manager, for this sale and amount."""
    approval = req.manager_approval
    if approval is None:
        return
    if approval.signature is None or approval.approved_at is None:
        raise manager_required(
            "manager_approval needs the manager's signature (approved_at, signature)"
        )
    reference = now if req.offline_accepted_at is None else req.offline_accepted_at
    if not (
        reference - APPROVAL_WINDOW <= approval.approved_at <= reference + APPROVAL_WINDOW
        and approval.approved_at <= now + FUTURE_SLACK
    ):
        raise manager_required("the manager's approval is not from the time of this sale")
    signed = manager_proof.SaleApproval(
        **req.model_dump(include={"sale_id", "store_id", "terminal_id", "total", "currency"}),
        **approval.model_dump(include={"manager_id", "reason", "approved_at"}),
        token_sha256=manager_proof.token_digest(req.token),
    )
    _require_signature(session, req.store_id, approval.manager_id, signed, approval.signature)


def require_decision(session: Session, sale: Sale, req: ReviewDecisionRequest, *, now: int) -> str:
    """A review decision must be signed by the reviewing manager; returns the proof's hash."""
    if req.signature is None or req.decided_at is None:
        raise manager_required(
            "a review decision needs the manager's signature (decided_at, signature)"
        )
    if not now - DECISION_MAX_AGE <= req.decided_at <= now + FUTURE_SLACK:
        raise manager_required("the decision's time is in the future or too old")
    signed = manager_proof.ReviewDecision(
        sale_id=sale.sale_id,
        store_id=sale.store_id,
        **req.model_dump(include={"reviewer_id", "decision", "note", "decided_at"}),
    )
    _require_signature(session, sale.store_id, req.reviewer_id, signed, req.signature)
    digest = hashlib.sha256(req.signature.encode()).hexdigest()
    if session.scalars(select(Review.id).where(Review.proof_sha256 == digest)).first():
        raise manager_required("this signed decision was already applied; sign a new one")
    return digest


def require_void(session: Session, sale: Sale, req: CancelRequest | None, *, now: int) -> None:
    """A void refunds the wallet: it needs a manager's signature over this sale's id, store,
    amount and the reason sent. Called under the sale's row lock, only for an approved sale.

    The signature binds the sale id, so a proof voids one sale; that sale can be cancelled
    once, so replaying the proof (any Idempotency-Key) refunds nothing more."""
    if req is None or req.manager_approval is None:
        raise manager_required(
            "voiding an approved sale refunds the wallet: it needs a manager's approval "
            "(manager_approval: manager_id, approved_at, signature)"
        )
    approval = req.manager_approval
    moment = sale.offline_accepted_at if sale.offline_accepted_at is not None else sale.created_at
    if not (
        moment - FUTURE_SLACK <= approval.approved_at <= now + FUTURE_SLACK
        and approval.approved_at >= now - DECISION_MAX_AGE
    ):
        raise manager_required("the manager's void approval is older than the sale or too old")
    signed = manager_proof.Void(
        manager_id=approval.manager_id,
        reason=req.reason or "",
        sale_id=sale.sale_id,
        store_id=sale.store_id,
        total=sale.total,
        currency=sale.currency,
        approved_at=approval.approved_at,
    )
    _require_signature(session, sale.store_id, approval.manager_id, signed, approval.signature)


def _require_signature(
    session: Session,
    store_id: str,
    manager_id: str,
    signed: manager_proof.Proof,
    signature: str,
) -> None:
    enrolled = session.scalars(
        select(ManagerKey.public_key).where(
            ManagerKey.store_id == store_id,
            ManagerKey.manager_id == manager_id,
            ManagerKey.revoked_at.is_(None),
        )
    ).all()
    if not enrolled:
        raise manager_required(f"{manager_id} has no manager key enrolled for store {store_id}")
    if not any(manager_proof.verify(bytes(raw), signed, signature) for raw in enrolled):
        raise manager_required(f"the signature is not {manager_id}'s for this sale and decision")

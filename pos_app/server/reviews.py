"""Manager review of flagged sales; ``confirmed_fraud`` freezes the wallet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.server.errors import ApiError
from pos_app.server.models import Review, Sale, Wallet

STATUS_OF_DECISION = {
    "approve": "approved",
    "reject": "rejected",
    "escalate": "escalated",
    "confirmed_fraud": "confirmed_fraud",
}
REVIEW_STATUSES = frozenset({"pending", *STATUS_OF_DECISION.values()})
MAX_ROWS = 500


def list_flagged(
    session: Session, store_id: str, status: str | None, *, now: int, claim_ttl: int
) -> dict[str, Any]:
    if status is not None and status not in REVIEW_STATUSES:
        raise ApiError(422, "bad_status", f"status must be one of {sorted(REVIEW_STATUSES)}")
    query = select(Sale).where(Sale.store_id == store_id, Sale.review_status.is_not(None))
    if status is not None:
        query = query.where(Sale.review_status == status)
    rows = list(session.scalars(query.order_by(Sale.created_at.desc()).limit(MAX_ROWS)))
    history = _history(session, [s.sale_id for s in rows])
    return {
        "store_id": store_id,
        "reviews": [
            {
                "sale_id": s.sale_id,
                "terminal_id": s.terminal_id,
                "cashier_id": s.cashier_id,
                "wallet_id": s.wallet_id,
                "total": s.total,
                "currency": s.currency,
                "status": s.status,
                "reason": s.reason,
                "risk": s.risk,
                "offline": s.offline_accepted_at is not None,
                "review_status": s.review_status,
                "created_at": s.created_at,
                "lines": s.lines,
                "manager_approval": (
                    {"manager_id": s.manager_id, "reason": s.manager_reason}
                    if s.manager_id
                    else None
                ),
                "decisions": history.get(s.sale_id, []),
                "claim": _live_claim(s, now=now, ttl=claim_ttl),
                "risk_reasons": risk_reasons(s),
                "rules_version": (s.risk_explanation or {}).get("rules_version"),
                "offline_accepted_at": s.offline_accepted_at,
                "dispute": (
                    {"at": s.disputed_at, "reason": s.dispute_reason} if s.disputed_at else None
                ),
            }
            for s in rows
        ],
    }


def risk_reasons(sale: Sale) -> list[dict[str, Any]]:
    """Every reason code of the verdict, with the backend's sentences and inputs when it has
    them (codes only the terminal reported have ``en``/``ja``/``inputs`` null)."""
    known = {
        str(r.get("code")): r
        for r in (sale.risk_explanation or {}).get("reasons") or []
        if isinstance(r, dict)
    }
    out = []
    for code in (sale.risk or {}).get("reasons") or []:
        found = known.get(str(code), {})
        out.append(
            {
                "code": str(code),
                "source": "backend" if found else "terminal",
                "en": found.get("en"),
                "ja": found.get("ja"),
                "inputs": found.get("inputs"),
            }
        )
    return out


def _live_claim(sale: Sale, *, now: int, ttl: int) -> dict[str, Any] | None:
    if sale.claimed_by is None or sale.claimed_at is None or sale.claimed_at < now - ttl:
        return None
    return {
        "claimed_by": sale.claimed_by,
        "claimed_at": sale.claimed_at,
        "expires_at": sale.claimed_at + ttl,
    }


def _history(session: Session, sale_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if not sale_ids:
        return out
    rows = session.scalars(
        select(Review).where(Review.sale_id.in_(sale_ids)).order_by(Review.created_at, Review.id)
    )
    for r in rows:
        out.setdefault(r.sale_id, []).append(
            {
                "decision": r.decision,
                "reviewer_id": r.reviewer_id,
                "note": r.note,
                "at": r.created_at,
            }
        )
    return out


def decide(
    session: Session,
    sale: Sale,
    decision: str,
    *,
    reviewer_id: str,
    note: str,
    now: int,
    proof_sha256: str | None = None,
) -> dict[str, Any]:
    sale.review_status = STATUS_OF_DECISION[decision]
    sale.updated_at = now
    session.add(
        Review(
            sale_id=sale.sale_id,
            decision=decision,
            reviewer_id=reviewer_id,
            note=note,
            created_at=now,
            proof_sha256=proof_sha256,
        )
    )
    frozen = False
    if decision == "confirmed_fraud" and sale.wallet_id is not None:
        wallet = session.get(Wallet, sale.wallet_id)
        if wallet is not None:
            wallet.frozen = frozen = True
    return {"sale_id": sale.sale_id, "review_status": sale.review_status, "wallet_frozen": frozen}

"""Claims on sales under review, shared by every till of a store (an API extension).

A claim is one conditional ``UPDATE`` of the sale row: it succeeds when the sale
is free, already held by the same reviewer, or held by a claim older than the
TTL. On PostgreSQL a concurrent loser waits for the winner's row lock and then
re-checks the ``WHERE`` against the committed row; SQLite has a single writer.
Whoever's update changed the row holds the sale.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from pos_app.server.errors import ApiError
from pos_app.server.models import Sale

CONFLICT = "review_claimed"


def _free_for(reviewer_id: str, *, now: int, ttl: int) -> Any:
    return or_(
        Sale.claimed_by.is_(None),
        Sale.claimed_by == reviewer_id,
        Sale.claimed_at < now - ttl,
    )


def _set_claim(
    session: Session, sale_id: str, reviewer_id: str, *, holder: str | None, now: int, ttl: int
) -> bool:
    result = session.execute(
        update(Sale)
        .where(Sale.sale_id == sale_id, _free_for(reviewer_id, now=now, ttl=ttl))
        .values(claimed_by=holder, claimed_at=now if holder else None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def holder(session: Session, sale_id: str, *, now: int, ttl: int) -> dict[str, Any] | None:
    """The live claim on a sale, ``{claimed_by, claimed_at, expires_at}``, or None."""
    row = session.execute(
        select(Sale.claimed_by, Sale.claimed_at).where(Sale.sale_id == sale_id)
    ).first()
    if row is None or row[0] is None or row[1] is None or int(row[1]) < now - ttl:
        return None
    return {"claimed_by": row[0], "claimed_at": int(row[1]), "expires_at": int(row[1]) + ttl}


def refused(sale_id: str, held: dict[str, Any]) -> ApiError:
    """409 naming who holds the sale and since when (not stored: a retry may succeed later)."""
    return ApiError(
        409,
        CONFLICT,
        f"sale {sale_id} is being reviewed by {held['claimed_by']}",
        extra={"claimed_by": held["claimed_by"], "claimed_at": held["claimed_at"]},
    )


def claim(
    session: Session, sale_id: str, reviewer_id: str, *, now: int, ttl: int
) -> dict[str, Any]:
    """The claim when the reviewer now holds the sale; 409 naming the holder otherwise."""
    if not _set_claim(session, sale_id, reviewer_id, holder=reviewer_id, now=now, ttl=ttl):
        raise _refusal(session, sale_id, now=now, ttl=ttl)
    return {
        "sale_id": sale_id,
        "claimed_by": reviewer_id,
        "claimed_at": now,
        "expires_at": now + ttl,
    }


def release(
    session: Session, sale_id: str, reviewer_id: str, *, now: int, ttl: int
) -> dict[str, Any]:
    """Drop the reviewer's claim (a free or lapsed sale is fine); 409 if another holds it."""
    if not _set_claim(session, sale_id, reviewer_id, holder=None, now=now, ttl=ttl):
        raise _refusal(session, sale_id, now=now, ttl=ttl)
    return {"sale_id": sale_id, "claimed_by": None}


def clear_for_decision(
    session: Session, sale_id: str, reviewer_id: str, *, now: int, ttl: int
) -> None:
    """A decision ends the reviewer's claim; refused (409) while another holds a live one."""
    if not _set_claim(session, sale_id, reviewer_id, holder=None, now=now, ttl=ttl):
        raise _refusal(session, sale_id, now=now, ttl=ttl)


def _refusal(session: Session, sale_id: str, *, now: int, ttl: int) -> ApiError:
    held = holder(session, sale_id, now=now, ttl=ttl)
    if held is None:  # the row changed under us: a race that did not settle; retryable
        return ApiError(409, "request_in_progress", "the claim changed meanwhile; retry")
    return refused(sale_id, held)

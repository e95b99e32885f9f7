"""What a wallet's owner sees of the sales their codes paid, and the "not me" dispute.

An offline sale is settled on the till's word about when it happened; the owner
is the one who can tell a charge they never made (BACKEND-API.md, revisions
wave 2). A dispute reopens the sale's review (``review_status`` back to
``pending``), so it is on the store manager's list (``GET /v1/reviews``) with
the owner's words beside it. It moves no money by itself: a manager's decision
does (``confirmed_fraud`` freezes the wallet; a refund is a void).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.server.errors import ApiError
from pos_app.server.models import Sale

MAX_ROWS = 200


def wallet_sales(session: Session, wallet_id: str) -> dict[str, Any]:
    """The wallet's sales, newest first (at most 200), offline ones marked."""
    rows = session.scalars(
        select(Sale)
        .where(Sale.wallet_id == wallet_id)
        .order_by(Sale.created_at.desc(), Sale.sale_id)
        .limit(MAX_ROWS)
    )
    return {"wallet_id": wallet_id, "sales": [_row(s) for s in rows]}


def _row(sale: Sale) -> dict[str, Any]:
    offline = sale.offline_accepted_at is not None
    return {
        "sale_id": sale.sale_id,
        "store_id": sale.store_id,
        "terminal_id": sale.terminal_id,
        "total": sale.total,
        "currency": sale.currency,
        "status": sale.status,
        "reason": sale.reason,
        "offline": offline,
        "offline_accepted_at": sale.offline_accepted_at,
        # Goods left the store offline and the backend did not settle the sale.
        "offline_loss": offline and sale.status == "declined",
        "review_status": sale.review_status,
        "disputed_at": sale.disputed_at,
        "created_at": sale.created_at,
    }


def dispute(
    session: Session, wallet_id: str, sale_id: str, reason: str | None, *, now: int
) -> dict[str, Any]:
    """Mark the sale disputed by its wallet's owner and put it back on the review list."""
    sale = session.get(Sale, sale_id)
    if sale is None or sale.wallet_id != wallet_id:
        # Another wallet's sale is as unknown as a missing one: no probing of sale ids.
        raise ApiError(404, "unknown_sale", "no sale of this wallet with this id")
    if sale.disputed_at is None:
        sale.disputed_at = now
        sale.dispute_reason = reason
        sale.review_status = "pending"
        sale.updated_at = now
    return {
        "sale_id": sale.sale_id,
        "review_status": sale.review_status,
        "disputed_at": sale.disputed_at,
    }

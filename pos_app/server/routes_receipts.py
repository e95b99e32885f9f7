"""``GET /v1/sales/{sale_id}/receipt``: what a till of the same store needs to reprint a sale.

A customer who bought at till 1 may ask for the receipt at till 2. The invoice is rebuilt from
what the backend kept of the sale (lines with their tax rate, the till's sale number, who sold
it, when, the authorization); the wallet id leaves only masked, as on the original receipt.
Documented in docs/BACKEND.md (additions) and in ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from pos_app.server import sales
from pos_app.server.backend import Principal, require_store
from pos_app.server.http import PathId, Terminal
from pos_app.server.models import Sale

router = APIRouter()


def mask(wallet_id: str | None) -> str | None:
    """The wallet id as receipts print it: its first five and last four characters."""
    if not wallet_id:
        return None
    return wallet_id if len(wallet_id) <= 10 else f"{wallet_id[:5]}…{wallet_id[-4:]}"


def receipt_view(sale: Sale) -> dict[str, Any]:
    return {
        "sale_id": sale.sale_id,
        "sale_number": sale.sale_number,
        "store_id": sale.store_id,
        "terminal_id": sale.terminal_id,
        "cashier_id": sale.cashier_id,
        "created_at": sale.created_at,
        "status": sale.status,
        "currency": sale.currency,
        "total": sale.total,
        "authorization_id": sale.authorization_id,
        "offline_accepted_at": sale.offline_accepted_at,
        "wallet_masked": mask(sale.wallet_id),
        "lines": [
            {
                "sku": line.get("sku"),
                "name": line.get("name"),
                "quantity": line.get("quantity"),
                "unit_price": line.get("unit_price"),
                "line_total": line.get("line_total"),
                "tax_rate": line.get("tax_rate"),
            }
            for line in sale.lines
        ],
    }


@router.get("/v1/sales/{sale_id}/receipt", tags=["terminal"])
async def get_receipt(sale_id: PathId, signed: Terminal) -> Response:
    def work(session: Session, principal: Principal) -> dict[str, Any]:
        sale = sales.load(session, sale_id)
        require_store(principal, sale.store_id)
        return receipt_view(sale)

    return await signed.read(work)

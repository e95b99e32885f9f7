"""Step-up challenges: the wallet owner approves or denies on the registered device."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.paytoken import httpsig, keys
from pos_app.server import sales
from pos_app.server.errors import ApiError
from pos_app.server.models import Device, Sale, StepUp, Wallet


def pending(session: Session, wallet_id: str, *, now: int) -> list[dict[str, Any]]:
    steps = session.scalars(
        select(StepUp)
        .where(StepUp.wallet_id == wallet_id, StepUp.status == "pending", StepUp.expires_at >= now)
        .order_by(StepUp.expires_at)
    )
    out = []
    for step in steps:
        sale = session.get(Sale, step.sale_id)
        lines = sale.lines if sale else []
        out.append(
            {
                "challenge_id": step.challenge_id,
                "sale_id": step.sale_id,
                "store_id": step.store_id,
                "total": step.total,
                "currency": step.currency,
                "expires_at": step.expires_at,
                "basket": [
                    {
                        "name": li["name"],
                        "category": li["category"],
                        "quantity": li["quantity"],
                        "line_total": li["line_total"],
                    }
                    for li in lines[:50]
                ],
                "line_count": len(lines),
            }
        )
    return out


def decide(
    session: Session, challenge_id: str, decision: str, *, signature: str, wallet_id: str, now: int
) -> dict[str, Any]:
    """Apply an approve/deny signed by the device the token was minted for."""
    step = session.get(StepUp, challenge_id)
    if step is None:
        raise ApiError(404, "unknown_challenge", "no step-up challenge with this id")
    if step.wallet_id != wallet_id:
        raise ApiError(403, "wrong_wallet", "this challenge belongs to another wallet")
    _check_signature(session, step, decision, signature)
    sale = sales.load(session, step.sale_id)
    sales.lock(session, sale)  # one decision or cancel at a time per sale: never two debits
    session.refresh(step)
    sales.expire_if_due(session, sale, step, now=now)
    if step.status != "pending":
        code = "step_up_expired" if step.status == "expired" else "step_up_not_pending"
        return {"error": code, "sale": sales.view(sale, step, now=now)}
    step.status, step.decided_at = ("approved" if decision == "approve" else "denied"), now
    if decision == "deny":
        sales.decline(sale, "step_up_denied", now=now)
    elif _wallet_frozen(session, step.wallet_id):
        sales.decline(sale, "wallet_frozen", now=now)
    elif not sales.settle(session, sale, wallet_id=step.wallet_id, now=now):
        sales.decline(sale, "insufficient_funds", now=now)
    return {"error": None, "sale": sales.view(sale, step, now=now)}


def _check_signature(session: Session, step: StepUp, decision: str, signature: str) -> None:
    device = session.get(Device, step.device_id)
    if device is None or device.revoked_at is not None:
        raise ApiError(403, "bad_step_up_signature", "the challenge's device is not registered")
    message = httpsig.step_up_message(
        step.challenge_id, step.currency, decision, step.sale_id, step.store_id, step.total
    )
    try:
        raw = keys.b64url_decode(signature)
        keys.public_from_raw(device.public_key).verify(raw, message)
    except (ValueError, InvalidSignature):
        raise ApiError(
            403, "bad_step_up_signature", "signature does not match this challenge"
        ) from None


def _wallet_frozen(session: Session, wallet_id: str) -> bool:
    wallet = session.get(Wallet, wallet_id)
    return wallet is None or wallet.frozen

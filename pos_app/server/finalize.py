"""POST /v1/sales: re-verify the token, redeem it once, decide, debit, in one transaction.

Single redemption across terminals and processes rests on the primary key of
``redemptions.cti``: the row is inserted in the same transaction as the sale
and the debit, so exactly one transaction can commit it. A loser's INSERT
fails (PostgreSQL: after waiting for the winner's commit) and the whole
attempt is retried, which then sees the redemption and declines
``token_already_used``. SQLite serialises writers with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_app.server import db, ledger, managers, risk, sales
from pos_app.server.backend import Backend, Principal, require_store
from pos_app.server.errors import ApiError
from pos_app.server.models import Device, Redemption, Sale, StepUp, Terminal, Wallet
from pos_app.server.schemas import SaleRequest

ATTEMPTS = 4
# Offline sales older than this are settled by hand, not by the API.
OFFLINE_MAX_AGE = 30 * 86400


@dataclass(frozen=True)
class TokenFacts:
    """What the verified token says, or why it failed."""

    reason: str | None
    wallet_id: str = ""
    device_id: str = ""
    cti: str = ""
    exp: int = 0
    iat: int = 0
    limit: int = 0
    flags: int = 0


def check_request(backend: Backend, principal: Principal, req: SaleRequest) -> None:
    require_store(principal, req.store_id)
    if req.terminal_id != principal.terminal_id:
        raise ApiError(403, "wrong_terminal", "terminal_id is not the signing terminal")
    if len(req.lines) > backend.settings.max_lines:
        raise ApiError(422, "too_many_lines", f"at most {backend.settings.max_lines} lines")
    for line in req.lines:
        if line.quantity < 1 or line.line_total != line.quantity * line.unit_price:
            raise ApiError(422, "total_mismatch", f"line {line.sku}: quantity x price mismatch")
    if req.total != sum(line.line_total for line in req.lines):
        raise ApiError(422, "total_mismatch", "total is not the sum of the line totals")
    now = backend.now()
    if req.offline_accepted_at is not None and not (
        now - OFFLINE_MAX_AGE <= req.offline_accepted_at <= now + backend.settings.token_skew
    ):
        raise ApiError(422, "bad_offline_time", "offline_accepted_at is in the future or too old")
    if req.currency != backend.settings.currency:
        raise ApiError(
            422, "unsupported_currency", f"this backend settles {backend.settings.currency}"
        )


def finalize(
    backend: Backend, principal: Principal, req: SaleRequest, *, idem_key: str
) -> dict[str, Any]:
    check_request(backend, principal, req)
    now = backend.now()
    for _ in range(ATTEMPTS):
        try:
            with db.transaction(backend.sessions) as session:
                return _decide(backend, session, req, idem_key=idem_key, now=now)
        except IntegrityError:
            continue  # lost a race on the cti or the sale_id: the next attempt sees the winner
    raise ApiError(409, "request_in_progress", "a request for this sale is still being processed")


def _decide(
    backend: Backend, session: Session, req: SaleRequest, *, idem_key: str, now: int
) -> dict[str, Any]:
    existing = session.get(Sale, req.sale_id)
    if existing is not None:
        if existing.idempotency_key != idem_key:
            raise ApiError(422, "sale_id_reused", "this sale_id was finalized with another request")
        return sales.view(existing, sales.step_of(session, existing.sale_id), now=now)
    managers.require_sale_approval(session, req, now=now)
    # An offline sale is judged as of the moment the terminal accepted it: the token
    # was valid then, even if the terminal could only sync hours later.
    accepted_at = now if req.offline_accepted_at is None else req.offline_accepted_at
    token = _verify_token(backend, session, req.token, now=accepted_at)
    sale = _new_sale(session, req, token, idem_key=idem_key, now=now)
    session.add(sale)
    session.flush()
    if token.reason is not None:
        sales.decline(sale, token.reason, now=now)
        return sales.view(sale, None, now=now)
    ledger.lock_account(session, ledger.wallet_account(token.wallet_id))
    hard = _hard_reason(session, token, req, offline=req.offline_accepted_at is not None)
    if hard is not None:
        sales.decline(sale, hard, now=now)
        return sales.view(sale, None, now=now)
    verdict = _verdict(session, req, token, sale, now=now)
    sale.risk = verdict.as_dict()
    sale.risk_explanation = verdict.explanation()
    return _apply(backend, session, sale=sale, req=req, token=token, verdict=verdict, now=now)


def _verify_token(backend: Backend, session: Session, text: str, *, now: int) -> TokenFacts:
    verifier: Any = backend.verifier(session)
    result = verifier.verify(text, now=now)
    if not result.ok:
        return TokenFacts(reason=str(result.reason))
    c = result.claims
    return TokenFacts(
        reason=None,
        wallet_id=c.sub,
        device_id=bytes(c.device).hex(),
        cti=bytes(c.cti).hex(),
        exp=c.exp,
        iat=c.iat,
        limit=c.limit,
        flags=c.flags,
    )


def _new_sale(
    session: Session, req: SaleRequest, token: TokenFacts, *, idem_key: str, now: int
) -> Sale:
    lines = tuple(
        (li.sku, li.category, li.quantity, li.unit_price, li.line_total) for li in req.lines
    )
    cc_total, tobacco_total = risk.basket_totals(lines)
    term = session.scalars(
        select(Terminal).where(
            Terminal.store_id == req.store_id, Terminal.terminal_id == req.terminal_id
        )
    ).first()
    terminal_risk = req.terminal_risk.model_dump() if req.terminal_risk else None
    return Sale(
        sale_id=req.sale_id,
        store_id=req.store_id,
        terminal_id=req.terminal_id,
        cashier_id=req.cashier_id,
        wallet_id=token.wallet_id or None,
        device_id=token.device_id or None,
        cti=token.cti or None,
        currency=req.currency,
        total=req.total,
        lines=[li.model_dump() for li in req.lines],
        cc_total=cc_total,
        tobacco_total=tobacco_total,
        store_region=term.region if term else "",
        status="processing",
        risk=terminal_risk or {"score": 0, "action": "allow", "reasons": []},
        offline_accepted_at=req.offline_accepted_at,
        idempotency_key=idem_key,
        manager_id=req.manager_approval.manager_id if req.manager_approval else None,
        manager_reason=req.manager_approval.reason if req.manager_approval else None,
        created_at=now,
        updated_at=now,
    )


def _hard_reason(
    session: Session, token: TokenFacts, req: SaleRequest, *, offline: bool
) -> str | None:
    """Facts that decline whatever the risk score says, in the order they are checked."""
    if session.get(Redemption, token.cti) is not None:
        return "token_already_used"
    device = session.get(Device, token.device_id)
    if device is None or device.revoked_at is not None or device.wallet_id != token.wallet_id:
        return "device_revoked"
    wallet = session.get(Wallet, token.wallet_id)
    if wallet is None:
        return "device_revoked"
    if wallet.frozen:
        return "wallet_frozen"
    if offline and req.total > token.limit:
        return "limit_exceeded"
    return None


def _verdict(
    session: Session, req: SaleRequest, token: TokenFacts, sale: Sale, *, now: int
) -> risk.Verdict:
    facts = risk.SaleInput(
        sale_id=req.sale_id,
        store_id=req.store_id,
        terminal_id=req.terminal_id,
        store_region=sale.store_region,
        wallet_id=token.wallet_id,
        device_id=token.device_id,
        total=req.total,
        currency=req.currency,
        lines=tuple(
            (li.sku, li.category, li.quantity, li.unit_price, li.line_total) for li in req.lines
        ),
        token_flags=token.flags,
        token_age_s=max(0, (req.offline_accepted_at or now) - token.iat),
        offline=req.offline_accepted_at is not None,
    )
    backend_side = risk.backend_verdict(session, facts, now=now)
    terminal_side = req.terminal_risk.model_dump() if req.terminal_risk else None
    return risk.combine(terminal_side, backend_side)


def _apply(
    backend: Backend,
    session: Session,
    *,
    sale: Sale,
    req: SaleRequest,
    token: TokenFacts,
    verdict: risk.Verdict,
    now: int,
) -> dict[str, Any]:
    offline = req.offline_accepted_at is not None
    action = verdict.action
    if action == "manager_approval" and req.manager_approval and verdict.manager_may_override:
        action = "allow"  # the manager approved at the till; the sale is flagged for review
        sale.review_status = "pending"
    if action == "decline":
        sales.decline(sale, "risk_declined", now=now)
        return sales.view(sale, None, now=now)
    if action != "allow" and not offline:
        return _require_step_up(backend, session, sale, token, now=now)
    if action != "allow":
        sale.review_status = "pending"  # offline: the goods are gone; settle, then review
    _redeem(session, sale, token, now=now)
    if not sales.settle(session, sale, wallet_id=token.wallet_id, now=now):
        session.delete(session.get(Redemption, token.cti))
        sales.decline(sale, "insufficient_funds", now=now)
    return sales.view(sale, None, now=now)


def _redeem(session: Session, sale: Sale, token: TokenFacts, *, now: int) -> None:
    session.add(
        Redemption(cti=token.cti, sale_id=sale.sale_id, redeemed_at=now, expires_at=token.exp)
    )
    session.flush()  # the unique key decides here; a loser raises IntegrityError


def _require_step_up(
    backend: Backend, session: Session, sale: Sale, token: TokenFacts, *, now: int
) -> dict[str, Any]:
    # The token is redeemed now so it cannot pay elsewhere while the owner decides.
    _redeem(session, sale, token, now=now)
    step = StepUp(
        challenge_id=str(uuid.uuid4()),
        sale_id=sale.sale_id,
        wallet_id=token.wallet_id,
        device_id=token.device_id,
        store_id=sale.store_id,
        total=sale.total,
        currency=sale.currency,
        status="pending",
        expires_at=now + backend.settings.step_up_ttl,
    )
    session.add(step)
    sale.status = "step_up_required"
    sale.review_status = sale.review_status or "pending"
    sale.updated_at = now
    return sales.view(sale, step, now=now)

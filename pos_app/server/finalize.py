"""POST /v1/sales: re-verify the token, redeem it once, decide, debit, in one transaction.

That transaction is the request's only one: the request pipeline
(``http.Signed.once``) has already burnt the signature's nonce and claimed
the Idempotency-Key in it, and stores the answer in it after this returns.

Single redemption across terminals and processes rests on the primary key of
``redemptions.cti``: the row is inserted first (``ON CONFLICT DO NOTHING``, so a
second attempt learns "already used" from the same statement) and deleted again
when the sale is declined, since a declined attempt does not burn the token. A
concurrent inserter of the same cti waits for the first transaction on
PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE. A lost race on the
sale_id is retried by the pipeline, and the retry sees the winner.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Table, bindparam, select
from sqlalchemy.orm import Session

from pos_app.server import contacts, db, ledger, managers, risk, sales
from pos_app.server.backend import Backend, Principal, require_store
from pos_app.server.errors import ApiError
from pos_app.server.models import Account, Device, Redemption, Sale, StepUp, Wallet
from pos_app.server.schemas import SaleRequest

Lines = tuple[tuple[str, str, int, int, int], ...]


@dataclass(frozen=True)
class TokenFacts:
    """What the verified token says, or why it failed (claims kept when the signature held)."""

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
    if req.currency != backend.settings.currency:
        raise ApiError(
            422, "unsupported_currency", f"this backend settles {backend.settings.currency}"
        )


def finalize(
    backend: Backend,
    session: Session,
    principal: Principal,
    req: SaleRequest,
    *,
    idem_key: str,
    ahead: SaleAhead | None = None,
) -> tuple[int, dict[str, Any]]:
    """The answer (status, body): 200 with the decision, or 422 ``bad_offline_time``.

    *ahead*: the request's prefetch (its time, and the token it verified already)."""
    check_request(backend, principal, req)
    now = backend.now() if ahead is None else ahead.now
    token = None if ahead is None else ahead.token
    return _decide(backend, session, principal, req, idem_key=idem_key, now=now, token=token)


@dataclass
class SaleAhead:
    """The statements of a usual online sale, sent ahead of its work (``http.Ahead``):
    the sale_id lookup, the redemption, the device and wallet lock, the risk history."""

    backend: Backend
    req: SaleRequest
    now: int
    token: TokenFacts | None = None

    def prepare(self, session: Session) -> bool:
        if self.req.offline_accepted_at is not None:
            return False  # an offline claim takes the portable path
        self.token = _verify_token(self.backend, session, self.req.token, now=self.now)
        return True

    def send(self, session: Session) -> None:
        req, token, now = self.req, self.token, self.now
        db.ahead(session, _SALE_EXISTS, {"b_sale": req.sale_id})
        if token is None or token.reason is not None:
            return
        db.insert_new_ahead(session, Redemption, **_redemption_row(token, req.sale_id, now))
        db.ahead(session, _DEVICE_AND_LOCK, _device_params(token))
        risk.features_ahead(
            session, wallet_id=token.wallet_id, sale_id=req.sale_id, store_id=req.store_id, now=now
        )


def _decide(
    backend: Backend,
    session: Session,
    principal: Principal,
    req: SaleRequest,
    *,
    idem_key: str,
    now: int,
    token: TokenFacts | None,
) -> tuple[int, dict[str, Any]]:
    existing = None
    if db.raw(session, _SALE_EXISTS, {"b_sale": req.sale_id}).fetchone() is not None:
        existing = session.get(Sale, req.sale_id)
    if existing is not None:
        if existing.idempotency_key != idem_key:
            raise ApiError(422, "sale_id_reused", "this sale_id was finalized with another request")
        if existing.reason == BAD_OFFLINE_TIME:
            return 422, _offline_refusal("the offline claim was refused")
        return 200, sales.view(existing, sales.step_of(session, existing.sale_id), now=now)
    managers.require_sale_approval(session, req, now=now)
    lines: Lines = tuple(
        (li.sku, li.category, li.quantity, li.unit_price, li.line_total) for li in req.lines
    )
    if req.offline_accepted_at is not None:
        problem = contacts.offline_time_problem(
            session,
            principal.terminal_row,
            req.offline_accepted_at,
            now=now,
            settings=backend.settings,
        )
        if problem is not None:
            _record_refused_offline(
                backend, session, principal, req, lines=lines, idem_key=idem_key, now=now
            )
            return 422, _offline_refusal(problem)
    # An offline sale is judged as of the moment the terminal accepted it: the token
    # was valid then, even if the terminal could only sync hours later.
    accepted_at = now if req.offline_accepted_at is None else req.offline_accepted_at
    if token is None or req.offline_accepted_at is not None:
        token = _verify_token(backend, session, req.token, now=accepted_at)
    sale = _new_sale(req, token, lines, principal, idem_key=idem_key, now=now)
    view = _judge(
        backend, session, principal, sale=sale, req=req, token=token, lines=lines, now=now
    )
    if sale.status != STEP_UP_REQUIRED:  # a step-up sale is in the session already
        _insert_sale(session, sale)  # inserted once, with its outcome (no INSERT then UPDATE)
    return 200, view


_SALES: Table = Sale.__table__  # type: ignore[assignment]
_SALE_EXISTS = select(_SALES.c.sale_id).where(_SALES.c.sale_id == bindparam("b_sale"))
_INSERT_SALE = _SALES.insert().values({c.name: bindparam(c.name) for c in _SALES.columns})
# Each column of ``sales``: its name, its default (None: none), whether it holds JSON.
_SALE_COLUMNS: tuple[tuple[str, Any, bool], ...] = tuple(
    (c.name, None if c.default is None else c.default.arg, isinstance(c.type, JSON))  # type: ignore[attr-defined]
    for c in _SALES.columns
)


def _insert_sale(session: Session, sale: sales.SaleDraft) -> None:
    """INSERT the decided sale in one statement."""
    values: dict[str, Any] = {}
    for name, default, is_json in _SALE_COLUMNS:
        value = getattr(sale, name)
        if value is None:
            value = default
        if is_json and value is not None:
            value = json.dumps(value)
        values[name] = value
    db.write(session, _INSERT_SALE, values)


BAD_OFFLINE_TIME = "bad_offline_time"
STEP_UP_REQUIRED = "step_up_required"


def _offline_refusal(problem: str) -> dict[str, Any]:
    return {"error": BAD_OFFLINE_TIME, "detail": problem}


def _record_refused_offline(
    backend: Backend,
    session: Session,
    principal: Principal,
    req: SaleRequest,
    *,
    lines: Lines,
    idem_key: str,
    now: int,
) -> None:
    """Keep a refused offline claim as a declined sale: an offline loss, flagged for review,
    listed to the wallet's owner (whose token it names, when its signature holds)."""
    token = _verify_token(backend, session, req.token, now=now)
    sale = _new_sale(req, token, lines, principal, idem_key=idem_key, now=now)
    sales.decline(sale, BAD_OFFLINE_TIME, now=now)
    session.add(sale.to_orm())


def _judge(
    backend: Backend,
    session: Session,
    principal: Principal,
    *,
    sale: sales.SaleDraft,
    req: SaleRequest,
    token: TokenFacts,
    lines: Lines,
    now: int,
) -> dict[str, Any]:
    if token.reason is not None:
        sale.wallet_id = sale.device_id = sale.cti = None  # a failed token pays nothing
        sales.decline(sale, token.reason, now=now)
        return sales.view(sale, None, now=now)
    redeemed = db.insert_new(session, Redemption, **_redemption_row(token, sale.sale_id, now))
    if not redeemed:
        return _decline(session, sale, token, "token_already_used", redeemed=False, now=now)
    hard = _hard_reason(session, token, req, terminal_row=principal.terminal_row)
    if hard is not None:
        return _decline(session, sale, token, hard, now=now)
    verdict = _verdict(session, req, token, sale, lines, now=now)
    sale.risk = verdict.as_dict()
    sale.risk_explanation = verdict.explanation()
    return _apply(backend, session, sale=sale, req=req, token=token, verdict=verdict, now=now)


def _decline(
    session: Session,
    sale: sales.SaleDraft,
    token: TokenFacts,
    reason: str,
    *,
    now: int,
    redeemed: bool = True,
) -> dict[str, Any]:
    if redeemed:  # a declined attempt does not burn the token
        db.raw(session, _UNREDEEM, {"b_cti": token.cti})
    sales.decline(sale, reason, now=now)
    return sales.view(sale, None, now=now)


def _verify_token(backend: Backend, session: Session, text: str, *, now: int) -> TokenFacts:
    verifier: Any = backend.verifier(session)
    result = verifier.verify(text, now=now)
    if result.reason == "unknown_kid":  # maybe a key published since the list was cached
        result = backend.verifier(session, fresh=True).verify(text, now=now)  # type: ignore[attr-defined]
    c = result.claims
    if c is None:
        return TokenFacts(reason=str(result.reason))
    return TokenFacts(
        reason=None if result.ok else str(result.reason),
        wallet_id=c.sub,
        device_id=bytes(c.device).hex(),
        cti=bytes(c.cti).hex(),
        exp=c.exp,
        iat=c.iat,
        limit=c.limit,
        flags=c.flags,
    )


def _new_sale(
    req: SaleRequest,
    token: TokenFacts,
    lines: Lines,
    principal: Principal,
    *,
    idem_key: str,
    now: int,
) -> sales.SaleDraft:
    cc_total, tobacco_total = risk.basket_totals(lines)
    terminal_risk = req.terminal_risk.model_dump() if req.terminal_risk else None
    return sales.SaleDraft(
        sale_id=req.sale_id,
        store_id=req.store_id,
        terminal_id=req.terminal_id,
        cashier_id=req.cashier_id,
        wallet_id=token.wallet_id or None,
        device_id=token.device_id or None,
        cti=token.cti or None,
        currency=req.currency,
        total=req.total,
        lines=[li.model_dump(exclude_none=True) for li in req.lines],  # as the till sent them
        cc_total=cc_total,
        tobacco_total=tobacco_total,
        categories=risk.stored_categories(lines),
        store_region=principal.region,
        status="processing",
        risk=terminal_risk or {"score": 0, "action": "allow", "reasons": []},
        offline_accepted_at=req.offline_accepted_at,
        idempotency_key=idem_key,
        manager_id=req.manager_approval.manager_id if req.manager_approval else None,
        manager_reason=req.manager_approval.reason if req.manager_approval else None,
        sale_number=req.sale_number,
        created_at=now,
        updated_at=now,
    )


def _hard_reason(
    session: Session, token: TokenFacts, req: SaleRequest, *, terminal_row: int
) -> str | None:
    """Facts that decline whatever the risk score says, in the order they are checked.

    One statement reads the device and its wallet and locks the wallet's account: the
    lock serialises decisions about one wallet (PostgreSQL; SQLite has one writer), so
    concurrent sales of a wallet each see the others in their velocity features.
    """
    row = db.raw(session, _DEVICE_AND_LOCK, _device_params(token)).fetchone()
    if row is None:
        return "device_revoked"
    revoked_at, device_wallet, frozen = row
    if revoked_at is not None or device_wallet != token.wallet_id:
        return "device_revoked"
    if frozen:
        return "wallet_frozen"
    if req.offline_accepted_at is not None:
        cap = contacts.offline_sale_cap(session, terminal_row)
        if req.total > token.limit or (cap is not None and req.total > cap):
            return "limit_exceeded"
    return None


def _redemption_row(token: TokenFacts, sale_id: str, now: int) -> dict[str, Any]:
    return {"cti": token.cti, "sale_id": sale_id, "redeemed_at": now, "expires_at": token.exp}


def _device_params(token: TokenFacts) -> dict[str, Any]:
    return {"b_device": token.device_id, "b_account": ledger.wallet_account(token.wallet_id)}


_REDEMPTIONS: Table = Redemption.__table__  # type: ignore[assignment]
_UNREDEEM = _REDEMPTIONS.delete().where(_REDEMPTIONS.c.cti == bindparam("b_cti"))
_DEVICE_AND_LOCK = (
    select(Device.revoked_at, Device.wallet_id, Wallet.frozen)
    .join(Wallet, Wallet.wallet_id == Device.wallet_id)
    .join(Account, Account.account_id == bindparam("b_account"))
    .where(Device.device_id == bindparam("b_device"))
    .with_for_update(of=Account)
)


db.usual(_SALE_EXISTS, Redemption, _DEVICE_AND_LOCK, _INSERT_SALE)


def _verdict(
    session: Session,
    req: SaleRequest,
    token: TokenFacts,
    sale: sales.SaleDraft,
    lines: Lines,
    *,
    now: int,
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
        lines=lines,
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
    sale: sales.SaleDraft,
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
        return _decline(session, sale, token, "risk_declined", now=now)
    if action != "allow" and not offline:
        return _require_step_up(backend, session, sale, token, now=now)
    if action != "allow":
        sale.review_status = "pending"  # offline: the goods are gone; settle, then review
    if not sales.settle(session, sale, wallet_id=token.wallet_id, now=now):
        return _decline(session, sale, token, "insufficient_funds", now=now)
    return sales.view(sale, None, now=now)


def _require_step_up(
    backend: Backend, session: Session, sale: sales.SaleDraft, token: TokenFacts, *, now: int
) -> dict[str, Any]:
    # The token stays redeemed so it cannot pay elsewhere while the owner decides.
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
    sale.status = STEP_UP_REQUIRED
    sale.review_status = sale.review_status or "pending"
    sale.updated_at = now
    session.add(sale.to_orm())  # it waits for the owner in the session, not by _insert_sale
    session.flush()  # the step-up row refers to the sale
    session.add(step)
    return sales.view(sale, step, now=now)

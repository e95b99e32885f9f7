"""Terminal endpoints of BACKEND-API.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from pos_app.server import (
    audit,
    enrollment,
    finalize,
    keystore,
    managers,
    review_claims,
    reviews,
    sales,
)
from pos_app.server.backend import Principal, require_store
from pos_app.server.errors import ApiError
from pos_app.server.http import (
    ID_PATTERN,
    PathId,
    Signed,
    Terminal,
    TerminalOnce,
    backend_of,
    call,
    decode_public_key,
)
from pos_app.server.schemas import (
    AuditBatch,
    CancelRequest,
    EnrollRequest,
    ReviewClaimRequest,
    ReviewDecisionRequest,
    SaleRequest,
)

SaleId = PathId
router = APIRouter()


@router.post("/v1/terminals/enroll", status_code=201, tags=["terminal"])
async def enroll(req: EnrollRequest, signed: TerminalOnce) -> Response:
    public_key = decode_public_key(req.public_key)
    now = signed.now()

    def work(session: Session, _p: Principal) -> tuple[int, dict[str, Any]]:
        done = enrollment.enroll(
            session,
            req.enrollment_code,
            public_key=public_key,
            app_version=req.app_version,
            now=now,
        )
        return 201, {
            "terminal_id": done.terminal_id,
            "store_id": done.store_id,
            "keyid": done.keyid,
            "trust_list": enrollment.envelope_object(keystore.latest(session).envelope),
            "server_time": now,
        }

    return await signed.once(work, new_key=public_key)


@router.get("/v1/terminals/heartbeat", tags=["terminal"])
async def heartbeat(signed: Terminal) -> Response:
    """A till's periodic signed contact (an extension: docs/BACKEND.md, "Heartbeat").

    The signature check records the contact that keeps an idle till's stretch of contact
    going (offline claims inside it are refused); nothing else is read or written."""

    def work(_session: Session, principal: Principal) -> dict[str, Any]:
        return {
            "terminal_id": principal.terminal_id,
            "store_id": principal.store_id,
            "server_time": signed.now(),
        }

    return await signed.read(work)


@router.get("/v1/trust-list", tags=["terminal"])
async def get_trust_list(request: Request) -> Response:
    envelope = await call(backend_of(request).trust_list_envelope)
    return Response(envelope, media_type="application/json")


@router.post("/v1/sales", tags=["terminal"])
async def post_sale(req: SaleRequest, signed: TerminalOnce) -> Response:
    # One transaction: signature nonce, idempotency claim, the sale, the stored answer.
    # On PostgreSQL its usual statements are prefetched in one batch (finalize.SaleAhead).
    backend, key = signed.backend, signed.key or ""
    ahead = finalize.SaleAhead(backend, req, now=signed.now())
    return await signed.once(
        lambda s, p: finalize.finalize(backend, s, p, req, idem_key=key, ahead=ahead),
        ahead=ahead,
        now=ahead.now,
    )


@router.get("/v1/sales/{sale_id}", tags=["terminal"])
async def get_sale(sale_id: SaleId, signed: Terminal) -> Response:
    now = signed.now()

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        sale = sales.load(session, sale_id)
        require_store(principal, sale.store_id)
        step = sales.step_of(session, sale_id)
        sales.expire_if_due(session, sale, step, now=now)
        return sales.view(sale, step, now=now)

    return await signed.read(work)


@router.post("/v1/sales/{sale_id}/cancel", tags=["terminal"])
async def cancel_sale(
    sale_id: SaleId, signed: TerminalOnce, req: CancelRequest | None = None
) -> Response:
    now = signed.now()

    def work(session: Session, principal: Principal) -> tuple[int, dict[str, Any]]:
        sale = sales.load(session, sale_id)
        require_store(principal, sale.store_id)
        step = sales.step_of(session, sale_id)
        sales.expire_if_due(session, sale, step, now=now)
        if sale.status == "declined":
            # Stored as the answer; the expiry just written commits with it.
            return 422, {
                "error": "not_cancellable",
                "detail": "a declined sale cannot be cancelled",
            }
        # A void refunds the wallet: only with a manager's proof (403 otherwise).
        sales.cancel(
            session,
            sale,
            now=now,
            authorize_void=lambda s: managers.require_void(session, s, req, now=now),
        )
        return 200, sales.view(sale, step, now=now)

    return await signed.once(work)


@router.get("/v1/reviews", tags=["terminal"])
async def get_reviews(
    signed: Terminal,
    store_id: Annotated[str, Query(pattern=ID_PATTERN, max_length=64)],
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$", max_length=32)] = None,
) -> Response:
    now, ttl = signed.now(), signed.backend.settings.review_claim_ttl

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        require_store(principal, store_id)
        return reviews.list_flagged(session, store_id, status, now=now, claim_ttl=ttl)

    return await signed.read(work)


@router.post("/v1/reviews/{sale_id}/decision", tags=["terminal"])
async def review_decision(
    sale_id: SaleId, req: ReviewDecisionRequest, signed: TerminalOnce
) -> Response:
    now, ttl = signed.now(), signed.backend.settings.review_claim_ttl

    def work(session: Session, principal: Principal) -> tuple[int, dict[str, Any]]:
        sale = sales.load(session, sale_id)
        require_store(principal, sale.store_id)
        proof = managers.require_decision(session, sale, req, now=now)
        review_claims.clear_for_decision(session, sale_id, req.reviewer_id, now=now, ttl=ttl)
        return 200, reviews.decide(
            session,
            sale,
            req.decision,
            reviewer_id=req.reviewer_id,
            note=req.note,
            now=now,
            proof_sha256=proof,
        )

    return await signed.once(work)


@router.post("/v1/reviews/{sale_id}/claim", tags=["terminal"])
async def review_claim(sale_id: SaleId, req: ReviewClaimRequest, signed: TerminalOnce) -> Response:
    """Take a sale for review across all tills (an extension: docs/BACKEND.md)."""
    return await signed.once(_claim_work(signed, sale_id, req, review_claims.claim))


@router.post("/v1/reviews/{sale_id}/release", tags=["terminal"])
async def review_release(
    sale_id: SaleId, req: ReviewClaimRequest, signed: TerminalOnce
) -> Response:
    """Give a claimed sale back (only its holder can)."""
    return await signed.once(_claim_work(signed, sale_id, req, review_claims.release))


def _claim_work(
    signed: Signed, sale_id: str, req: ReviewClaimRequest, action: Callable[..., Any]
) -> Callable[[Session, Principal], tuple[int, dict[str, Any]]]:
    now, ttl = signed.now(), signed.backend.settings.review_claim_ttl

    def work(session: Session, principal: Principal) -> tuple[int, dict[str, Any]]:
        require_store(principal, sales.load(session, sale_id).store_id)
        return 200, action(session, sale_id, req.reviewer_id, now=now, ttl=ttl)

    return work


def _own_terminal(terminal_id: str, verb: str) -> Callable[[Principal], None]:
    def check(principal: Principal) -> None:
        if terminal_id != principal.terminal_id:
            raise ApiError(403, "wrong_terminal", f"a terminal {verb} only its own audit log")

    return check


@router.get("/v1/terminals/{terminal_id}/audit", tags=["terminal"])
async def audit_head(terminal_id: SaleId, signed: Terminal) -> Response:
    """The head of the chain held for this terminal: ``{synced_through, head_hash}``."""

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return audit.head(session, principal.store_id, terminal_id)

    return await signed.read(work, check=_own_terminal(terminal_id, "reads"))


@router.post("/v1/terminals/{terminal_id}/audit", tags=["terminal"])
async def push_audit(terminal_id: SaleId, req: AuditBatch, signed: TerminalOnce) -> Response:
    """Store a batch of the terminal's audit log (an extension: docs/MANAGER.md)."""
    now = signed.now()

    def work(session: Session, principal: Principal) -> tuple[int, dict[str, Any]]:
        return 200, audit.append(
            session, principal.store_id, terminal_id, list(req.entries), now=now
        )

    return await signed.once(work, check=_own_terminal(terminal_id, "sends"))

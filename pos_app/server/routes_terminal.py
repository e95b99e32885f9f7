"""Terminal endpoints of BACKEND-API.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from pos_app.paytoken import httpsig
from pos_app.server import (
    audit,
    db,
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
    IdempotencyHeader,
    PathId,
    authenticate,
    backend_of,
    call,
    decode_public_key,
    idempotent,
    signature_headers,
    signed_idempotent,
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
router = APIRouter(dependencies=[Depends(signature_headers)])


@router.post("/v1/terminals/enroll", status_code=201, tags=["terminal"])
async def enroll(
    req: EnrollRequest, request: Request, idempotency_key: IdempotencyHeader = None
) -> Response:
    public_key = decode_public_key(req.public_key)
    principal = await authenticate(request, tag=httpsig.TAG_TERMINAL, new_key=public_key)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        now = backend.now()
        with db.transaction(backend.sessions) as session:
            done = enrollment.enroll(
                session,
                req.enrollment_code,
                public_key=public_key,
                app_version=req.app_version,
                now=now,
            )
            envelope = keystore.latest(session).envelope
        return 201, {
            "terminal_id": done.terminal_id,
            "store_id": done.store_id,
            "keyid": done.keyid,
            "trust_list": enrollment.envelope_object(envelope),
            "server_time": now,
        }

    return await idempotent(request, principal, idempotency_key, work)


@router.get("/v1/terminals/heartbeat", tags=["terminal"])
async def heartbeat(request: Request) -> Response:
    """A till's periodic signed contact (an extension: docs/BACKEND.md, "Heartbeat").

    The signature check records the contact that keeps an idle till's stretch of contact
    going (offline claims inside it are refused); nothing else is read or written."""
    principal = await authenticate(request, tag=httpsig.TAG_TERMINAL)
    return JSONResponse(
        {
            "terminal_id": principal.terminal_id,
            "store_id": principal.store_id,
            "server_time": backend_of(request).now(),
        }
    )


@router.get("/v1/trust-list", tags=["terminal"])
async def get_trust_list(request: Request) -> Response:
    envelope = await call(backend_of(request).trust_list_envelope)
    return Response(envelope, media_type="application/json")


@router.post("/v1/sales", tags=["terminal"])
async def post_sale(
    req: SaleRequest, request: Request, idempotency_key: IdempotencyHeader = None
) -> Response:
    backend = backend_of(request)
    key = idempotency_key or ""

    def work(principal: Principal) -> tuple[int, dict[str, Any]]:
        return finalize.finalize(backend, principal, req, idem_key=key)

    # One transaction: signature nonce, idempotency claim, the sale, the stored answer.
    return await signed_idempotent(
        request, tag=httpsig.TAG_TERMINAL, key=idempotency_key, work=work
    )


@router.get("/v1/sales/{sale_id}", tags=["terminal"])
async def get_sale(sale_id: SaleId, request: Request) -> Response:
    principal = await authenticate(request, tag=httpsig.TAG_TERMINAL)
    backend = backend_of(request)

    def work() -> dict[str, Any]:
        now = backend.now()
        with db.transaction(backend.sessions) as session:
            sale = sales.load(session, sale_id)
            require_store(principal, sale.store_id)
            step = sales.step_of(session, sale_id)
            sales.expire_if_due(session, sale, step, now=now)
            return sales.view(sale, step, now=now)

    return JSONResponse(await call(work))


@router.post("/v1/sales/{sale_id}/cancel", tags=["terminal"])
async def cancel_sale(
    sale_id: SaleId,
    request: Request,
    req: CancelRequest | None = None,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    principal = await authenticate(request, tag=httpsig.TAG_TERMINAL)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        now = backend.now()
        with db.transaction(backend.sessions) as session:
            sale = sales.load(session, sale_id)
            require_store(principal, sale.store_id)
            step = sales.step_of(session, sale_id)
            sales.expire_if_due(session, sale, step, now=now)
            if sale.status != "declined":
                # A void refunds the wallet: only with a manager's proof (403 otherwise).
                sales.cancel(
                    session,
                    sale,
                    now=now,
                    authorize_void=lambda s: managers.require_void(session, s, req, now=now),
                )
            view = sales.view(sale, step, now=now)
        if view["status"] == "declined":
            return 422, {
                "error": "not_cancellable",
                "detail": "a declined sale cannot be cancelled",
            }
        return 200, view

    return await idempotent(request, principal, idempotency_key, work)


@router.get("/v1/reviews", tags=["terminal"])
async def get_reviews(
    request: Request,
    store_id: Annotated[str, Query(pattern=ID_PATTERN, max_length=64)],
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$", max_length=32)] = None,
) -> Response:
    principal = await authenticate(request, tag=httpsig.TAG_TERMINAL)
    require_store(principal, store_id)
    backend = backend_of(request)

    def work() -> dict[str, Any]:
        with db.transaction(backend.sessions) as session:
            return reviews.list_flagged(
                session,
                store_id,
                status,
                now=backend.now(),
                claim_ttl=backend.settings.review_claim_ttl,
            )

    return JSONResponse(await call(work))


@router.post("/v1/reviews/{sale_id}/decision", tags=["terminal"])
async def review_decision(
    sale_id: SaleId,
    req: ReviewDecisionRequest,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    principal = await authenticate(request, tag=httpsig.TAG_TERMINAL)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        now, ttl = backend.now(), backend.settings.review_claim_ttl
        with db.transaction(backend.sessions) as session:
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

    return await idempotent(request, principal, idempotency_key, work)


@router.post("/v1/reviews/{sale_id}/claim", tags=["terminal"])
async def review_claim(
    sale_id: SaleId,
    req: ReviewClaimRequest,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    """Take a sale for review across all tills (an extension: docs/BACKEND.md)."""
    return await _claim_call(request, sale_id, req, idempotency_key, review_claims.claim)


@router.post("/v1/reviews/{sale_id}/release", tags=["terminal"])
async def review_release(
    sale_id: SaleId,
    req: ReviewClaimRequest,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    """Give a claimed sale back (only its holder can)."""
    return await _claim_call(request, sale_id, req, idempotency_key, review_claims.release)


async def _claim_call(
    request: Request,
    sale_id: str,
    req: ReviewClaimRequest,
    idempotency_key: str | None,
    action: Callable[..., dict[str, Any]],
) -> Response:
    principal = await authenticate(request, tag=httpsig.TAG_TERMINAL)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        now, ttl = backend.now(), backend.settings.review_claim_ttl
        with db.transaction(backend.sessions) as session:
            require_store(principal, sales.load(session, sale_id).store_id)
            return 200, action(session, sale_id, req.reviewer_id, now=now, ttl=ttl)

    return await idempotent(request, principal, idempotency_key, work)


@router.get("/v1/terminals/{terminal_id}/audit", tags=["terminal"])
async def audit_head(terminal_id: SaleId, request: Request) -> Response:
    """The head of the chain held for this terminal: ``{synced_through, head_hash}``."""
    principal = await authenticate(request, tag=httpsig.TAG_TERMINAL)
    if terminal_id != principal.terminal_id:
        raise ApiError(403, "wrong_terminal", "a terminal reads only its own audit log")
    backend = backend_of(request)

    def work() -> dict[str, Any]:
        with db.transaction(backend.sessions) as session:
            return audit.head(session, principal.store_id, terminal_id)

    return JSONResponse(await call(work))


@router.post("/v1/terminals/{terminal_id}/audit", tags=["terminal"])
async def push_audit(
    terminal_id: SaleId,
    req: AuditBatch,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    """Store a batch of the terminal's audit log (an extension: docs/MANAGER.md)."""
    principal = await authenticate(request, tag=httpsig.TAG_TERMINAL)
    if terminal_id != principal.terminal_id:
        raise ApiError(403, "wrong_terminal", "a terminal sends only its own audit log")
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        with db.transaction(backend.sessions) as session:
            return 200, audit.append(
                session, principal.store_id, terminal_id, list(req.entries), now=backend.now()
            )

    return await idempotent(request, principal, idempotency_key, work)

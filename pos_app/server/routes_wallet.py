"""Wallet endpoints of BACKEND-API.md (the demo wallet and tests use them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from pos_app.paytoken import httpsig
from pos_app.server import db, disputes, stepup, wallets
from pos_app.server.backend import Principal, require_wallet
from pos_app.server.errors import ApiError
from pos_app.server.http import (
    IdempotencyHeader,
    PathId,
    authenticate,
    backend_of,
    call,
    decode_public_key,
    idempotent,
    signature_headers,
)
from pos_app.server.models import Device
from pos_app.server.schemas import (
    DisputeRequest,
    FreezeRequest,
    StepUpSignatureRequest,
    TokenRequest,
    TopUpRequest,
    WalletCreateRequest,
)

WalletId = PathId
router = APIRouter(dependencies=[Depends(signature_headers)], tags=["wallet"])


async def _owner(request: Request, wallet_id: str) -> Principal:
    principal = await authenticate(request, tag=httpsig.TAG_WALLET)
    require_wallet(principal, wallet_id)
    return principal


@router.post("/v1/wallets", status_code=201)
async def create_wallet(
    req: WalletCreateRequest, request: Request, idempotency_key: IdempotencyHeader = None
) -> Response:
    public_key = decode_public_key(req.device_public_key)
    principal = await authenticate(request, tag=httpsig.TAG_WALLET, new_key=public_key)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        with db.transaction(backend.sessions) as session:
            return 201, wallets.create_wallet(
                session,
                req,
                public_key=public_key,
                currency=backend.settings.currency,
                now=backend.now(),
            )

    return await idempotent(request, principal, idempotency_key, work)


@router.post("/v1/wallets/{wallet_id}/top-ups", status_code=201)
async def top_up(
    wallet_id: WalletId,
    req: TopUpRequest,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    principal = await _owner(request, wallet_id)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        with db.transaction(backend.sessions) as session:
            wallet = wallets.load(session, wallet_id)
            return 201, wallets.top_up(session, wallet, req.amount, now=backend.now())

    return await idempotent(request, principal, idempotency_key, work)


@router.post("/v1/wallets/{wallet_id}/tokens", status_code=201)
async def mint_token(
    wallet_id: WalletId,
    request: Request,
    req: TokenRequest | None = None,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    principal = await _owner(request, wallet_id)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        with db.transaction(backend.sessions) as session:
            wallet = wallets.load(session, wallet_id)
            device = session.get(Device, principal.device_id)
            if device is None:
                raise ApiError(403, "device_revoked", "device not registered")
            return 201, wallets.mint(backend, session, wallet, device, req)

    return await idempotent(request, principal, idempotency_key, work)


@router.get("/v1/wallets/{wallet_id}")
async def get_wallet(wallet_id: WalletId, request: Request) -> Response:
    await _owner(request, wallet_id)
    backend = backend_of(request)

    def work() -> dict[str, Any]:
        with db.transaction(backend.sessions) as session:
            return wallets.describe(session, wallets.load(session, wallet_id))

    return JSONResponse(await call(work))


@router.get("/v1/wallets/{wallet_id}/step-ups")
async def list_step_ups(wallet_id: WalletId, request: Request) -> Response:
    await _owner(request, wallet_id)
    backend = backend_of(request)

    def work() -> dict[str, Any]:
        with db.transaction(backend.sessions) as session:
            wallets.load(session, wallet_id)
            return {
                "wallet_id": wallet_id,
                "step_ups": stepup.pending(session, wallet_id, now=backend.now()),
            }

    return JSONResponse(await call(work))


@router.post("/v1/wallets/{wallet_id}/freeze")
async def freeze(
    wallet_id: WalletId,
    request: Request,
    req: FreezeRequest | None = None,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    principal = await _owner(request, wallet_id)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        with db.transaction(backend.sessions) as session:
            return 200, wallets.freeze(wallets.load(session, wallet_id))

    return await idempotent(request, principal, idempotency_key, work)


@router.get("/v1/wallets/{wallet_id}/sales")
async def list_sales(wallet_id: WalletId, request: Request) -> Response:
    """The sales this wallet's codes paid or tried to pay (an extension: docs/BACKEND.md)."""
    await _owner(request, wallet_id)
    backend = backend_of(request)

    def work() -> dict[str, Any]:
        with db.transaction(backend.sessions) as session:
            wallets.load(session, wallet_id)
            return disputes.wallet_sales(session, wallet_id)

    return JSONResponse(await call(work))


@router.post("/v1/wallets/{wallet_id}/sales/{sale_id}/dispute")
async def dispute_sale(
    wallet_id: WalletId,
    sale_id: PathId,
    request: Request,
    req: DisputeRequest | None = None,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    """The owner's "not me" on one charge: the sale goes back to the manager's review list."""
    principal = await _owner(request, wallet_id)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        with db.transaction(backend.sessions) as session:
            reason = req.reason if req is not None else None
            return 200, disputes.dispute(session, wallet_id, sale_id, reason, now=backend.now())

    return await idempotent(request, principal, idempotency_key, work)


async def _decide(
    challenge_id: str, decision: str, req: StepUpSignatureRequest, request: Request, key: str | None
) -> Response:
    principal = await authenticate(request, tag=httpsig.TAG_WALLET)
    backend = backend_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        with db.transaction(backend.sessions) as session:
            out = stepup.decide(
                session,
                challenge_id,
                decision,
                signature=req.signature,
                wallet_id=principal.wallet_id,
                now=backend.now(),
            )
        if out["error"] is not None:
            return 422, {"error": out["error"], "detail": f"challenge is {out['sale']['status']}"}
        return 200, {"challenge_id": challenge_id, "decision": decision, "sale": out["sale"]}

    return await idempotent(request, principal, key, work)


ChallengeId = PathId


@router.post("/v1/step-ups/{challenge_id}/approve")
async def approve(
    challenge_id: ChallengeId,
    req: StepUpSignatureRequest,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    return await _decide(challenge_id, "approve", req, request, idempotency_key)


@router.post("/v1/step-ups/{challenge_id}/deny")
async def deny(
    challenge_id: ChallengeId,
    req: StepUpSignatureRequest,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    return await _decide(challenge_id, "deny", req, request, idempotency_key)

"""Wallet endpoints of BACKEND-API.md (the demo wallet and tests use them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from pos_app.server import disputes, stepup, wallets
from pos_app.server.backend import Principal
from pos_app.server.errors import ApiError
from pos_app.server.http import (
    Owner,
    OwnerOnce,
    PathId,
    Signed,
    WalletOnce,
    decode_public_key,
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
router = APIRouter(tags=["wallet"])


@router.post("/v1/wallets", status_code=201)
async def create_wallet(req: WalletCreateRequest, signed: WalletOnce) -> Response:
    public_key = decode_public_key(req.device_public_key)
    currency, now = signed.backend.settings.currency, signed.now()

    def work(session: Session, _p: Principal) -> tuple[int, dict[str, Any]]:
        made = wallets.create_wallet(
            session, req, public_key=public_key, currency=currency, now=now
        )
        return 201, made

    return await signed.once(work, new_key=public_key)


@router.post("/v1/wallets/{wallet_id}/top-ups", status_code=201)
async def top_up(wallet_id: WalletId, req: TopUpRequest, signed: OwnerOnce) -> Response:
    now = signed.now()

    def work(session: Session, _p: Principal) -> tuple[int, dict[str, Any]]:
        return 201, wallets.top_up(session, wallets.load(session, wallet_id), req.amount, now=now)

    return await signed.once(work)


@router.post("/v1/wallets/{wallet_id}/tokens", status_code=201)
async def mint_token(
    wallet_id: WalletId, signed: OwnerOnce, req: TokenRequest | None = None
) -> Response:
    backend = signed.backend

    def work(session: Session, principal: Principal) -> tuple[int, dict[str, Any]]:
        wallet = wallets.load(session, wallet_id)
        device = session.get(Device, principal.device_id)
        if device is None:
            raise ApiError(403, "device_revoked", "device not registered")
        return 201, wallets.mint(backend, session, wallet, device, req)

    return await signed.once(work)


@router.get("/v1/wallets/{wallet_id}")
async def get_wallet(wallet_id: WalletId, signed: Owner) -> Response:
    return await signed.read(lambda s, _p: wallets.describe(s, wallets.load(s, wallet_id)))


@router.get("/v1/wallets/{wallet_id}/step-ups")
async def list_step_ups(wallet_id: WalletId, signed: Owner) -> Response:
    now = signed.now()

    def work(session: Session, _p: Principal) -> dict[str, Any]:
        wallets.load(session, wallet_id)
        return {"wallet_id": wallet_id, "step_ups": stepup.pending(session, wallet_id, now=now)}

    return await signed.read(work)


@router.post("/v1/wallets/{wallet_id}/freeze")
async def freeze(
    wallet_id: WalletId, signed: OwnerOnce, req: FreezeRequest | None = None
) -> Response:
    return await signed.once(lambda s, _p: (200, wallets.freeze(wallets.load(s, wallet_id))))


@router.get("/v1/wallets/{wallet_id}/sales")
async def list_sales(wallet_id: WalletId, signed: Owner) -> Response:
    """The sales this wallet's codes paid or tried to pay (an extension: docs/BACKEND.md)."""

    def work(session: Session, _p: Principal) -> dict[str, Any]:
        wallets.load(session, wallet_id)
        return disputes.wallet_sales(session, wallet_id)

    return await signed.read(work)


@router.post("/v1/wallets/{wallet_id}/sales/{sale_id}/dispute")
async def dispute_sale(
    wallet_id: WalletId, sale_id: PathId, signed: OwnerOnce, req: DisputeRequest | None = None
) -> Response:
    """The owner's "not me" on one charge: the sale goes back to the manager's review list."""
    now, reason = signed.now(), req.reason if req is not None else None

    def work(session: Session, _p: Principal) -> tuple[int, dict[str, Any]]:
        return 200, disputes.dispute(session, wallet_id, sale_id, reason, now=now)

    return await signed.once(work)


ChallengeId = PathId


@router.post("/v1/step-ups/{challenge_id}/approve")
async def approve(
    challenge_id: ChallengeId, req: StepUpSignatureRequest, signed: WalletOnce
) -> Response:
    return await _decide(signed, challenge_id, "approve", req)


@router.post("/v1/step-ups/{challenge_id}/deny")
async def deny(
    challenge_id: ChallengeId, req: StepUpSignatureRequest, signed: WalletOnce
) -> Response:
    return await _decide(signed, challenge_id, "deny", req)


async def _decide(
    signed: Signed, challenge_id: str, decision: str, req: StepUpSignatureRequest
) -> Response:
    now = signed.now()

    def work(session: Session, principal: Principal) -> tuple[int, dict[str, Any]]:
        out = stepup.decide(
            session,
            challenge_id,
            decision,
            signature=req.signature,
            wallet_id=principal.wallet_id,
            now=now,
        )
        if out["error"] is not None:
            return 422, {"error": out["error"], "detail": f"challenge is {out['sale']['status']}"}
        return 200, {"challenge_id": challenge_id, "decision": decision, "sale": out["sale"]}

    return await signed.once(work)

"""Wallets, their devices, top-ups, the issuer policy, and the owner's freeze button."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pos_app.paytoken import claims as pt_claims
from pos_app.paytoken import issuer as pt_issuer
from pos_app.paytoken import keys
from pos_app.server import ledger
from pos_app.server.backend import Backend
from pos_app.server.errors import ApiError
from pos_app.server.models import Device, TopUp, Wallet
from pos_app.server.schemas import TokenRequest, WalletCreateRequest

# Flags that mean "the account may be in someone else's hands": no offline spending.
TAKEOVER_FLAGS = (
    pt_claims.FLAG_NEW_DEVICE
    | pt_claims.FLAG_CREDENTIALS_CHANGED
    | pt_claims.FLAG_OUTSIDE_HOME_REGION
    | pt_claims.FLAG_NO_USER_VERIFICATION
)


def create_wallet(
    session: Session, req: WalletCreateRequest, *, public_key: bytes, currency: str, now: int
) -> dict[str, Any]:
    device_id = keys.kid_hex(public_key)
    if session.get(Device, device_id) is not None:
        raise ApiError(422, "device_already_registered", "this device key already has a wallet")
    wallet_id = f"w-{uuid.uuid4().hex}"
    session.add(
        Wallet(
            wallet_id=wallet_id,
            display_name=req.display_name,
            home_region=req.home_region,
            currency=currency,
            frozen=False,
            created_at=now,
        )
    )
    session.flush()
    session.add(
        Device(device_id=device_id, wallet_id=wallet_id, public_key=public_key, created_at=now)
    )
    ledger.ensure_account(
        session, ledger.wallet_account(wallet_id), kind="wallet", currency=currency
    )
    return {"wallet_id": wallet_id, "device_id": device_id}


def load(session: Session, wallet_id: str) -> Wallet:
    wallet = session.get(Wallet, wallet_id)
    if wallet is None:
        raise ApiError(404, "unknown_wallet", "no wallet with this id")
    return wallet


def top_up(session: Session, wallet: Wallet, amount: int, *, now: int) -> dict[str, Any]:
    ledger.ensure_account(session, ledger.FUNDING, kind="funding", currency=wallet.currency)
    account = ledger.wallet_account(wallet.wallet_id)
    ledger.post(
        session,
        "top_up",
        wallet.wallet_id,
        legs=[(ledger.FUNDING, -amount), (account, amount)],
        now=now,
    )
    session.add(TopUp(wallet_id=wallet.wallet_id, amount=amount, created_at=now))
    return {
        "wallet_id": wallet.wallet_id,
        "amount": amount,
        "balance": ledger.balance(session, account),
    }


def issuer_flags(
    wallet: Wallet, device: Device, req: TokenRequest | None, *, backend: Backend, now: int
) -> int:
    """The facts the issuer attests at minting time (PT1 section 2 flag bits)."""
    s = backend.settings
    flags = 0
    if now - device.created_at < s.new_device_window:
        flags |= pt_claims.FLAG_NEW_DEVICE
    if (
        wallet.credential_changed_at is not None
        and now - wallet.credential_changed_at < s.new_device_window
    ):
        flags |= pt_claims.FLAG_CREDENTIALS_CHANGED
    if req is not None and req.region is not None and req.region != wallet.home_region:
        flags |= pt_claims.FLAG_OUTSIDE_HOME_REGION
    if now - wallet.created_at < s.new_account_window:
        flags |= pt_claims.FLAG_NEW_ACCOUNT
    if req is not None and req.user_verified is False:
        flags |= pt_claims.FLAG_NO_USER_VERIFICATION
    return flags


def mint(
    backend: Backend, session: Session, wallet: Wallet, device: Device, req: TokenRequest | None
) -> dict[str, Any]:
    now = backend.now()
    if wallet.frozen:
        raise ApiError(403, "wallet_frozen", "this wallet is frozen")
    flags = issuer_flags(wallet, device, req, backend=backend, now=now)
    balance = ledger.balance(session, ledger.wallet_account(wallet.wallet_id))
    limit = (
        0 if flags & TAKEOVER_FLAGS else max(0, min(balance, backend.settings.offline_limit_max))
    )
    token = pt_issuer.mint_token(
        backend.issuer_keys.current(session),
        sub=wallet.wallet_id,
        aud=backend.settings.audience,
        limit=limit,
        currency=backend.settings.currency,
        device=bytes.fromhex(device.device_id),
        flags=flags,
        iat=now,
        ttl=backend.settings.token_lifetime,
    )
    return {"token": token, "expires_at": now + backend.settings.token_lifetime}


def describe(session: Session, wallet: Wallet) -> dict[str, Any]:
    devices = session.scalars(
        select(Device).where(Device.wallet_id == wallet.wallet_id).order_by(Device.created_at)
    )
    return {
        "wallet_id": wallet.wallet_id,
        "display_name": wallet.display_name,
        "balance": ledger.balance(session, ledger.wallet_account(wallet.wallet_id)),
        "currency": wallet.currency,
        "frozen": wallet.frozen,
        "devices": [
            {
                "device_id": d.device_id,
                "created_at": d.created_at,
                "revoked": d.revoked_at is not None,
            }
            for d in devices
        ],
    }


def freeze(wallet: Wallet) -> dict[str, Any]:
    wallet.frozen = True
    return {"wallet_id": wallet.wallet_id, "frozen": True}


def mark_credential_change(session: Session, wallet_id: str, *, now: int) -> None:
    """Record a password / e-mail / phone change (the demo and tests drive it directly)."""
    load(session, wallet_id).credential_changed_at = now


def backdate(session: Session, wallet_id: str, *, created_at: int, device_bound_at: int) -> int:
    """Make a wallet look established (demo seeding): the account and its funding from
    ``created_at``, its devices bound at ``device_bound_at``. Returns the devices moved."""
    if device_bound_at < created_at:
        raise ApiError(422, "validation_error", "a device cannot be bound before the account")
    load(session, wallet_id).created_at = created_at
    session.execute(update(TopUp).where(TopUp.wallet_id == wallet_id).values(created_at=created_at))
    moved = session.execute(
        update(Device).where(Device.wallet_id == wallet_id).values(created_at=device_bound_at)
    )
    return int(moved.rowcount)  # type: ignore[attr-defined]

"""Wallets, top-ups and the issuer policy (limit and flags)."""

from __future__ import annotations

import pytest

from pos_app.paytoken import claims as pt_claims
from pos_app.paytoken import httpsig, keys, trust_list
from pos_app.paytoken.claims import Claims
from pos_app.paytoken.verifier import Verifier
from pos_app.server import admin
from pos_app.server.errors import ApiError
from pos_app.server.settings import ServerSettings
from tests.server.server_support import Signer, World, backend_of


def _claims(world: World, token: str) -> Claims:
    api = world.api
    envelope = api.get("/v1/trust-list", signer=None).content
    root = keys.load_public_key(backend_of(api).paths.root_public)
    verifier = Verifier(
        trust_list.parse_trust_list(envelope, root), audience="pos.jp", currency="JPY"
    )
    result = verifier.verify(token, now=api.clock.now())
    assert result.ok, result.reason
    assert result.claims is not None
    return result.claims


def test_create_wallet_and_describe(world: World) -> None:
    wallet = world.new_wallet(balance=0, name="Taro")
    assert len(wallet.device_id) == 16
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer)
    assert info.status_code == 200
    body = info.json()
    assert (body["display_name"], body["balance"], body["currency"], body["frozen"]) == (
        "Taro",
        0,
        "JPY",
        False,
    )
    assert [d["device_id"] for d in body["devices"]] == [wallet.device_id]


def test_same_device_key_cannot_create_two_wallets(world: World) -> None:
    signer = Signer.new(httpsig.TAG_WALLET)
    body = {"display_name": "A", "device_public_key": signer.public_b64, "home_region": "JP-13"}
    assert world.api.post("/v1/wallets", body, signer=signer).status_code == 201
    again = world.api.post("/v1/wallets", body, signer=signer)
    assert again.status_code == 422 and again.json()["error"] == "device_already_registered"


def test_top_up_adds_funds(world: World) -> None:
    wallet = world.new_wallet(balance=0)
    resp = world.top_up(wallet, 700)
    assert resp.json() == {"wallet_id": wallet.wallet_id, "amount": 700, "balance": 700}
    for amount in (0, -5, "5", 10**10):
        bad = world.api.post(
            f"/v1/wallets/{wallet.wallet_id}/top-ups", {"amount": amount}, signer=wallet.signer
        )
        assert bad.status_code == 422


def test_unknown_wallet_is_404_for_its_device_mismatch_403(world: World) -> None:
    wallet = world.new_wallet(balance=0)
    resp = world.api.get("/v1/wallets/w-unknown", signer=wallet.signer)
    assert resp.status_code == 403  # a device can only ever see its own wallet


def test_new_wallet_token_has_limit_zero_and_fact_flags(world: World) -> None:
    wallet = world.new_wallet(balance=50_000)
    resp = world.api.post(f"/v1/wallets/{wallet.wallet_id}/tokens", signer=wallet.signer)
    assert resp.status_code == 201
    out = resp.json()
    assert set(out) == {"token", "expires_at"} and out["token"].startswith("PT1:")
    claims = _claims(world, out["token"])
    assert claims.limit == 0
    assert claims.flags == pt_claims.FLAG_NEW_DEVICE | pt_claims.FLAG_NEW_ACCOUNT
    assert claims.sub == wallet.wallet_id and claims.device.hex() == wallet.device_id
    assert claims.exp - claims.iat == 180 and out["expires_at"] == claims.exp


def test_after_72_hours_limit_is_granted(world: World) -> None:
    wallet = world.new_wallet(balance=50_000)
    world.api.clock.advance(72 * 3600)
    claims = _claims(world, world.token(wallet))
    assert claims.flags == pt_claims.FLAG_NEW_ACCOUNT and claims.limit == 10_000
    world.api.clock.advance(30 * 86400)
    assert _claims(world, world.token(wallet)).flags == 0


def test_credential_change_sets_flag_and_zero_limit_for_72h(
    world: World, settings: ServerSettings
) -> None:
    wallet = world.new_wallet(balance=50_000)
    clock = world.api.clock
    clock.advance(40 * 86400)
    admin.mark_credential_change(
        settings.data_dir, settings.db_url, wallet_id=wallet.wallet_id, clock=clock
    )
    claims = _claims(world, world.token(wallet))
    assert (claims.flags, claims.limit) == (pt_claims.FLAG_CREDENTIALS_CHANGED, 0)
    clock.advance(72 * 3600 - 1)
    assert _claims(world, world.token(wallet)).flags == pt_claims.FLAG_CREDENTIALS_CHANGED
    clock.advance(1)
    assert _claims(world, world.token(wallet)).flags == 0


def test_overseas_and_no_user_verification_flags(world: World) -> None:
    wallet = world.new_wallet(balance=500)
    world.api.clock.advance(40 * 86400)
    claims = _claims(world, world.token(wallet, region="KR-11", user_verified=False))
    assert claims.flags == pt_claims.FLAG_OUTSIDE_HOME_REGION | pt_claims.FLAG_NO_USER_VERIFICATION
    assert claims.limit == 0
    home = _claims(world, world.token(wallet, region="JP-13", user_verified=True))
    assert (home.flags, home.limit) == (0, 500)  # the limit never exceeds the balance


def test_top_up_retry_with_same_key_adds_once(world: World) -> None:
    wallet = world.new_wallet(balance=0)
    path = f"/v1/wallets/{wallet.wallet_id}/top-ups"
    first = world.api.post(path, {"amount": 300}, signer=wallet.signer, idem="topup-1")
    again = world.api.post(path, {"amount": 300}, signer=wallet.signer, idem="topup-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 300


def test_offline_sale_within_limit_is_settled(world: World) -> None:
    wallet = world.new_wallet(balance=5_000)
    world.api.clock.advance(73 * 3600)
    token = world.token(wallet)
    assert _claims(world, token).limit == 5_000
    body = world.sale_body(token, offline_accepted_at=world.api.clock.now() - 30)
    decision = world.sell(body).json()
    assert decision["status"] == "approved", decision
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 5_000 - 280


def test_admin_backdate_wallet_makes_it_established(world: World, settings: ServerSettings) -> None:
    year = 365 * 86400
    wallet = world.new_wallet(balance=50_000)
    now = world.api.clock.now()
    assert _claims(world, world.token(wallet)).flags == (
        pt_claims.FLAG_NEW_DEVICE | pt_claims.FLAG_NEW_ACCOUNT
    )
    # An old account on a brand-new phone (the 7pay pattern): only the device is new.
    done = admin.backdate_wallet(
        settings.data_dir,
        settings.db_url,
        wallet_id=wallet.wallet_id,
        created_at=now - year,
        device_bound_at=now,
    )
    assert done == {"wallet_id": wallet.wallet_id, "created_at": now - year, "devices": 1}
    claims = _claims(world, world.token(wallet))
    assert (claims.flags, claims.limit) == (pt_claims.FLAG_NEW_DEVICE, 0)
    admin.backdate_wallet(
        settings.data_dir,
        settings.db_url,
        wallet_id=wallet.wallet_id,
        created_at=now - year,
        device_bound_at=now - year,
    )
    claims = _claims(world, world.token(wallet))
    assert (claims.flags, claims.limit) == (0, 10_000)
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert [d["created_at"] for d in info["devices"]] == [now - year]
    with pytest.raises(ApiError) as unknown:
        admin.backdate_wallet(
            settings.data_dir, settings.db_url, wallet_id="w-none", created_at=1, device_bound_at=1
        )
    assert unknown.value.status == 404
    with pytest.raises(ApiError) as backwards:
        admin.backdate_wallet(
            settings.data_dir,
            settings.db_url,
            wallet_id=wallet.wallet_id,
            created_at=now,
            device_bound_at=now - 1,
        )
    assert backwards.value.status == 422

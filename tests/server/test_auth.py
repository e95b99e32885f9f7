"""Enrollment and RFC 9421 signature misuse against the running app."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from pos_app.paytoken import httpsig
from pos_app.server import admin
from pos_app.server.enrollment import code_hash
from pos_app.server.models import EnrollmentCode
from pos_app.server.settings import ServerSettings
from tests.fake_clock import FakeClock
from tests.server.server_support import Api, Signer, World, backend_of, enroll_terminal


def _code(settings: ServerSettings, clock: FakeClock, terminal_id: str = "T09") -> str:
    code: str = admin.create_terminal(
        settings.data_dir, settings.db_url, store_id="S001", terminal_id=terminal_id, clock=clock
    )["enrollment_code"]
    return code


def _enroll_body(code: str, signer: Signer) -> dict[str, Any]:
    return {"enrollment_code": code, "public_key": signer.public_b64, "app_version": "1.0"}


def test_enroll_returns_identity_and_trust_list(
    api: Api, settings: ServerSettings, clock: FakeClock
) -> None:
    code = _code(settings, clock)
    assert len(code) == 32  # 128 bits, hex
    signer = Signer.new(httpsig.TAG_TERMINAL)
    resp = api.post("/v1/terminals/enroll", _enroll_body(code, signer), signer=signer)
    assert resp.status_code == 201
    out = resp.json()
    assert (out["terminal_id"], out["store_id"], out["keyid"]) == ("T09", "S001", signer.keyid)
    assert out["trust_list"]["format"] == "pos-trust-list/v1"
    assert out["server_time"] == clock.now()


def test_code_is_stored_hashed(api: Api, settings: ServerSettings, clock: FakeClock) -> None:
    code = _code(settings, clock)
    backend = backend_of(api)
    with backend.sessions() as session:
        stored = [row.code_hash for row in session.query(EnrollmentCode)]
    assert code not in stored and code_hash(code) in stored


def test_code_is_single_use(api: Api, settings: ServerSettings, clock: FakeClock) -> None:
    code = _code(settings, clock)
    enroll_terminal(api, code)
    other = Signer.new(httpsig.TAG_TERMINAL)
    resp = api.post("/v1/terminals/enroll", _enroll_body(code, other), signer=other)
    assert resp.status_code == 403 and resp.json()["error"] == "bad_enrollment_code"


def test_code_expires_after_15_minutes(
    api: Api, settings: ServerSettings, clock: FakeClock
) -> None:
    code = _code(settings, clock)
    clock.advance(15 * 60 + 1)
    signer = Signer.new(httpsig.TAG_TERMINAL)
    resp = api.post("/v1/terminals/enroll", _enroll_body(code, signer), signer=signer)
    assert resp.status_code == 403 and resp.json()["error"] == "bad_enrollment_code"


def test_unknown_code(api: Api) -> None:
    signer = Signer.new(httpsig.TAG_TERMINAL)
    resp = api.post("/v1/terminals/enroll", _enroll_body("0" * 32, signer), signer=signer)
    assert resp.status_code == 403


def test_enroll_requires_proof_of_possession(
    api: Api, settings: ServerSettings, clock: FakeClock
) -> None:
    code = _code(settings, clock)
    claimed, actual = Signer.new(httpsig.TAG_TERMINAL), Signer.new(httpsig.TAG_TERMINAL)
    resp = api.post("/v1/terminals/enroll", _enroll_body(code, claimed), signer=actual)
    assert resp.status_code == 401 and resp.json()["error"] == "bad_signature"
    # The code survives a failed attempt by someone without the key.
    assert (
        api.post("/v1/terminals/enroll", _enroll_body(code, claimed), signer=claimed).status_code
        == 201
    )


def test_re_arming_a_terminal_revokes_the_old_key(
    world: World, settings: ServerSettings, clock: FakeClock
) -> None:
    old = world.terminal
    code = _code(settings, clock, terminal_id="T01")
    assert world.api.get("/v1/sales/x", signer=old).status_code == 401
    new = enroll_terminal(world.api, code)
    assert world.api.get("/v1/sales/x", signer=new).status_code == 404


def _sale_request(world: World) -> dict[str, Any]:
    return world.sale_body("PT1:AAAA")


def test_missing_signature(world: World) -> None:
    resp = world.api.post("/v1/sales", _sale_request(world), signer=None)
    assert resp.status_code == 401 and resp.json()["error"] == "bad_signature"


def test_tampered_body(world: World) -> None:
    body = _sale_request(world)
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "k1"}
    headers.update(
        httpsig.sign_request(
            "POST",
            "http://testserver/v1/sales",
            headers,
            data,
            key=world.terminal.key,
            keyid=world.terminal.keyid,
            tag="pos-v1",
            created=world.api.clock.now(),
            nonce="n",
        )
    )
    tampered = data.replace(b'"total": 280', b'"total": 281')
    resp = world.api.client.post("http://testserver/v1/sales", content=tampered, headers=headers)
    assert resp.status_code in (401, 422)
    tampered_same_total = data.replace(b"C042", b"C043")
    resp = world.api.client.post(
        "http://testserver/v1/sales", content=tampered_same_total, headers=headers
    )
    assert resp.status_code == 401 and "Content-Digest" in resp.json()["detail"]


def test_replayed_nonce(world: World) -> None:
    first = world.api.get("/v1/sales/x", signer=world.terminal, nonce="fixed")
    assert first.status_code == 404
    again = world.api.get("/v1/sales/x", signer=world.terminal, nonce="fixed")
    assert again.status_code == 401 and "nonce" in again.json()["detail"]


@pytest.mark.parametrize(("offset", "status"), [(-61, 401), (-60, 404), (5, 404), (6, 401)])
def test_signature_window(world: World, offset: int, status: int) -> None:
    created = world.api.clock.now() + offset
    assert (
        world.api.get("/v1/sales/x", signer=world.terminal, created=created).status_code == status
    )


def test_unknown_key(world: World) -> None:
    stranger = Signer.new(httpsig.TAG_TERMINAL)
    assert world.api.get("/v1/sales/x", signer=stranger).status_code == 401


def test_wallet_tag_not_accepted_for_terminal_endpoint(world: World) -> None:
    wallet = world.new_wallet(balance=0)
    assert world.api.get("/v1/sales/x", signer=wallet.signer).status_code == 401
    terminal_as_wallet = Signer(world.terminal.key, world.terminal.keyid, httpsig.TAG_WALLET)
    resp = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=terminal_as_wallet)
    assert resp.status_code == 401


def test_wallet_acts_only_on_its_own_wallet(world: World) -> None:
    alice, bob = world.new_wallet(), world.new_wallet()
    for path in (f"/v1/wallets/{bob.wallet_id}", f"/v1/wallets/{bob.wallet_id}/step-ups"):
        resp = world.api.get(path, signer=alice.signer)
        assert resp.status_code == 403 and resp.json()["error"] == "wrong_wallet"
    resp = world.api.post(f"/v1/wallets/{bob.wallet_id}/tokens", signer=alice.signer)
    assert resp.status_code == 403
    resp = world.api.post(f"/v1/wallets/{bob.wallet_id}/freeze", {}, signer=alice.signer)
    assert resp.status_code == 403


def test_trust_list_is_public(api: Api) -> None:
    resp = api.get("/v1/trust-list", signer=None)
    assert resp.status_code == 200
    assert resp.json()["format"] == "pos-trust-list/v1"


def test_openapi_served(api: Api) -> None:
    doc = api.get("/openapi.json", signer=None).json()
    assert "/v1/sales" in doc["paths"]
    params = doc["paths"]["/v1/sales"]["post"]["parameters"]
    assert "Idempotency-Key" in {p["name"] for p in params}
    assert "manager_approval" in str(doc["components"]["schemas"]["SaleRequest"])


def test_idempotency_scope_is_per_signer(world: World) -> None:
    key = f"shared-{uuid.uuid4()}"
    a, b = world.new_wallet(balance=0), world.new_wallet(balance=0)
    ra = world.api.post(
        f"/v1/wallets/{a.wallet_id}/top-ups", {"amount": 5}, signer=a.signer, idem=key
    )
    rb = world.api.post(
        f"/v1/wallets/{b.wallet_id}/top-ups", {"amount": 5}, signer=b.signer, idem=key
    )
    assert ra.status_code == rb.status_code == 201


def test_rate_limit_is_429(tmp_path: Path, clock: FakeClock) -> None:
    from starlette.testclient import TestClient

    from pos_app.server.app import create_app
    from pos_app.server.settings import ServerSettings

    data_dir = tmp_path / "rl"
    admin.init_backend(data_dir, clock=clock)
    settings = ServerSettings.for_data_dir(data_dir, clock=clock, rate_limit_per_minute=3)
    ticket = admin.create_terminal(data_dir, store_id="S001", terminal_id="T01", clock=clock)
    app = create_app(settings)
    with TestClient(app) as client:
        api = Api(client=client, clock=clock)
        terminal = enroll_terminal(api, ticket["enrollment_code"])  # one request of the new key
        codes = [api.get("/v1/sales/x", signer=terminal).status_code for _ in range(4)]
    app.state.backend.close()
    # The enrollment request counts per source address (its key is not enrolled yet), so
    # the terminal's own bucket starts full.
    assert codes == [404, 404, 404, 429]


def test_same_key_in_progress_is_409(world: World) -> None:
    from pos_app.server import db
    from pos_app.server.idempotency import request_hash
    from pos_app.server.models import IdempotencyRecord

    wallet = world.new_wallet()
    body = world.sale_body(world.token(wallet))
    data = json.dumps(body).encode()
    backend = backend_of(world.api)
    with db.transaction(backend.sessions) as session:  # another worker holds the claim
        session.add(
            IdempotencyRecord(
                principal=world.terminal.keyid,
                key="busy-key",
                request_hash=request_hash("POST", "/v1/sales", data),
                created_at=world.api.clock.now(),
            )
        )
    resp = world.api.post("/v1/sales", raw=data, signer=world.terminal, idem="busy-key")
    assert resp.status_code == 409 and resp.json()["error"] == "request_in_progress"
    world.api.clock.advance(121)  # a claim that old is a crashed request: a retry takes over
    resp = world.api.post("/v1/sales", raw=data, signer=world.terminal, idem="busy-key")
    assert resp.status_code == 200 and resp.json()["status"] == "approved"


def test_key_of_an_enrolled_terminal_cannot_enroll_again(
    world: World, settings: ServerSettings, clock: FakeClock
) -> None:
    code = _code(settings, clock)
    # Terminal keyids are the key's kid, so this is also a correctly signed enrollment.
    resp = world.api.post(
        "/v1/terminals/enroll", _enroll_body(code, world.terminal), signer=world.terminal
    )
    assert resp.status_code == 403 and resp.json()["error"] == "bad_enrollment_code"


def test_a_bug_still_answers_in_the_error_format(
    settings: ServerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.testclient import TestClient

    from pos_app.server import backend as backend_module
    from pos_app.server.app import create_app

    def explode(self: object) -> None:
        raise RuntimeError("PT1:secret-token")

    monkeypatch.setattr(backend_module.Backend, "trust_list_envelope", explode)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        resp = client.get("/v1/trust-list")
    app.state.backend.close()
    assert resp.status_code == 500
    assert resp.json() == {"error": "internal_error", "detail": "internal error"}

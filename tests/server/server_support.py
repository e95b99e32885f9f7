"""Test support for the backend: databases, a signing client, a seeded world."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.testclient import TestClient

from pos_app.paytoken import httpsig, keys, manager_proof
from pos_app.server.backend import Backend

PG_URL = os.environ.get("POS_APP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_HINT = "set POS_APP_NO_POSTGRES=1 to deselect the PostgreSQL tests"
# Tests derive manager keys cheaply; the product uses manager_proof.KDF_N (128 MiB).
TEST_KDF_N = 2**8


def postgres_schema_url() -> tuple[str, str]:
    """Create a fresh schema on the test database; return (url using it, schema name)."""
    import psycopg

    schema = f"pos_test_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} does not answer ({exc}); {PG_HINT}", pytrace=False)
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def drop_postgres_schema(schema: str) -> None:
    import psycopg

    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass
class Signer:
    key: Ed25519PrivateKey
    keyid: str
    tag: str

    @classmethod
    def new(cls, tag: str) -> Signer:
        key = Ed25519PrivateKey.generate()
        return cls(key=key, keyid=keys.kid_hex(key), tag=tag)

    @property
    def public_b64(self) -> str:
        return keys.b64url_encode(keys.public_raw(self.key))


@dataclass
class Api:
    """Signs requests like a terminal or wallet client would (any httpx client)."""

    client: httpx.Client
    clock: Any
    base: str = "http://testserver"
    counter: list[int] = field(default_factory=lambda: [0])

    def request(
        self,
        method: str,
        path: str,
        *,
        signer: Signer | None,
        body: Any = None,
        raw: bytes | None = None,
        idem: str | None = "auto",
        created: int | None = None,
        nonce: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        if method == "POST" and idem is not None:
            self.counter[0] += 1
            hdrs["Idempotency-Key"] = f"idem-{uuid.uuid4().hex}" if idem == "auto" else idem
        if signer is not None:
            hdrs.update(
                httpsig.sign_request(
                    method,
                    self.base + path,
                    hdrs,
                    data,
                    key=signer.key,
                    keyid=signer.keyid,
                    tag=signer.tag,
                    created=self.clock.now() if created is None else created,
                    nonce=nonce or uuid.uuid4().hex,
                )
            )
        hdrs.update(headers or {})
        return self.client.request(method, self.base + path, content=data, headers=hdrs)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, body=body, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)


@dataclass
class WalletHandle:
    wallet_id: str
    device_id: str
    signer: Signer


@dataclass
class Manager:
    """A manager whose key is enrolled with the backend; signs approvals and decisions."""

    manager_id: str
    store_id: str
    key: Ed25519PrivateKey

    @classmethod
    def derive(cls, manager_id: str, passphrase: str, *, store_id: str = "S001") -> Manager:
        key = manager_proof.derive_key(
            passphrase, store_id=store_id, manager_id=manager_id, n=TEST_KDF_N
        )
        return cls(manager_id, store_id, key)

    def approval(self, sale: dict[str, Any], *, reason: str, at: int) -> dict[str, Any]:
        """The ``manager_approval`` object for a sale body."""
        signed = manager_proof.SaleApproval(
            manager_id=self.manager_id,
            reason=reason,
            sale_id=sale["sale_id"],
            store_id=sale["store_id"],
            terminal_id=sale["terminal_id"],
            total=sale["total"],
            currency=sale["currency"],
            token_sha256=manager_proof.token_digest(sale["token"]),
            approved_at=at,
        )
        return {
            "manager_id": self.manager_id,
            "reason": reason,
            "approved_at": at,
            "signature": manager_proof.sign(self.key, signed),
        }

    def void(self, sale: dict[str, Any], *, at: int, reason: str | None = None) -> dict[str, Any]:
        """A signed ``POST /v1/sales/{sale_id}/cancel`` body voiding an approved sale."""
        signed = manager_proof.Void(
            manager_id=self.manager_id,
            reason=reason or "",
            sale_id=sale["sale_id"],
            store_id=sale["store_id"],
            total=sale["total"],
            currency=sale["currency"],
            approved_at=at,
        )
        proof = {
            "manager_id": self.manager_id,
            "approved_at": at,
            "signature": manager_proof.sign(self.key, signed),
        }
        return {"manager_approval": proof, **({"reason": reason} if reason else {})}

    def decision(self, sale_id: str, decision: str, *, at: int, note: str = "") -> dict[str, Any]:
        """A signed ``POST /v1/reviews/{sale_id}/decision`` body."""
        signed = manager_proof.ReviewDecision(
            reviewer_id=self.manager_id,
            sale_id=sale_id,
            store_id=self.store_id,
            decision=decision,
            note=note,
            decided_at=at,
        )
        return {
            "decision": decision,
            "reviewer_id": self.manager_id,
            "note": note,
            "decided_at": at,
            "signature": manager_proof.sign(self.key, signed),
        }


@dataclass
class Trips:
    """What the driver was asked to run, counted."""

    batches: list[int] = field(default_factory=list)  # statements per batched string
    single: int = 0  # statements run one by one through ``raw``
    speculations: int = 0

    def reset(self) -> None:
        self.batches.clear()
        self.single = self.speculations = 0


def backend_of(api: Api) -> Backend:
    """The app's own backend (database, paths) behind an in-process ``TestClient``, for
    tests that look past the API."""
    client = api.client
    assert isinstance(client, TestClient) and isinstance(client.app, Starlette)
    backend = client.app.state.backend
    assert isinstance(backend, Backend)
    return backend


@dataclass
class World:
    api: Api
    terminal: Signer
    store_id: str = "S001"
    terminal_id: str = "T01"
    managers: dict[str, Manager] = field(default_factory=dict)

    def decide(
        self,
        sale_id: str,
        decision: str,
        *,
        reviewer: str = "M1",
        note: str = "",
        signer: Signer | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """A review decision signed by an enrolled manager, sent by this world's terminal."""
        body = self.managers[reviewer].decision(
            sale_id, decision, at=self.api.clock.now(), note=note
        )
        return self.api.post(
            f"/v1/reviews/{sale_id}/decision", body, signer=signer or self.terminal, **kw
        )

    def new_wallet(self, *, balance: int = 100_000, name: str = "Hanako") -> WalletHandle:
        signer = Signer.new(httpsig.TAG_WALLET)
        body = {
            "display_name": name,
            "device_public_key": signer.public_b64,
            "home_region": "JP-13",
        }
        resp = self.api.post("/v1/wallets", body, signer=signer)
        assert resp.status_code == 201, resp.text
        created = resp.json()
        signer.keyid = created["device_id"]
        handle = WalletHandle(created["wallet_id"], created["device_id"], signer)
        if balance:
            self.top_up(handle, balance)
        return handle

    def top_up(self, wallet: WalletHandle, amount: int) -> httpx.Response:
        resp = self.api.post(
            f"/v1/wallets/{wallet.wallet_id}/top-ups", {"amount": amount}, signer=wallet.signer
        )
        assert resp.status_code == 201, resp.text
        return resp

    def token(self, wallet: WalletHandle, **body: Any) -> str:
        resp = self.api.post(
            f"/v1/wallets/{wallet.wallet_id}/tokens", body or None, signer=wallet.signer
        )
        assert resp.status_code == 201, resp.text
        return str(resp.json()["token"])

    def sale_body(
        self, token: str, *, lines: list[dict[str, Any]] | None = None, **extra: Any
    ) -> dict[str, Any]:
        lines = lines or [line("4901234567894", "beverage", 2, 140)]
        body = {
            "sale_id": str(uuid.uuid4()),
            "store_id": self.store_id,
            "terminal_id": self.terminal_id,
            "cashier_id": "C042",
            "token": token,
            "currency": "JPY",
            "total": sum(li["line_total"] for li in lines),
            "lines": lines,
            "terminal_risk": {"score": 0, "action": "allow", "reasons": []},
            "offline_accepted_at": None,
        }
        body.update(extra)
        return body

    def sell(self, body: dict[str, Any], **kw: Any) -> httpx.Response:
        return self.api.post("/v1/sales", body, signer=self.terminal, **kw)


def line(
    sku: str, category: str, quantity: int, unit_price: int, name: str = "Item"
) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": name,
        "category": category,
        "quantity": quantity,
        "unit_price": unit_price,
        "line_total": quantity * unit_price,
    }


def enroll_terminal(api: Api, code: str) -> Signer:
    signer = Signer.new(httpsig.TAG_TERMINAL)
    body = {"enrollment_code": code, "public_key": signer.public_b64, "app_version": "0.1.0"}
    resp = api.post("/v1/terminals/enroll", body, signer=signer)
    assert resp.status_code == 201, resp.text
    signer.keyid = resp.json()["keyid"]
    return signer


MANAGER_PASSPHRASES = {"M1": "k7mp-2xqa-9rtd-hw4e", "M2": "rq4c-v8wz-3hnd-p6te"}


def enroll_managers(settings: Any, world: World, clock: Any) -> None:
    """Enroll M1 and M2 of the world's store, as ``pos-app backend enroll-manager`` does."""
    from pos_app.server import admin

    for manager_id, passphrase in MANAGER_PASSPHRASES.items():
        manager = Manager.derive(manager_id, passphrase, store_id=world.store_id)
        admin.enroll_manager(
            settings.data_dir,
            settings.db_url,
            store_id=world.store_id,
            manager_id=manager_id,
            public_key=manager_proof.public_key_b64(manager.key),
            clock=clock,
        )
        world.managers[manager_id] = manager

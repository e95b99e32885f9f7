"""Test support: the real reference backend on loopback, a wallet, a switchable network."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.age_check import AgeCheckPolicy
from pos_app.core.basket import BasketLine
from pos_app.core.catalog import Product
from pos_app.core.categories import Category
from pos_app.paytoken import httpsig, keys
from pos_app.server import admin
from pos_app.server.runner import BackgroundServer
from pos_app.server.settings import ServerSettings
from pos_app.terminal.backend.client import ClientConfig
from pos_app.terminal.backend.enrollment import EnrollmentInput, enroll
from pos_app.terminal.checkout.flow import CheckoutFlow
from pos_app.terminal.checkout.service import CheckoutService
from pos_app.terminal.manager_keys import ManagerKeyring, ManagerSigner
from pos_app.terminal.services import TerminalServices, build_services
from pos_app.terminal.settings.schema import (
    BackendSettings,
    PathSettings,
    PaymentSettings,
    Settings,
)
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.terminal.sync.trust import TrustListManager, load_root_key
from pos_app.terminal.terminal_risk import TerminalRisk, rules_from_settings
from tests.fake_clock import FakeClock

DAY = 86_400
# Manager keys derive cheaply in tests; the product's cost is manager_proof.KDF_N.
TEST_KDF_N = 2**4
MANAGER_PASSPHRASE = "k7mp-2xqa-9rtd-hw4e"


def product(gtin: str, category: Category, price: int, name: str = "Item") -> Product:
    return Product(gtin, name, name, category, price, 8, False)


TEA = product("4901234567894", Category.BEVERAGE, 140, "Green tea")
BENTO = product("4901234567001", Category.FOOD, 1000, "Bento")
CARTON = product("4901234567002", Category.HEATED_TOBACCO, 6000, "Heated tobacco carton")


def basket(*items: tuple[Product, int]) -> tuple[BasketLine, ...]:
    return tuple(BasketLine(p, q) for p, q in items)


class TillCrashed(BaseException):
    """Stands for the till's process dying (power cut) while a request is out."""


class Network(httpx.BaseTransport):
    """Real HTTP to the loopback backend, with faults switched on by the test.

    ``mode``: "up"; "down" (connection refused: nothing reaches the backend);
    "lose_answer" (the request reaches the backend, the answer is lost: a read
    timeout); "lose_answer_once" (the same, once, then "up"); "lose_then_down"
    (one lost answer, then "down"); "timeout_unsent_once" (a POST times out
    without reaching the backend, once); "crash_after_send" (the request
    reaches the backend, then the till process dies: :class:`TillCrashed`); "crash_unsent"
    (the till dies before a POST leaves it). ``canned`` answers POSTs to a path with a fixed
    status and body instead of the backend (a rule the reference backend may not have).
    """

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.mode = "up"
        self.log: list[tuple[str, str]] = []
        self.canned: dict[str, tuple[int, dict[str, Any]]] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.log.append((request.method, request.url.path))
        if self.mode == "down":
            raise httpx.ConnectError("connection refused (test)", request=request)
        if self.mode == "crash_unsent" and request.method == "POST":
            self.mode = "down"
            raise TillCrashed
        canned = self.canned.get(request.url.path) if request.method == "POST" else None
        if canned is not None:
            return httpx.Response(canned[0], json=canned[1], request=request)
        if self.mode == "timeout_unsent_once" and request.method == "POST":
            self.mode = "up"
            raise httpx.ReadTimeout("timed out before the backend saw it (test)", request=request)
        response = self.inner.handle_request(request)
        if self.mode == "crash_after_send" and request.method == "POST":
            response.read()
            response.close()
            self.mode = "down"
            raise TillCrashed
        if self.mode.startswith("lose") and request.method == "POST":
            response.read()
            response.close()
            if self.mode == "lose_answer_once":
                self.mode = "up"
            elif self.mode == "lose_then_down":
                self.mode = "down"
            raise httpx.ReadTimeout("answer lost (test)", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass
class Wallet:
    wallet_id: str
    device_id: str
    key: Ed25519PrivateKey


@dataclass
class Backend:
    """The reference backend running on loopback with a fake clock."""

    clock: FakeClock
    settings: ServerSettings
    server: BackgroundServer
    http: httpx.Client = field(default_factory=httpx.Client)

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def root_key_path(self) -> Path:
        return self.settings.data_dir / "root_public.pem"

    def code(self, store_id: str = "S001", terminal_id: str = "T01") -> str:
        ticket = admin.create_terminal(
            self.settings.data_dir,
            self.settings.db_url,
            store_id=store_id,
            terminal_id=terminal_id,
            clock=self.clock,
        )
        return str(ticket["enrollment_code"])

    def manager(
        self,
        store: LocalStore,
        manager_id: str = "M01",
        *,
        passphrase: str = MANAGER_PASSPHRASE,
        store_id: str = "S001",
    ) -> ManagerSigner:
        """A manager key on this till (``pos-app manager-key``) enrolled at the backend
        (``pos-app backend enroll-manager``); returns the manager's unlocked signer."""
        keyring = ManagerKeyring(store, store_id=store_id, kdf_n=TEST_KDF_N)
        public = keyring.add(manager_id, passphrase)
        admin.enroll_manager(
            self.settings.data_dir,
            self.settings.db_url,
            store_id=store_id,
            manager_id=manager_id,
            public_key=public,
            clock=self.clock,
        )
        signer = keyring.unlock(passphrase, manager_id=manager_id)
        assert signer is not None
        return signer

    def wallet_request(
        self, method: str, path: str, *, key: Ed25519PrivateKey, keyid: str, body: Any = None
    ) -> httpx.Response:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if method == "POST":
            headers["Idempotency-Key"] = f"w-{uuid.uuid4().hex}"
        url = self.url + path
        headers.update(
            httpsig.sign_request(
                method,
                url,
                headers,
                data,
                key=key,
                keyid=keyid,
                tag=httpsig.TAG_WALLET,
                created=self.clock.now(),
                nonce=uuid.uuid4().hex,
            )
        )
        return self.http.request(method, url, content=data, headers=headers)

    def new_wallet(self, balance: int = 50_000) -> Wallet:
        key = Ed25519PrivateKey.generate()
        body = {
            "display_name": "Hanako",
            "device_public_key": keys.b64url_encode(keys.public_raw(key)),
            "home_region": "JP-13",
        }
        resp = self.wallet_request(
            "POST", "/v1/wallets", key=key, keyid=keys.kid_hex(key), body=body
        )
        assert resp.status_code == 201, resp.text
        wallet = Wallet(resp.json()["wallet_id"], resp.json()["device_id"], key)
        if balance:
            self.wallet_post(wallet, f"/v1/wallets/{wallet.wallet_id}/top-ups", {"amount": balance})
        return wallet

    def wallet_post(self, wallet: Wallet, path: str, body: Any = None) -> dict[str, Any]:
        resp = self.wallet_request("POST", path, key=wallet.key, keyid=wallet.device_id, body=body)
        assert resp.status_code in (200, 201), resp.text
        data: dict[str, Any] = resp.json()
        return data

    def token(self, wallet: Wallet) -> str:
        return str(self.wallet_post(wallet, f"/v1/wallets/{wallet.wallet_id}/tokens")["token"])

    def balance(self, wallet: Wallet) -> int:
        resp = self.wallet_request(
            "GET", f"/v1/wallets/{wallet.wallet_id}", key=wallet.key, keyid=wallet.device_id
        )
        return int(resp.json()["balance"])

    def decide_step_up(self, wallet: Wallet, decision: str = "approve") -> dict[str, Any]:
        resp = self.wallet_request(
            "GET",
            f"/v1/wallets/{wallet.wallet_id}/step-ups",
            key=wallet.key,
            keyid=wallet.device_id,
        )
        step = resp.json()["step_ups"][0]
        message = httpsig.step_up_message(
            step["challenge_id"], step["currency"], decision, step["sale_id"],
            step["store_id"], step["total"],
        )  # fmt: skip
        signature = keys.b64url_encode(wallet.key.sign(message))
        return self.wallet_post(
            wallet, f"/v1/step-ups/{step['challenge_id']}/{decision}", {"signature": signature}
        )


@contextmanager
def running_backend(tmp_path: Path, *, start: int | None = None) -> Iterator[Backend]:
    clock = FakeClock() if start is None else FakeClock(start)
    data_dir = tmp_path / "backend"
    admin.init_backend(data_dir, clock=clock)
    settings = ServerSettings.for_data_dir(data_dir, clock=clock)
    server = BackgroundServer(settings).start()
    backend = Backend(clock=clock, settings=settings, server=server)
    try:
        yield backend
    finally:
        backend.http.close()
        server.stop()


def terminal_settings(backend: Backend, data_dir: Path, **payment: Any) -> Settings:
    return Settings(
        backend=BackendSettings(
            url=backend.url, retries=0, trust_root_key=str(backend.root_key_path)
        ),
        # Offline at once: these tests cut the network right after a contact; the wait the
        # product keeps (payment.offline_after_s) has its own test.
        payment=PaymentSettings(**{"offline_after_s": 0, **payment}),
        paths=PathSettings(data_dir=str(data_dir)),
    )


def enroll_terminal(
    backend: Backend, data_dir: Path, settings: Settings, *, terminal_id: str = "T01"
) -> None:
    store = open_store(data_dir)
    try:
        trust = TrustListManager(
            store,
            load_root_key(settings.backend.trust_root_key),
            audience="pos.jp",
            currency="JPY",
            stale_grace_s=DAY,
        )
        enroll(
            EnrollmentInput(
                backend.url, backend.code(terminal_id=terminal_id), "S001", terminal_id
            ),
            store=store,
            data_dir=data_dir,
            trust=trust,
            config=ClientConfig(base_url=backend.url, retries=0),
            clock=backend.clock.now,
            prefer_keyring=False,
        )
    finally:
        store.close()


def till(backend: Backend, tmp_path: Path, network: Network, **payment: Any) -> TerminalServices:
    """An enrolled terminal talking to the backend through ``network``."""
    data_dir = tmp_path / "terminal"
    settings = terminal_settings(backend, data_dir, **payment)
    enroll_terminal(backend, data_dir, settings)
    return build_services(settings, transport=network, clock=backend.clock.now)


def synced_till(backend: Backend, tmp_path: Path, network: Network) -> Iterator[TerminalServices]:
    """``till`` with its trust list fetched once (the enrollment list is a month old), closed
    after the test: the body of a ``services`` fixture."""
    svc = till(backend, tmp_path, network)
    assert svc.sync is not None
    assert svc.sync.tick().trust_list_refreshed
    yield svc
    svc.close()


def offline_till(store: LocalStore, *, cashier_may_confirm: bool = True) -> CheckoutService:
    """The checkout without a backend: enough for everything before the payment code."""
    risk = TerminalRisk(rules_from_settings(Settings()))
    flow = CheckoutFlow(
        store=store,
        client=None,
        trust=None,
        risk=risk,
        allow_offline=True,
        clock=lambda: 1_795_000_000,
    )
    return CheckoutService(
        flow,
        store_id="S001",
        terminal_id="T01",
        currency="JPY",
        age_policy=AgeCheckPolicy(cashier_may_confirm=cashier_may_confirm),
    )

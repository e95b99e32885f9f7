"""The demo's world: the reference backend on loopback, an enrolled terminal,
cashier accounts and a few wallets, all under one data directory that the
next run reuses (the backend's SQLite file, the terminal's store and key,
the wallets' device keys).

The wallets are "established" customers (their account and phone are backdated
through ``admin.backdate_wallet``, as if they had been customers for a year) except
Kenji, whose account is old but whose phone is brand new: the 7pay pattern
(a hijacked account paying from the thief's phone) that the risk rules catch.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import httpx
import platformdirs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.demo.network import NetworkSwitch
from pos_app.demo.wallet_client import WalletClient
from pos_app.server import admin
from pos_app.server.runner import BackgroundServer
from pos_app.server.settings import ServerSettings
from pos_app.terminal.auth import Authenticator, Role
from pos_app.terminal.backend.client import ClientConfig
from pos_app.terminal.backend.credentials import load_credential
from pos_app.terminal.backend.enrollment import EnrollmentInput, enroll
from pos_app.terminal.manager_keys import ManagerKeyring
from pos_app.terminal.services import TerminalServices, build_services
from pos_app.terminal.settings.schema import (
    BackendSettings,
    PathSettings,
    Settings,
    TerminalSettings,
)
from pos_app.terminal.store.db import open_store
from pos_app.terminal.sync.trust import TrustListManager, load_root_key

log = logging.getLogger(__name__)

STORE_ID, TERMINAL_ID, STORE_NAME = "S001", "T01", "Demo Store Shibuya"
YEAR = 365 * 86400
CASHIERS = (("C042", "Sato", Role.CASHIER, "1234"), ("M001", "Tanaka", Role.MANAGER, "9999"))
# The demo manager's passphrase: their approvals and decisions are signed with the key it
# derives, enrolled at the backend (docs/BACKEND.md "Manager proofs"). A real one is generated.
DEMO_MANAGER, DEMO_MANAGER_PASSPHRASE = "M001", "tanaka-demo-2026"


@dataclass(frozen=True, slots=True)
class WalletSeed:
    label: str
    balance: int
    account_age_s: int
    device_age_s: int


WALLETS = (
    WalletSeed("Hanako Suzuki", 200_000, YEAR, YEAR),
    WalletSeed("Kenji Takahashi (new phone)", 100_000, YEAR, 0),
    WalletSeed("Yuki Ito (low balance)", 300, YEAR, YEAR),
)


@dataclass(frozen=True)
class DemoWallet:
    label: str
    client: WalletClient


def default_root() -> Path:
    return Path(platformdirs.user_data_dir("pos-app")) / "demo"


class DemoWorld:
    """``start()`` brings everything up (reusing what exists); ``stop()`` tears it down."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        base: Settings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.root = (root or default_root()).resolve()
        self.network = NetworkSwitch()
        # The terminal's network: the demo's switch unless a test brings its own.
        self._transport = transport or self.network
        self.backend_dir, self.terminal_dir = self.root / "backend", self.root / "terminal"
        self._base = base or Settings()
        self.server: BackgroundServer | None = None
        self.services: TerminalServices | None = None
        self.wallets: list[DemoWallet] = []
        self.settings = self._base

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    def start(self) -> DemoWorld:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        admin.init_backend(self.backend_dir)
        # The backend's contact slack and the till's wait before offline acceptance are one
        # number (docs/BACKEND.md): the demo keeps them equal, from the till's setting.
        server_settings = ServerSettings.for_data_dir(
            self.backend_dir, contact_slack=self._base.payment.offline_after_s
        )
        self.server = BackgroundServer(server_settings).start()
        self.settings = self._terminal_settings()
        self._enroll_if_needed()
        self.services = build_services(
            self.settings, directory=self.terminal_dir, transport=self._transport
        )
        self._seed_cashiers()
        self._seed_manager_key(server_settings)
        self.wallets = self._load_or_create_wallets(server_settings)
        return self

    def _terminal_settings(self) -> Settings:
        b = self._base
        return Settings(
            terminal=TerminalSettings(
                audience=b.terminal.audience,
                currency=b.terminal.currency,
                catalog_dir=b.terminal.catalog_dir,
            ),
            backend=BackendSettings(
                url=self.base_url,
                retries=1,
                connect_timeout_s=1.0,
                read_timeout_s=5.0,
                poll_interval_s=1.0,
                trust_root_key=str(self.backend_dir / "root_public.pem"),
            ),
            payment=b.payment,
            scanner=b.scanner,
            risk=b.risk,
            ui=b.ui,
            security=b.security,
            logging=b.logging,
            paths=PathSettings(data_dir=str(self.terminal_dir)),
        )

    def _enroll_if_needed(self) -> None:
        store = open_store(self.terminal_dir)
        try:
            if load_credential(store, self.terminal_dir) is not None:
                return
            ticket = admin.create_terminal(
                self.backend_dir, store_id=STORE_ID, terminal_id=TERMINAL_ID, region="JP-13"
            )
            trust = TrustListManager(
                store,
                load_root_key(self.settings.backend.trust_root_key),
                audience=self.settings.terminal.audience,
                currency=self.settings.terminal.currency,
                stale_grace_s=self.settings.payment.trust_list_stale_grace_s,
            )
            request = EnrollmentInput(
                self.base_url, ticket["enrollment_code"], STORE_ID, TERMINAL_ID
            )
            enroll(
                request,
                store=store,
                data_dir=self.terminal_dir,
                trust=trust,
                config=ClientConfig(base_url=self.base_url, retries=0),
                prefer_keyring=False,
            )
            log.info("demo terminal enrolled as %s/%s", STORE_ID, TERMINAL_ID)
        finally:
            store.close()

    def _seed_cashiers(self) -> None:
        assert self.services is not None
        auth = self.authenticator()
        known = {a.user_id for a in auth.accounts()}
        for user_id, name, role, pin in CASHIERS:
            if user_id not in known:
                auth.add_account(user_id, name, role, pin)

    def _seed_manager_key(self, server_settings: ServerSettings) -> None:
        """``pos-app manager-key`` on the till, then ``backend enroll-manager``."""
        keyring = self.keyring()
        public = keyring.public_keys().get(DEMO_MANAGER)
        if public is None:
            public = keyring.add(DEMO_MANAGER, DEMO_MANAGER_PASSPHRASE)
        admin.enroll_manager(
            server_settings.data_dir,
            server_settings.db_url,
            store_id=STORE_ID,
            manager_id=DEMO_MANAGER,
            public_key=public,
        )

    def keyring(self) -> ManagerKeyring:
        assert self.services is not None
        return ManagerKeyring(self.services.store, store_id=STORE_ID)

    def authenticator(self) -> Authenticator:
        assert self.services is not None
        sec = self.settings.security
        return Authenticator(
            self.services.store,
            max_attempts=sec.pin_max_attempts,
            lock_base_s=sec.pin_lock_base_s,
            manager_pin_hash=sec.manager_pin_hash,
            keyring=self.keyring(),
        )

    def _load_or_create_wallets(self, server_settings: ServerSettings) -> list[DemoWallet]:
        path = self.root / "wallets.json"
        if path.is_file():
            return [self._client(item) for item in json.loads(path.read_text())]
        made = [self._create_wallet(seed, server_settings) for seed in WALLETS]
        saved = [
            {
                "label": w.label,
                "wallet_id": w.client.wallet_id,
                "device_id": w.client.device_id,
                "key": base64.b64encode(w.client.key.private_bytes_raw()).decode(),
            }
            for w in made
        ]
        path.write_text(json.dumps(saved, indent=1))
        path.chmod(0o600)
        return made

    def _client(self, item: dict[str, str]) -> DemoWallet:
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(item["key"]))
        client = WalletClient(
            self.base_url, key=key, wallet_id=item["wallet_id"], device_id=item["device_id"]
        )
        return DemoWallet(item["label"], client)

    def _create_wallet(self, seed: WalletSeed, server_settings: ServerSettings) -> DemoWallet:
        client = WalletClient(self.base_url, key=Ed25519PrivateKey.generate())
        client.create(seed.label)
        client.top_up(seed.balance)
        _backdate(server_settings, client.wallet_id, seed)
        return DemoWallet(seed.label, client)

    def stop(self) -> None:
        for wallet in self.wallets:
            wallet.client.close()
        if self.services is not None:
            self.services.close()
            self.services = None
        if self.server is not None:
            self.server.stop()
            self.server = None


def _backdate(settings: ServerSettings, wallet_id: str, seed: WalletSeed) -> None:
    """Make a seeded customer look established (through the backend's admin API)."""
    now = settings.clock.now()
    admin.backdate_wallet(
        settings.data_dir,
        settings.db_url,
        wallet_id=wallet_id,
        created_at=now - seed.account_age_s,
        device_bound_at=now - seed.device_age_s,
    )

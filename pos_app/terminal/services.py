"""Wiring: the till's services built from Settings (the UI and the demo call this).

services = build_services(settings)
services.sync.start()              # background outbox drain + trust-list refresh
port: CheckoutPort = services.checkout
...
services.close()                   # stops the thread, closes client and store
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from pos_app.core.age_check import AgeCheckPolicy
from pos_app.core.catalog import Catalog
from pos_app.core.errors import ConfigError, PosError
from pos_app.terminal.backend.client import BackendClient, ClientConfig
from pos_app.terminal.backend.credentials import Credential, load_credential
from pos_app.terminal.checkout.flow import CheckoutFlow
from pos_app.terminal.checkout.service import CheckoutService
from pos_app.terminal.paths import catalog_dir
from pos_app.terminal.printing.service import ReceiptService, build_receipt_service
from pos_app.terminal.settings.loader import data_dir
from pos_app.terminal.settings.schema import Settings
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.terminal.sync.loop import BackgroundSync
from pos_app.terminal.sync.outbox import OutboxDrainer
from pos_app.terminal.sync.trust import TrustListManager, trust_from_settings
from pos_app.terminal.terminal_risk import TerminalRisk, rules_from_settings


@dataclass(frozen=True, slots=True)
class TerminalServices:
    store: LocalStore
    checkout: CheckoutService
    trust: TrustListManager | None  # None: not enrolled and no root key pinned yet
    credential: Credential | None
    client: BackendClient | None
    drainer: OutboxDrainer | None
    sync: BackgroundSync | None  # None until the terminal is enrolled
    receipts: ReceiptService | None = None

    def close(self) -> None:
        if self.receipts is not None:
            self.receipts.queue.stop()
        if self.sync is not None:
            self.sync.stop()
        if self.client is not None:
            self.client.close()
        self.store.close()


def build_services(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    directory: Path | None = None,
    store: LocalStore | None = None,
) -> TerminalServices:
    """Open the store, load the credential and trust list, wire checkout and sync.

    A terminal that is not enrolled still gets a checkout (its status says
    ``enrolled=False`` and every payment is declined ``not_enrolled``).
    """
    folder = directory or data_dir(settings)
    store = store or open_store(folder)
    credential = load_credential(store, folder)
    trust = _trust(store, settings, enrolled=credential is not None)
    store_id, terminal_id = settings.terminal.store_id, settings.terminal.terminal_id
    lock = threading.RLock()
    client, drainer, sync = None, None, None
    watched: list[Callable[[str], bool]] = []  # the checkout, once built
    if credential is not None and trust is not None:
        store_id, terminal_id = _ids(settings, credential)
        client = _client(settings, credential, transport=transport, clock=clock)
        # Every rule that compares with the backend's times (token validity, offline
        # acceptance, the outbox's deadlines) reads the backend's time as last measured.
        clock = client.now
        drainer = OutboxDrainer(
            store,
            client,
            clock=clock,
            sale_lock=lock,
            watched=lambda sale_id: any(w(sale_id) for w in watched),
        )
        sync = BackgroundSync(
            drainer=drainer,
            trust=trust,
            client=client,
            refresh_interval_s=settings.backend.trust_list_refresh_s,
            clock=clock,
            audit_store=store,
            terminal_id=terminal_id,
            heartbeat_s=settings.backend.heartbeat_s,
        )
    rules = rules_from_settings(settings)
    risk = TerminalRisk(rules)
    window = max(rules.windows.terminal_wallets_s, rules.windows.terminal_declines_s)
    risk.warm_from(store, now=int(clock()), window_s=window)
    flow = CheckoutFlow(
        store=store,
        client=client,
        trust=trust,
        risk=risk,
        allow_offline=settings.payment.allow_offline,
        offline_after_s=settings.payment.offline_after_s,
        clock=clock,
    )
    checkout = CheckoutService(
        flow,
        store_id=store_id,
        terminal_id=terminal_id,
        currency=settings.terminal.currency,
        age_policy=AgeCheckPolicy(cashier_may_confirm=settings.customer_display.cashier_age_check),
        lock=lock,
    )
    watched.append(checkout.is_watched)
    remote = client.get_sale_receipt if client is not None else None
    receipts = build_receipt_service(settings, store, catalog=_catalog(settings), remote=remote)
    return TerminalServices(store, checkout, trust, credential, client, drainer, sync, receipts)


def _catalog(settings: Settings) -> Catalog | None:
    """Receipts print the catalog's name in the receipt's language; without it, the stored one."""
    try:
        return Catalog.from_dir(catalog_dir(settings.terminal.catalog_dir))
    except PosError:
        return None


def _trust(store: LocalStore, settings: Settings, *, enrolled: bool) -> TrustListManager | None:
    """An unenrolled till may start without a root key (its status says so); an enrolled one
    must verify codes, so a missing root is a configuration error."""
    try:
        return trust_from_settings(store, settings)
    except ConfigError:
        if enrolled:
            raise
        return None


def _client(
    settings: Settings,
    credential: Credential,
    *,
    transport: httpx.BaseTransport | None,
    clock: Callable[[], float],
) -> BackendClient:
    base = ClientConfig.from_settings(settings)
    # The enrollment URL is the default; a configured URL (a moved backend) wins.
    config = replace(base, base_url=settings.backend.url or credential.info.backend_url)
    return BackendClient(config, identity=credential.identity, transport=transport, clock=clock)


def _ids(settings: Settings, credential: Credential) -> tuple[str, str]:
    """Enrollment decides the ids; a configured id that disagrees is a setup mistake."""
    info = credential.info
    for key, configured, enrolled in (
        ("store_id", settings.terminal.store_id, info.store_id),
        ("terminal_id", settings.terminal.terminal_id, info.terminal_id),
    ):
        if configured and configured != enrolled:
            raise ConfigError(
                f"[terminal] {key} = {configured!r} but this terminal is enrolled as "
                f"{enrolled!r}: remove the setting or enroll again"
            )
    return info.store_id, info.terminal_id

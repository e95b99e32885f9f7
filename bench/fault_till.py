"""One till process for the fault harness: a cashier driving the till's real services.

Started (and SIGKILLed, and started again on the same data directory) by
``bench/fault_harness.py``. It builds ``TerminalServices`` exactly as the UI
does, runs the background sync thread, and sells until told to stop, choosing
among: a plain sale (online, or offline while the backend is away), the owner's
approval on the phone (the harness's "phone" answers), a manager's approval,
a declined code followed by a good one, a cancel, a void, and a code another
till already used (the race). ``--skew-s`` makes this till's clock wrong.

Its only output is a line per sale on stdout (JSON) for the harness's log; the
truth is the till's own database, which the harness reconciles with the ledger.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.age_check import AgeCheckMethod
from pos_app.core.basket import BasketLine
from pos_app.core.catalog import Product
from pos_app.core.categories import Category
from pos_app.core.errors import PosError
from pos_app.core.reasons import ReasonCode
from pos_app.paytoken import httpsig
from pos_app.terminal.checkout.types import AgeAnswer, PaymentPhase, PaymentUpdate
from pos_app.terminal.manager_keys import ManagerKeyring, ManagerSigner
from pos_app.terminal.services import TerminalServices, build_services
from pos_app.terminal.settings.schema import (
    BackendSettings,
    PathSettings,
    PaymentSettings,
    Settings,
)
from pos_app.terminal.sync.loop import BackgroundSync
from tests.server.server_support import Api, Signer, WalletHandle

TEA = Product("4901234567894", "Green tea", "Green tea", Category.BEVERAGE, 140, 8, False)
BENTO = Product("4901234567001", "Bento", "Bento", Category.FOOD, 1000, 8, False)
CARTON = Product("4901234567002", "Carton", "Carton", Category.HEATED_TOBACCO, 6000, 10, False)
WAITING = (PaymentPhase.VERIFYING, PaymentPhase.CUSTOMER_APPROVAL)
TOKEN_FRESH_S = 150  # a cached code is used offline only while it has this long to live
SPARE_CODES = 3  # a wallet's cached codes (one was spent by the first offline sale of each)


class SystemTime:
    def now(self) -> int:
        return int(time.time())


class Wallets:
    """The customers' phones: each mints codes for its wallet (kept for the outage)."""

    def __init__(self, spec: dict[str, Any], base: str, shared: Path) -> None:
        self.api = Api(client=httpx.Client(timeout=5), clock=SystemTime(), base=base)
        self.handles: dict[str, list[WalletHandle]] = {}
        for group, items in spec.items():
            self.handles[group] = [
                WalletHandle(w["wallet_id"], w["device_id"], _signer(w)) for w in items
            ]
        self.cache: dict[str, list[tuple[float, str]]] = {}
        self.taken: dict[str, float] = {}  # cached codes handed out during the outage
        self.shared = shared  # codes used at some till: the race pool

    def token(self, wallet: WalletHandle) -> str | None:
        """A fresh code; while the backend is away, one minted before (if still fresh)."""
        try:
            resp = self.api.post(
                f"/v1/wallets/{wallet.wallet_id}/tokens", None, signer=wallet.signer
            )
            if resp.status_code == 201:
                self._stock(wallet)
                return str(resp.json()["token"])
        except httpx.HTTPError:
            pass
        stock = self.cache.get(wallet.wallet_id, [])
        while stock:
            minted, text = stock.pop()
            if time.time() - minted < TOKEN_FRESH_S:
                self.taken[text] = minted
                return text
        return None

    def give_back(self, wallet: WalletHandle, text: str) -> None:
        """A cached code the till refused before anyone saw it (``backend_just_lost``:
        "try again in a minute") stays on the phone for the next try."""
        minted = self.taken.pop(text, None)
        if minted is not None:
            self.cache.setdefault(wallet.wallet_id, []).append((minted, text))

    def _stock(self, wallet: WalletHandle) -> None:
        stock = self.cache.setdefault(wallet.wallet_id, [])
        stock[:] = [(m, t) for m, t in stock if time.time() - m < TOKEN_FRESH_S - 60]
        while len(stock) < SPARE_CODES:  # codes kept on the phone for the outage
            resp = self.api.post(
                f"/v1/wallets/{wallet.wallet_id}/tokens", None, signer=wallet.signer
            )
            if resp.status_code != 201:
                return
            stock.append((time.time(), str(resp.json()["token"])))

    def share(self, text: str) -> None:
        path = self.shared / f"{time.time_ns()}.code"
        path.write_text(text)

    def stolen(self, rng: random.Random) -> str | None:
        """A code some till (maybe another one) just took: paying with it again is the race."""
        codes = sorted(self.shared.glob("*.code"))[-6:]
        return rng.choice(codes).read_text() if codes else None


def _signer(spec: dict[str, Any]) -> Signer:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(spec["key_hex"]))
    return Signer(key=key, keyid=spec["device_id"], tag=httpsig.TAG_WALLET)


class Cashier:
    def __init__(
        self,
        svc: TerminalServices,
        wallets: Wallets,
        rng: random.Random,
        manager: ManagerSigner | None,
    ) -> None:
        self.svc, self.wallets, self.rng, self.manager = svc, wallets, rng, manager
        self.port = svc.checkout

    def sell(self) -> dict[str, Any]:
        scenario = self.rng.choices(
            ["plain", "owner", "manager", "retry", "cancel", "void", "race"],
            weights=[30, 15, 10, 12, 8, 12, 8],
        )[0]
        group = {"owner": "new", "manager": "rich_new", "cancel": "new"}.get(scenario, "regular")
        wallet = self.rng.choice(self.wallets.handles[group])
        items = {"owner": (CARTON, 2), "cancel": (CARTON, 2), "manager": (BENTO, 100)}
        product, qty = items.get(scenario, (TEA, self.rng.randint(1, 3)))
        self.last_decline: str | None = None
        code = self.wallets.token(wallet)  # the customer opens the app first
        if code is None:  # the backend has been away too long: no fresh code to be had
            time.sleep(1.0)
            return {"no_code": True}
        update = self.port.start_payment((BasketLine(product, qty),), cashier_id="C042")
        sale_id = update.sale_id
        if update.phase is PaymentPhase.AGE_CHECK:  # tobacco: "20 or older?" first
            looked = AgeAnswer(True, AgeCheckMethod.CASHIER_VISUAL, "C042", display_attached=False)
            update = self.port.answer_age_check(sale_id, looked)
        if scenario == "retry":
            update = self.port.submit_token(sale_id, "PT1:NOT-A-CODE")  # declined bad_base45
            if self.rng.random() < 0.5:
                poor = self.wallets.handles["poor"][0]  # declined by the backend: no funds
                update = self._submit(sale_id, self.wallets.token(poor))
        stolen = self.wallets.stolen(self.rng) if scenario == "race" else None
        update = self._submit(sale_id, stolen or code)
        if stolen and update.phase is PaymentPhase.DECLINED:
            update = self._submit(sale_id, code)
        if update.phase is PaymentPhase.DECLINED and update.reason == ReasonCode.BACKEND_JUST_LOST:
            self.wallets.give_back(wallet, code)
        update = self._follow(update, scenario)
        if scenario == "void" and update.phase in (
            PaymentPhase.APPROVED,
            PaymentPhase.OFFLINE_ACCEPTED,
        ):
            update = self._void(sale_id)
        return {
            "sale_id": sale_id,
            "scenario": scenario,
            "phase": update.phase.value,
            "reason": update.reason,
            "declined": self.last_decline,
        }

    def _submit(self, sale_id: str, text: str | None) -> PaymentUpdate:
        if text is None:  # no code to be had (the backend has been away too long)
            self.last_decline = "no_code"
            return self.port.cancel(sale_id)
        update = self._settle(self.port.submit_token(sale_id, text))
        if update.phase in (PaymentPhase.APPROVED, PaymentPhase.OFFLINE_ACCEPTED):
            self.wallets.share(text)
        return update

    def _settle(self, update: PaymentUpdate) -> PaymentUpdate:
        """An unknown outcome (a backend killed mid-request) shows VERIFYING: the UI polls
        it (the poll looks the sale up and sends the same request again if it never
        arrived), and takes no other code meanwhile. Scanning the next code at once was
        refused ("a payment code is not expected now") and left the sale to the outbox,
        which may only give up on it when its code can no longer land (expiry + 90 s)."""
        deadline = time.monotonic() + 150
        while update.phase is PaymentPhase.VERIFYING and time.monotonic() < deadline:
            time.sleep(0.5)  # the UI polls every poll_interval_s
            update = self.port.poll(update.sale_id)
        return update

    def _follow(self, update: PaymentUpdate, scenario: str) -> PaymentUpdate:
        sale_id = update.sale_id
        if update.phase is PaymentPhase.MANAGER_APPROVAL:
            if self.rng.random() < 0.2:
                return self.port.cancel(sale_id)
            update = self.port.manager_approve(
                sale_id, manager_id="M001", reason="known customer", signer=self.manager
            )
        deadline = time.monotonic() + 150  # the step-up window (120 s) and some
        while update.phase in WAITING and time.monotonic() < deadline:
            if scenario == "cancel" and update.phase is PaymentPhase.CUSTOMER_APPROVAL:
                try:
                    return self.port.cancel(sale_id)
                except PosError:
                    pass
            time.sleep(0.5)  # the UI polls every poll_interval_s
            update = self.port.poll(sale_id)
        if update.phase is PaymentPhase.DECLINED:
            self.last_decline = update.reason
            return self.port.cancel(sale_id)  # the customer gives up; the sale is closed
        return update

    def _void(self, sale_id: str) -> PaymentUpdate:
        try:
            return self.port.void(
                sale_id, manager_id="M001", reason="wrong item", signer=self.manager
            )
        except PosError:
            return self.port.poll(sale_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="JSON written by the harness")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    conf = json.loads(args.config.read_text())
    skew = float(conf.get("skew_s", 0))
    settings = Settings(
        backend=BackendSettings(
            url=conf["backend_url"],
            retries=1,
            read_timeout_s=5.0,
            connect_timeout_s=1.0,
            trust_root_key=conf["root_key"],
        ),
        payment=PaymentSettings(
            allow_offline=True, offline_after_s=int(conf.get("offline_after_s", 90))
        ),
        paths=PathSettings(data_dir=conf["data_dir"]),
    )
    print(json.dumps({"start": time.time()}), flush=True)
    svc = build_services(settings, clock=lambda: time.time() + skew)
    sync = svc.sync
    assert sync is not None, "the harness enrolls every till first"
    stop = Path(conf["stop_file"])
    done = threading.Event()
    # The UI's background lane: a tick every second (the harness measures the time to drain).
    lane = threading.Thread(target=_ticks, args=(sync, svc, done), daemon=True)
    lane.start()
    wallets = Wallets(conf["wallets"], conf["backend_url"], Path(conf["shared_dir"]))
    manager_id, passphrase, kdf_n = conf["manager"]
    keyring = ManagerKeyring(svc.store, store_id="S001", kdf_n=int(kdf_n))
    signer = keyring.unlock(passphrase, manager_id=manager_id)
    cashier = Cashier(svc, wallets, random.Random(args.seed), signer)
    print(json.dumps({"ready": time.time()}), flush=True)
    while not stop.exists():
        try:
            began = time.monotonic()
            line = cashier.sell()
            took = round(time.monotonic() - began, 2)
            print(json.dumps({**line, "s": took, "end": round(time.time(), 2)}), flush=True)
        except PosError as exc:
            print(json.dumps({"error": str(exc)}), flush=True)
        time.sleep(0.2)
    # Selling stops; the outbox drains in the background lane, then the till closes.
    print(json.dumps({"stopped": round(time.time(), 2)}), flush=True)
    while svc.checkout.status().outbox_pending:
        time.sleep(0.5)
    done.set()
    lane.join(10)
    print(json.dumps({"drained": round(time.time(), 2)}), flush=True)
    svc.close()
    return 0


def _ticks(sync: BackgroundSync, svc: TerminalServices, done: threading.Event) -> None:
    shown: object = None
    while not done.is_set():
        try:
            report = sync.tick()
            shown = _trace_outbox(svc, report.drain.blocked_by, shown)
        except Exception as exc:  # a bug in one pass must show, not stop the lane
            print(json.dumps({"error": f"sync: {exc!r}"}), flush=True)
        done.wait(1.0)


def _trace_outbox(svc: TerminalServices, blocked_by: str | None, shown: object) -> object:
    """A line whenever the open outbox entries change (kind, state, attempts, due time,
    last error): what each waits for, so a long drain can be read from the log. Times
    ("due", "token_exp", "now") are on the till's backend-corrected clock."""
    rows = svc.store.query(
        "SELECT id, sale_id, kind, state, attempts, next_attempt_at, last_error, payload"
        " FROM outbox WHERE state IN ('pending', 'unknown') ORDER BY id"
    )
    entries = []
    for r in rows:
        payload = json.loads(r["payload"])
        entries.append(
            {
                "id": r["id"],
                "sale": r["sale_id"][:8],
                "kind": r["kind"],
                "state": r["state"],
                "attempts": r["attempts"],
                "due": r["next_attempt_at"],
                "error": (r["last_error"] or "")[:120],
                "token_exp": payload.get("token_exp"),
            }
        )
    key = json.dumps(entries)
    if key == shown:
        return shown
    now = svc.client.now() if svc.client is not None else time.time()
    line: dict[str, Any] = {"outbox": round(time.time(), 2), "now": int(now)}
    line.update(blocked_by=blocked_by, open=entries[:6])
    print(json.dumps({**line, "more": max(0, len(entries) - 6)}), flush=True)
    return key


if __name__ == "__main__":
    raise SystemExit(main())

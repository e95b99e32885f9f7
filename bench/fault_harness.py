"""Money under faults: real tills and a real backend, killed and cut off, then reconciled.

For each database (SQLite, PostgreSQL): ``pos-app backend serve`` with several
worker processes, several till processes (``bench/fault_till.py``: the till's
real services, as the UI drives them) sharing a few wallets, one of them with a
wrong clock, and the customers' phones answering step-ups. While they sell,
the harness SIGKILLs tills (and starts them again on the same data directory)
and the backend at random moments, and takes the backend away for a while.
Then the tills stop selling and drain their outboxes, and every till sale,
backend sale and wallet is reconciled against the ledger.

    .venv/bin/python -m bench.fault_harness                      # both databases, 3 min outage
    .venv/bin/python -m bench.fault_harness --db sqlite --duration 30 --outage 10

Counts printed per database: sales, kills, lost (a till says paid, nobody was
charged, and nobody was told), charged twice, balance mismatches, disagree (the
till and the backend tell different stories: charged but declined at the till,
voided at the till but still charged), stuck (a sale still waiting after its
window closed), waiting (still inside its window when the drain timed out),
offline losses (visible: reason and review at the till), and the time to drain.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.fault_ledger import Counts, reconcile
from pos_app.paytoken import httpsig, keys
from pos_app.server import admin
from pos_app.server.clock import SystemClock
from pos_app.server.runner import free_port
from pos_app.terminal.backend.client import ClientConfig
from pos_app.terminal.backend.enrollment import EnrollmentInput, enroll
from pos_app.terminal.manager_keys import ManagerKeyring
from pos_app.terminal.store.db import open_store
from pos_app.terminal.sync.trust import TrustListManager, load_root_key
from tests.server.server_support import (
    Api,
    Signer,
    World,
    drop_postgres_schema,
    postgres_schema_url,
)

ROOT = Path(__file__).resolve().parents[1]

DAY = 86_400
WALLET_GROUPS = {"regular": (3, 300_000), "new": (2, 300_000), "rich_new": (2, 600_000)}


@dataclass(frozen=True)
class Options:
    duration_s: float = 40.0  # selling time, faults included
    outage_s: float = 180.0  # the backend away once, for this long
    tills: int = 3
    workers: int = 2
    till_kills: int = 6
    backend_kills: int = 2
    skew_s: int = 45  # one till's clock is this far ahead
    # The tills accept offline this long after the backend's last answer, and the backend's
    # contact_slack is set to the same (the two must be equal): with the product's 90 s no
    # sale of a 40 s run is ever made offline. 15 s covers a harness till's failed attempt
    # (connect 1 s + read 5 s, one retry).
    offline_after_s: int = 15
    drain_timeout_s: float = 330.0  # token lifetime + skew + margin + a backoff step
    seed: int = 14
    keep: str = ""  # keep the run's files (logs, databases) under this directory


class Backend:
    """``pos-app backend serve`` as a child process on a fixed port (tills keep its URL)."""

    def __init__(self, data_dir: Path, db_url: str, workers: int, contact_slack: int) -> None:
        self.data_dir, self.db_url, self.workers = data_dir, db_url, workers
        self.contact_slack = contact_slack
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "pos_app", "backend", "serve", "--data-dir"]
        cmd += [str(self.data_dir), "--db", self.db_url, "--port", str(self.port)]
        cmd += ["--workers", str(self.workers)]
        # The child keeps its own copy of the log's descriptor; ours closes at once.
        with open(self.data_dir / "serve.log", "ab") as log:
            env = {**os.environ, "POS_APP_SERVER_CONTACT_SLACK": str(self.contact_slack)}
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=log, env=env, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit(f"the backend did not start; see {self.data_dir / 'serve.log'}")

    def kill(self) -> None:
        """SIGKILL the whole process group: uvicorn's supervisor and its workers."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class Till:
    name: str
    data_dir: Path
    config: Path
    seed: int
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        cmd = [sys.executable, "-m", "bench.fault_till", "--config"]
        cmd += [str(self.config), "--seed", str(self.seed * 100 + self.starts)]
        with open(self.data_dir / "till.log", "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=ROOT)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class World2:
    backend: Backend
    tills: list[Till]
    wallets: dict[str, list[dict[str, Any]]]
    funded: dict[str, int]
    kills: int = 0
    events: list[str] = field(default_factory=list)


def make_wallets(backend: Backend) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    with httpx.Client(timeout=10) as client:
        api = Api(client=client, clock=SystemClock(), base=backend.url)
        return _fund_wallets(World(api=api, terminal=None), backend)  # type: ignore[arg-type]


def _fund_wallets(
    world: World, backend: Backend
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    """Wallet groups (wallet calls only: the world has no terminal)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    funded: dict[str, int] = {}
    now = int(time.time())
    for group, (count, balance) in {**WALLET_GROUPS, "poor": (1, 100)}.items():
        for _ in range(count):
            handle = world.new_wallet(balance=balance)
            if group in ("regular", "poor"):  # month-old wallets: their codes work offline
                admin.backdate_wallet(
                    backend.data_dir,
                    backend.db_url,
                    wallet_id=handle.wallet_id,
                    created_at=now - 40 * DAY,
                    device_bound_at=now - 40 * DAY,
                )
            raw = handle.signer.key.private_bytes_raw().hex()
            groups.setdefault(group, []).append(
                {"wallet_id": handle.wallet_id, "device_id": handle.device_id, "key_hex": raw}
            )
            funded[handle.wallet_id] = balance
    return groups, funded


# The store manager's key (``pos-app manager-key``): a cheap key derivation for the bench.
MANAGER_ID, MANAGER_PASSPHRASE, MANAGER_KDF_N = "M001", "k7mp-2xqa-9rtd-hw4e", 2**4


def enroll_till(backend: Backend, data_dir: Path, terminal_id: str) -> None:
    ticket = admin.create_terminal(
        backend.data_dir, backend.db_url, store_id="S001", terminal_id=terminal_id
    )
    root = backend.data_dir / "root_public.pem"
    store = open_store(data_dir)
    try:
        trust = TrustListManager(
            store, load_root_key(str(root)), audience="pos.jp", currency="JPY", stale_grace_s=DAY
        )
        enroll(
            EnrollmentInput(backend.url, str(ticket["enrollment_code"]), "S001", terminal_id),
            store=store,
            data_dir=data_dir,
            trust=trust,
            config=ClientConfig(base_url=backend.url, retries=1),
            prefer_keyring=False,
        )
        keyring = ManagerKeyring(store, store_id="S001", kdf_n=MANAGER_KDF_N)
        public = keyring.add(MANAGER_ID, MANAGER_PASSPHRASE)  # the same key at every till
        admin.enroll_manager(
            backend.data_dir,
            backend.db_url,
            store_id="S001",
            manager_id=MANAGER_ID,
            public_key=public,
        )
    finally:
        store.close()


class Phones(threading.Thread):
    """The wallet owners: each step-up is approved (3 in 4) or refused, after a moment."""

    def __init__(self, w: World2, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.w, self.rng = w, rng
        self.stop = threading.Event()
        self.api = Api(client=httpx.Client(timeout=3), clock=SystemClock(), base=w.backend.url)

    def run(self) -> None:
        owners = self.w.wallets["new"] + self.w.wallets["rich_new"]
        with self.api.client:  # its connections close when the phones are put away
            while not self.stop.wait(1.0):
                for spec in owners:
                    # The backend may be away: the phone tries again next second.
                    with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                        self._answer(spec)

    def _answer(self, spec: dict[str, Any]) -> None:
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(spec["key_hex"]))
        signer = Signer(key=key, keyid=spec["device_id"], tag=httpsig.TAG_WALLET)
        resp = self.api.get(f"/v1/wallets/{spec['wallet_id']}/step-ups", signer=signer)
        for step in resp.json().get("step_ups", []):
            decision = "approve" if self.rng.random() < 0.75 else "deny"
            message = httpsig.step_up_message(
                step["challenge_id"], step["currency"], decision, step["sale_id"],
                step["store_id"], step["total"],
            )  # fmt: skip
            body = {"signature": keys.b64url_encode(key.sign(message))}
            self.api.post(f"/v1/step-ups/{step['challenge_id']}/{decision}", body, signer=signer)


def faults(w: World2, opts: Options, rng: random.Random) -> None:
    """Till kills and backend kills at random moments, one outage in the middle."""
    start = time.monotonic()
    kinds = ["till"] * opts.till_kills + ["backend"] * opts.backend_kills
    plan = [(rng.uniform(0.1, 0.9) * opts.duration_s, kind) for kind in kinds]
    plan.append((0.4 * opts.duration_s, "outage"))
    previous = 0.0
    for at, kind in sorted(plan):
        # Selling time between faults; a backend's restart does not eat into it.
        time.sleep(at - previous)
        previous = at
        if kind == "till":
            till = rng.choice(w.tills)
            till.kill()
            w.kills += 1
            w.events.append(f"{time.monotonic() - start:6.1f}s kill -9 {till.name}")
            time.sleep(rng.uniform(0.2, 2.0))
            till.start()
        else:
            w.backend.kill()
            w.kills += 1
            away = opts.outage_s if kind == "outage" else rng.uniform(0.5, 3.0)
            w.events.append(f"{time.monotonic() - start:6.1f}s kill -9 backend, away {away:.0f}s")
            time.sleep(away)
            began = time.monotonic()
            w.backend.start()
            w.events.append(f"{'':6s}  backend up again after {time.monotonic() - began:.1f}s")


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'backend' / 'backend.sqlite3'}"
        return
    url, schema = postgres_schema_url()
    try:
        yield url
    finally:
        drop_postgres_schema(schema)


@contextmanager
def workdir(kind: str, keep: str) -> Iterator[Path]:
    """A fresh directory for the run; kept under ``keep`` (logs, databases) when given."""
    if keep:
        path = Path(keep) / kind
        path.mkdir(parents=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=f"faults-{kind}-") as name:
        yield Path(name)


def run(kind: str, opts: Options) -> Counts:
    rng = random.Random(opts.seed)
    with workdir(kind, opts.keep) as tmp, database(kind, tmp) as db_url:
        data_dir = tmp / "backend"
        admin.init_backend(data_dir, db_url)
        backend = Backend(data_dir, db_url, opts.workers, opts.offline_after_s)
        backend.start()
        try:
            return _run(kind, opts, backend, tmp, rng)
        finally:
            backend.kill()


def _run(kind: str, opts: Options, backend: Backend, tmp: Path, rng: random.Random) -> Counts:
    began = time.monotonic()
    wallets, funded = make_wallets(backend)
    shared = tmp / "used-codes"
    shared.mkdir()
    stop = tmp / "stop-selling"
    tills = []
    for i in range(opts.tills):
        data_dir = tmp / f"till{i + 1}"
        enroll_till(backend, data_dir, f"T{i + 1:02d}")
        config = data_dir / "harness.json"
        conf = {
            "backend_url": backend.url,
            "root_key": str(backend.data_dir / "root_public.pem"),
            "data_dir": str(data_dir),
            "wallets": wallets,
            "shared_dir": str(shared),
            "stop_file": str(stop),
            "skew_s": opts.skew_s if i == opts.tills - 1 else 0,
            "offline_after_s": opts.offline_after_s,
            "manager": [MANAGER_ID, MANAGER_PASSPHRASE, MANAGER_KDF_N],
        }
        config.write_text(json.dumps(conf))
        config.chmod(0o600)  # wallet keys
        tills.append(Till(f"till{i + 1}", data_dir, config, seed=opts.seed + i))
    w = World2(backend, tills, wallets, funded)
    print(f"  [{kind}] set up in {time.monotonic() - began:.1f}s", file=sys.stderr)
    for till in tills:
        till.start()
    phones = Phones(w, rng)
    phones.start()
    _wait_ready(tills)
    faults(w, opts, rng)
    time.sleep(opts.duration_s * 0.1)  # the last stretch of selling, everything up
    stop.touch()
    stopped_at = time.time()
    drain_s = _drain(w, opts)
    phones.stop.set()
    phones.join()
    counts = reconcile(
        backend.data_dir,
        backend.db_url,
        backend.url,
        tills=[t.data_dir for t in tills],
        wallets=wallets,
        funded=funded,
    )
    counts.kills, counts.drain_s, counts.db = w.kills, drain_s, kind
    counts.drain_waits = [
        story for t in tills if (story := drain_story(t, stopped_at, DRAIN_NOTE_S)) is not None
    ]
    for line in w.events:
        print(f"  [{kind}] {line}", file=sys.stderr)
    return counts


def _wait_ready(tills: list[Till], timeout_s: float = 120) -> None:
    """The fault clock starts when every till is selling (a loaded machine imports slowly)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        logs = [(t.data_dir / "till.log").read_text(errors="replace") for t in tills]
        if all(log.count('"ready"') >= t.starts for log, t in zip(logs, tills, strict=True)):
            return
        time.sleep(0.2)


def _drain(w: World2, opts: Options) -> float:
    """Seconds until every till has sold its last sale and emptied its outbox."""
    start = time.monotonic()
    while time.monotonic() - start < opts.drain_timeout_s:
        if not any(t.alive for t in w.tills):
            return time.monotonic() - start
        time.sleep(0.5)
    for till in w.tills:
        till.kill()
    return time.monotonic() - start


DRAIN_NOTE_S = 3.0  # a till that takes longer than this to close says what it waited for


def drain_story(till: Till, stopped_at: float, note_s: float) -> str | None:
    """What a till waited for after selling stopped, read from its log (``fault_till``'s
    JSON lines): its last sale, then its outbox's last open entries; None when it closed
    within ``note_s``."""
    lines = []
    for raw in (till.data_dir / "till.log").read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(raw))
    lines = [d for d in lines if isinstance(d, dict)]
    drained = next((d["drained"] for d in reversed(lines) if "drained" in d), None)
    if isinstance(drained, float) and drained - stopped_at <= note_s:
        return None
    closed = "never closed"
    if isinstance(drained, float):
        closed = f"closed at +{drained - stopped_at:.1f}s"
    parts = [f"{till.name} {closed}"]
    sold = [d for d in lines if "scenario" in d and "end" in d]
    selling = next((d["stopped"] for d in reversed(lines) if "stopped" in d), None)
    if sold and isinstance(selling, float) and selling - stopped_at > note_s:
        last = sold[-1]
        parts.append(
            f"its last sale ({last['scenario']}, {last['phase']}, {last['s']}s) ended"
            f" at +{last['end'] - stopped_at:.1f}s"
        )
    # A line is printed only when the open entries change: the state at the stop is the
    # last line before it.
    traces = [d for d in lines if "outbox" in d]
    before = [d for d in traces if d["outbox"] <= stopped_at]
    traces = before[-1:] + [d for d in traces if d["outbox"] > stopped_at]
    waited = [d for d in traces if d["open"]]
    if waited:
        first, last = waited[0], waited[-1]
        parts.append(f"outbox at the stop: {_entries(first)}")
        if last is not first:
            parts.append(f"last open at +{last['outbox'] - stopped_at:.1f}s: {_entries(last)}")
    return "; ".join(parts)


def _entries(trace: dict[str, Any]) -> str:
    """The open entries of one trace line: kind, state, attempts, due, what it waits for."""
    now = int(trace["now"])
    out = []
    for e in trace["open"]:
        text = f"#{e['id']} {e['kind']} {e['sale']} {e['state']} attempts={e['attempts']}"
        text += f" due in {e['due'] - now}s"
        if e.get("token_exp"):
            text += f" token_exp in {int(e['token_exp']) - now}s"
        if e.get("error"):
            text += f" ({e['error']})"
        why = _why(e, now)
        out.append(f"{text}: {why}" if why else text)
    more = f" +{trace['more']} more" if trace.get("more") else ""
    return ", ".join(out) + more + f" [{trace.get('blocked_by')}]"


def _why(entry: dict[str, Any], now: int) -> str:
    """What an open entry waits for, in the outbox's terms (sync/outbox.py)."""
    error, due = str(entry.get("error") or ""), int(entry["due"])
    if error.startswith("the backend has no record"):
        # RECONCILE_MARGIN_S + the verifier's skew: when a request never received can no
        # longer land; the documented wait of that sale alone (docs/TERMINAL.md, outbox).
        last = int(entry.get("token_exp") or 0) + 90
        return f"a sale the backend never received: given up at token_exp + 90 s (in {last - now}s)"
    if error.startswith("the sale still waits for the customer"):
        return "the owner's decision (the step-up window)"
    if error.startswith("backend unreachable") or "no answer" in error:
        if due > now:  # before the outbox waited for the link: the entry's own backoff
            return "a backoff grown while the backend was unreachable"
        return "the backend (unreachable at the last try)"
    if entry["kind"] in ("cancel", "void") and entry["attempts"] == 0 and due > now:
        return "held for the cashier's own request (60 s)"
    return "its backoff" if due > now else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", choices=("sqlite", "postgres"))
    parser.add_argument("--duration", type=float, default=Options.duration_s)
    parser.add_argument("--outage", type=float, default=Options.outage_s, help="seconds away")
    parser.add_argument("--tills", type=int, default=Options.tills)
    parser.add_argument("--workers", type=int, default=Options.workers)
    parser.add_argument("--till-kills", type=int, default=Options.till_kills)
    parser.add_argument("--backend-kills", type=int, default=Options.backend_kills)
    parser.add_argument("--skew", type=int, default=Options.skew_s)
    parser.add_argument(
        "--offline-after",
        type=int,
        default=Options.offline_after_s,
        help="seconds of silence before the tills accept offline (and the backend's contact_slack)",
    )
    parser.add_argument("--drain-timeout", type=float, default=Options.drain_timeout_s)
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--keep", default="", help="keep logs and databases under this dir")
    parser.add_argument("--json", action="store_true")
    a = parser.parse_args()
    opts = Options(
        duration_s=a.duration,
        outage_s=a.outage,
        tills=a.tills,
        workers=a.workers,
        till_kills=a.till_kills,
        backend_kills=a.backend_kills,
        skew_s=a.skew,
        offline_after_s=a.offline_after,
        drain_timeout_s=a.drain_timeout,
        seed=a.seed,
        keep=a.keep,
    )
    results = [run(kind, opts) for kind in a.db or ["sqlite", "postgres"]]
    for counts in results:
        print(counts.line())
    if a.json:
        print(json.dumps([asdict(c) for c in results]))
    return 0 if all(c.clean for c in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

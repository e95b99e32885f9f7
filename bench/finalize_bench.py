"""Finalize throughput and latency of the reference backend, beside a trivial endpoint.

Starts ``pos-app backend serve`` as a separate process on loopback (so client
and server do not share a GIL), enrolls N terminals, pre-mints the tokens,
then N threads (one per terminal) post their sales as fast as answers come
back. The same threads then hit ``GET /healthz`` as many times: the ratio of
the two shows what signature checks, PT1 re-verification, risk features,
redemption and the ledger cost.

    .venv/bin/python -m bench.finalize_bench --db sqlite --db postgres --terminals 8 --sales 40
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pos_app.server import admin
from pos_app.server.clock import SystemClock
from pos_app.server.runner import free_port
from tests.server.server_support import (
    Api,
    World,
    drop_postgres_schema,
    enroll_terminal,
    postgres_schema_url,
)

SALES_PER_WALLET = 4


def tree_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds (user, system) used so far by *pid* and its descendants (Linux /proc).

    The server's own CPU per request does not depend on what else the machine runs,
    unlike wall-clock throughput: on a loaded box it is the figure to compare.
    """
    user = system = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pending = [pid]
    while pending:
        p = pending.pop()
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            user += int(fields[11]) / tick
            system += int(fields[12]) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return user, system


@dataclass(frozen=True)
class Result:
    label: str
    count: int
    seconds: float
    latencies: list[float]
    statuses: dict[str, int]
    server_cpu: float = 0.0
    server_sys: float = 0.0  # the part of server_cpu spent in the kernel
    client_cpu: float = 0.0  # this process (the 16 terminals' signing and HTTP), seconds
    warm: tuple[float, ...] = ()  # latencies without each terminal's first request

    @property
    def client_ms(self) -> float:
        """The load generator's own CPU per request, milliseconds (same cores as the server)."""
        return 1000 * self.client_cpu / self.count

    @property
    def cpu_ms(self) -> float:
        """Server CPU per request, milliseconds."""
        return 1000 * self.server_cpu / self.count

    @property
    def throughput(self) -> float:
        return self.count / self.seconds

    def pct(self, q: float, *, warm: bool = False) -> float:
        ordered = sorted(self.warm if warm else self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_server(
    data_dir: Path, db_url: str, workers: int, phases: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """*phases*: serve through ``bench/phase_probe.py``, which writes the finalize run's
    thread CPU per phase to that file (one worker: the probe is in the serving process)."""
    port = free_port()
    launcher = ["bench.phase_probe", phases] if phases else ["pos_app"]
    cmd = [
        sys.executable,
        "-m",
        *launcher,
        "backend",
        "serve",
        "--data-dir",
        str(data_dir),
        "--db",
        db_url,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    # Preparing the run creates a wallet per four sales from one address, beyond the
    # per-address limit on unauthenticated wallet creation: the bench lifts that limit only
    # (a server setting, from the environment); every other limit stays in force.
    env = {**os.environ, "POS_APP_SERVER_ADDRESS_LIMIT_PER_MINUTE": "0"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def prepare(
    base: str, data_dir: Path, db_url: str, terminals: int, sales: int
) -> list[tuple[World, list[dict[str, Any]]]]:
    plans = []
    client = httpx.Client(timeout=60)
    for t in range(terminals):
        ticket = admin.create_terminal(data_dir, db_url, store_id=f"S{t:03d}", terminal_id="T01")
        api = Api(client=client, clock=SystemClock(), base=base)
        world = World(
            api=api, terminal=enroll_terminal(api, ticket["enrollment_code"]), store_id=f"S{t:03d}"
        )
        bodies = []
        wallet = None
        for i in range(sales):
            if i % SALES_PER_WALLET == 0:
                wallet = world.new_wallet(balance=100_000)
            assert wallet is not None
            bodies.append(world.sale_body(world.token(wallet)))
        plans.append((world, bodies))
    return plans


def run(
    label: str,
    plans: list[tuple[World, list[dict[str, Any]]]],
    request: Callable[[Api, World, dict[str, Any]], str],
    server_pid: int,
) -> Result:
    latencies: list[float] = []
    warm: list[float] = []  # a terminal's first request opens its connection, and the
    # server's first for a terminal (per worker) takes the portable path and a new
    # database connection: 16 of 960 requests, enough to be the whole p99 by themselves
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(len(plans) + 1)

    def worker(world: World, bodies: list[dict[str, Any]]) -> None:
        with httpx.Client(timeout=60) as client:
            api = Api(client=client, clock=world.api.clock, base=world.api.base)
            barrier.wait()
            for n, body in enumerate(bodies):
                start = time.perf_counter()
                status = request(api, world, body)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    warm.extend([elapsed] if n else [])
                    statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker, args=plan) for plan in plans]
    for th in threads:
        th.start()
    barrier.wait()
    (user0, sys0), start = tree_cpu(server_pid), time.perf_counter()
    client0 = time.process_time()
    for th in threads:
        th.join()
    elapsed, (user1, sys1) = time.perf_counter() - start, tree_cpu(server_pid)
    client = time.process_time() - client0
    cpu, system = user1 - user0 + sys1 - sys0, sys1 - sys0
    return Result(
        label, len(latencies), elapsed, latencies, statuses, cpu, system, client, tuple(warm)
    )


def finalize(api: Api, world: World, body: dict[str, Any]) -> str:
    resp = api.post("/v1/sales", body, signer=world.terminal)
    return (
        resp.json().get("status", str(resp.status_code))
        if resp.status_code == 200
        else str(resp.status_code)
    )


def trivial(api: Api, world: World, body: dict[str, Any]) -> str:
    return str(api.client.get(api.base + "/healthz").status_code)


def profiler(pid: int, out: str, rate: int = 200) -> subprocess.Popen[bytes]:
    """py-spy (``pip install py-spy``) sampling the server and its workers, collapsed stacks.

    ``--gil``: only the thread holding the GIL is sampled (threads waiting for it or for
    the database would otherwise show as busy in whatever frame they wait)."""
    spy = Path(sys.executable).parent / "py-spy"
    cmd = [str(spy), "record", "--format", "raw", "-r", str(rate), "--subprocesses", "--gil"]
    proc = subprocess.Popen(
        [*cmd, "-o", out, "--pid", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(1.0)  # attached before the first request
    return proc


def bench(kind: str, args: argparse.Namespace) -> list[Result]:
    schema = None
    if kind == "postgres":
        db_url, schema = postgres_schema_url()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "backend"
        if kind == "sqlite":
            db_url = f"sqlite:///{data_dir / 'backend.sqlite3'}"
        admin.init_backend(data_dir, db_url)
        phases = f"{args.phases}.{kind}.txt" if args.phases else None
        proc, base = start_server(data_dir, db_url, args.workers, phases)
        try:
            plans = prepare(base, data_dir, db_url, args.terminals, args.sales)
            # Each run sampled on its own (PREFIX.<db>.txt, PREFIX.<db>.healthz.txt); the
            # CPU figures of a sampled run include the sampling.
            results = []
            for label, request, suffix in (
                ("finalize", finalize, ""),
                ("/healthz", trivial, ".healthz"),
            ):
                out = f"{args.py_spy}.{kind}{suffix}.txt"
                spy = profiler(proc.pid, out, args.py_spy_rate) if args.py_spy else None
                probe = phases is not None and request is finalize
                if probe:
                    proc.send_signal(signal.SIGUSR1)  # the probe counts from here
                results.append(run(f"{kind} {label}", plans, request, proc.pid))
                if probe:
                    proc.send_signal(signal.SIGUSR2)  # and writes its figures
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=60)
            ledger = admin.check_ledger(data_dir, db_url)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            if schema:
                drop_postgres_schema(schema)
    print(f"# {kind}: ledger ok={ledger['ok']} entries={ledger['journal_entries']}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", choices=("sqlite", "postgres"))
    parser.add_argument("--terminals", type=int, default=8)
    parser.add_argument("--sales", type=int, default=40, help="sales per terminal")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--py-spy",
        metavar="PREFIX",
        help="profile the server with py-spy (pip install py-spy): PREFIX.<db>.txt, raw stacks"
        " (PREFIX.<db>.healthz.txt for the trivial run); bench/profile_breakdown.py reads them",
    )
    parser.add_argument("--py-spy-rate", type=int, default=200, help="samples per second")
    parser.add_argument(
        "--phases",
        metavar="PREFIX",
        help="thread CPU per phase of the finalize run (bench/phase_probe.py; 1 worker):"
        " PREFIX.<db>.txt",
    )
    args = parser.parse_args()
    if args.phases and args.workers != 1:
        parser.error("--phases needs --workers 1 (the probe lives in the serving process)")
    results: list[Result] = []
    for kind in args.db or ["sqlite", "postgres"]:
        results.extend(bench(kind, args))
    print(f"{args.terminals} concurrent terminals x {args.sales} requests each,", end=" ")
    print(f"server workers={args.workers}")
    print(
        f"{'run':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>7} {'sys':>4}"
        f" {'warm p99':>8} {'client ms':>9}  statuses"
    )
    for r in results:
        print(
            f"{r.label:24} {r.throughput:8.1f} {r.pct(0.5):8.1f} {r.pct(0.99):8.1f}"
            f" {r.cpu_ms:7.2f} {r.server_sys / max(r.server_cpu, 1e-9):4.0%}"
            f" {r.pct(0.99, warm=True):8.1f} {r.client_ms:9.2f}  {r.statuses}"
        )
    print(
        "(cpu ms: server CPU per request; warm p99: without each terminal's first request;"
        " client ms: this process's CPU per request, on the same cores)"
    )
    for fin, triv in zip(results[::2], results[1::2], strict=True):
        ratio = triv.throughput / fin.throughput
        cpu_ratio = fin.cpu_ms / triv.cpu_ms
        print(
            f"{fin.label.split()[0]}: a finalize costs {ratio:.1f}x a trivial request"
            f" in throughput, {cpu_ratio:.1f}x in server CPU"
            f" ({fin.cpu_ms:.2f} ms vs {triv.cpu_ms:.2f} ms)"
        )
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "run": r.label,
                        "rps": r.throughput,
                        "p50_ms": r.pct(0.5),
                        "p99_ms": r.pct(0.99),
                        "p99_warm_ms": r.pct(0.99, warm=True),
                        "client_cpu_ms": r.client_ms,
                        "server_cpu_ms": r.cpu_ms,
                    }
                    for r in results
                ]
            )
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())

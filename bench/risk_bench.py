"""Risk engine benchmarks (not a test).

1. Latency of one decision: ``RiskEngine.decide`` on representative baskets, in
   the terminal context and in the backend context (with the tracker's
   ``context_for``). CPU time per decision is reported beside wall-clock
   percentiles, because on a shared machine the wall clock mostly measures the
   other jobs.
2. Backtest throughput and memory: generate a synthetic sales log of N events
   (default 1,000,000: a store network at ~8,300 events a day, so 120 days and
   the 35-day windows evict), run ``pos-app risk backtest`` on it in a child
   process, and report wall and CPU time and the child's peak RSS; a run half as
   long (same rate) shows whether memory grows with the length of the log.

    .venv/bin/python -m bench.risk_bench                 # both
    .venv/bin/python -m bench.risk_bench --latency-only
    .venv/bin/python -m bench.risk_bench --events 200000 --sizes 50000,200000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pos_app.core.api_contract import SaleLineBody
from pos_app.core.categories import Category
from pos_app.core.risk.config import default_rules
from pos_app.core.risk.engine import RiskEngine
from pos_app.core.risk.model import RiskContext, SaleFacts, SaleLine, TokenFlag
from pos_app.core.risk.velocity import TerminalTracker, VelocityTracker

ROOT = Path(__file__).resolve().parent.parent

T0 = 1_790_000_000
PRODUCTS = [
    ("food", 150, 700),
    ("beverage", 100, 300),
    ("household", 200, 1500),
    ("tobacco", 520, 620),
    ("heated_tobacco", 530, 580),
    ("alcohol", 200, 3000),
    ("gift_card", 1000, 10000),
    ("electronics", 500, 4000),
    ("heated_tobacco", 5300, 5800),
]
WEIGHTS = [40, 30, 8, 8, 5, 5, 1, 2, 1]


def _line(cat: str, qty: int, price: int) -> SaleLine:
    return SaleLine(f"{cat}-{price}", Category(cat), qty, price, qty * price)


def _samples() -> list[SaleFacts]:
    baskets = [
        [("food", 1, 650), ("beverage", 1, 150)],
        [("heated_tobacco", 1, 5800), ("food", 2, 200)],
        [("heated_tobacco", 16, 5800)],
        [("food", 30, 650), ("beverage", 30, 130)],
        [("gift_card", 2, 10000), ("tobacco", 10, 600), ("alcohol", 3, 2500)],
    ]
    return [
        SaleFacts(
            sale_id=f"b-{i}",
            time=T0,
            lines=tuple(_line(*x) for x in b),
            total=sum(q * p for _, q, p in b),
            token_flags=TokenFlag.NEW_DEVICE if i % 2 else 0,
            token_age_s=10,
            store_id="S1",
            terminal_id="T1",
            wallet_id="w-1",
            device_id="d",
            store_region="JP-13",
        )
        for i, b in enumerate(baskets)
    ]


def latency(iterations: int = 20_000) -> None:
    rules = default_rules()
    engine = RiskEngine(rules)
    velocity, till = VelocityTracker(rules), TerminalTracker(rules)
    for n in range(40):  # some history for the backend features
        sale = _samples()[n % 5]
        velocity.record_sale(
            SaleFacts(**{**_fields(sale), "time": T0 - n * 3600, "sale_id": f"h{n}"})
        )
    terminal_ctx = RiskContext(terminal_wallets_30m=(("w-2", 6000),), terminal_declines_10m=0)
    for sale in _samples():
        backend_ctx = velocity.context_for(sale, till.context_for(sale))
        for label, fn in (
            ("terminal decide", lambda s=sale: engine.decide(s, terminal_ctx)),
            ("backend decide", lambda s=sale, c=backend_ctx: engine.decide(s, c)),
            (
                "backend features+decide",
                lambda s=sale: engine.decide(s, velocity.context_for(s, till.context_for(s))),
            ),
        ):
            cpu_start = time.process_time_ns()
            us = _time_us(fn, iterations)
            cpu_us = (time.process_time_ns() - cpu_start) / 1000 / iterations
            print(
                f"{sale.sale_id} {len(sale.lines)} lines {label:24s} CPU/decision {cpu_us:6.1f} us"
                f"  wall median {statistics.median(us):6.1f} us  p99 {_p99(us):7.1f} us"
            )


def _fields(sale: SaleFacts) -> dict[str, Any]:  # SaleFacts's keyword arguments
    return {name: getattr(sale, name) for name in SaleFacts.__slots__}


def _time_us(fn: object, iterations: int) -> list[float]:
    assert callable(fn)
    out = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def _p99(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.99)]


def generate(path: Path, events: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    stores = [(f"S{n:03d}", f"JP-{rng.choice([11, 13, 14, 23, 27, 40]):02d}") for n in range(200)]
    # A fixed rate (about 8,300 events a day), so a longer log means more days, not
    # denser days: memory should stop growing once the 35-day windows are full.
    span = events * 120 * 86_400 // 1_000_000
    with path.open("w", encoding="utf-8") as out:
        for i in range(events):
            t = T0 + i * span // events
            wallet = f"w-{rng.randrange(150_000)}"
            if rng.random() < 0.12:
                amount = rng.choice([1000, 3000, 5000, 10000, 30000, 100000])
                out.write(json.dumps({"type": "top_up", "time": t, "wallet_id": wallet,
                                      "amount": amount}) + "\n")  # fmt: skip
                continue
            store, region = rng.choice(stores)
            lines: list[SaleLineBody] = []
            for _ in range(rng.randint(1, 5)):
                cat, low, high = rng.choices(PRODUCTS, WEIGHTS)[0]
                qty = rng.choice([1, 1, 1, 2, 3, 10]) if cat != "gift_card" else 1
                price = rng.randrange(low, high + 1, 10)
                lines.append({"sku": f"49{rng.randrange(10**11):011d}", "name": cat,
                              "category": cat, "quantity": qty, "unit_price": price,
                              "line_total": qty * price})  # fmt: skip
            sale = {
                "type": "sale", "time": t, "sale_id": f"s-{i}", "store_id": store,
                "terminal_id": f"T0{rng.randint(1, 3)}", "cashier_id": "C1", "wallet_id": wallet,
                "device_id": f"d{wallet[2:]}", "token_flags": rng.choice([0] * 8 + [1, 16]),
                "token_age_s": rng.randint(1, 90), "offline": rng.random() < 0.01,
                "pickup_later": False, "store_region": region, "currency": "JPY",
                "total": sum(x["line_total"] for x in lines), "lines": lines,
                "label": "fraud" if rng.random() < 0.002 else "legit",
            }  # fmt: skip
            out.write(json.dumps(sale) + "\n")


def backtest_run(path: Path) -> tuple[float, float, float, dict[str, object]]:
    """Run the CLI in a child; return (wall s, CPU s, child peak RSS in MiB, summary)."""
    cmd = [sys.executable, "-m", "pos_app", "risk", "backtest", "--events", str(path),
           "--out", "/dev/null"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu, after.ru_maxrss / 1024, json.loads(done.stdout.splitlines()[-1])


def throughput(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for size in sorted(sizes):  # RUSAGE_CHILDREN is a running max: smallest first
            path = Path(tmp) / f"events-{size}.jsonl"
            start = time.perf_counter()
            generate(path, size)
            made = time.perf_counter() - start
            seconds, cpu, rss, summary = backtest_run(path)
            print(
                f"{size:>9,} events ({path.stat().st_size / 2**20:.0f} MiB, generated in "
                f"{made:.0f} s): backtest wall {seconds:.1f} s, CPU {cpu:.1f} s "
                f"= {size / cpu:,.0f} events per CPU-second, "
                f"peak RSS so far {rss:.0f} MiB, sales {summary['sales']:,}, "
                f"actions {summary['actions']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--sizes", default="500000,1000000", help="comma-separated event counts")
    args = parser.parse_args()
    latency()
    if not args.latency_only:
        throughput([int(x) for x in args.sizes.split(",")])


if __name__ == "__main__":
    main()

"""The tuning and check splits of the 14-day log, replayed cold and warm (not a test).

    .venv/bin/python -m bench.risk_splits --events ../shared/benchdata/risk/public-events-14d.jsonl
    .venv/bin/python -m bench.risk_splits --events ... --role tune   # tuning rows only
    .venv/bin/python -m bench.risk_splits --events ... --engine terminal --write-dir /tmp/splits

A split is cut from the log by JST day (``(time + 9 h) // 1 day``, day 1 being the
log's first) and by store number; every top-up goes with every split (top-ups
carry no store). Each split is replayed twice:

- cold: from an empty history, every sale scored (a held-back week replayed alone);
- warm: the same sales, with the log's earlier days replayed first as history only
  (``pos-app risk backtest --score-from``: decided, answered by the replay's people
  and remembered, not scored), the way a live backend has seen the weeks before.

Cold and warm score the same sales. Rows ``tune`` (stores S001-S010, days 1-9:
every rule change is judged there) and ``check`` (never tuned on: later days, other
stores, both); ``--role tune`` replays only the tuning rows, so trying a change
never shows the check splits. ``--write-dir`` also writes each split's file (all its days) and
prints the ``pos-app risk backtest`` command of its warm figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pos_app import risk_cli  # noqa: E402
from pos_app.core.risk.backtest import Backtest  # noqa: E402
from pos_app.core.risk.config import RuleSet, load_rules  # noqa: E402

DAY = 86_400
JST = 9 * 3600
Keep = Callable[[int, int | None], bool]  # (day, store number or None) -> in the split

# name: (which events, first scored day). Cold: only the scored days, from an empty
# history. Warm: the split's earlier days first, as history only.
SPLITS: dict[str, tuple[Keep, int]] = {
    "tune: days 1-9, S001-S010": (lambda d, s: d <= 9 and (s is None or s <= 10), 1),
    "tune: days 5-9, S001-S010": (lambda d, s: d <= 9 and (s is None or s <= 10), 5),
    "check: days 10-14, all stores": (lambda d, s: True, 10),
    "check: S011-S020, all days": (lambda d, s: s is None or s > 10, 1),
    "check: S011-S020, days 10-14": (lambda d, s: s is None or s > 10, 10),
}


def cut(lines: list[str]) -> tuple[dict[str, list[str]], int]:
    """Each split's lines (cold: only its own days) and the log's first JST day."""
    first: int | None = None
    out: dict[str, list[str]] = {name: [] for name in SPLITS}
    for text in lines:
        event = json.loads(text)
        day = (event["time"] + JST) // DAY
        first = day if first is None else first
        number = int(event["store_id"][1:]) if "store_id" in event else None
        for name, (keep, _) in SPLITS.items():
            if keep(day - first + 1, number):
                out[name].append(text)
    assert first is not None
    return out, first


def replay(rules: RuleSet, engine: str, lines: list[str], score_from: int | None) -> str:
    import contextlib

    with contextlib.ExitStack() as stack:
        bt = Backtest(
            rules,
            emit=lambda d: None,
            report=lambda n, p: None,
            replay=risk_cli._engine(engine, rules, stack),
            score_from=score_from,
        )
        bt.feed(lines)
    s = bt.ours.as_dict()
    return (
        f"{s['fraud_value_stopped_share']:7.2%} {s['legit_friction_share']:6.2%} "
        f"({s['legit_friction']:4d}/{s['legit_sales']:5d}) {s['legit_value_declined']:3d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--rules", type=Path, default=ROOT / "config" / "risk.toml")
    parser.add_argument("--engine", choices=risk_cli.ENGINES, default="default")
    parser.add_argument("--write-dir", type=Path, help="also write each split's events here")
    parser.add_argument(
        "--role", choices=("tune", "check"), help="only the rows of this role (default: all)"
    )
    args = parser.parse_args()
    rules = load_rules(args.rules)
    lines = [t for t in args.events.read_text(encoding="utf-8").splitlines() if t.strip()]
    splits, first = cut(lines)
    print(f"engine {args.engine}, rules {rules.version}")
    print(f"{'split':30s} {'cold: stopped friction (n) declined yen':34s} warm: the same")
    for name, (_, from_day) in SPLITS.items():
        if args.role and not name.startswith(args.role + ":"):
            continue
        started = time.process_time()
        score_from = (first + from_day - 1) * DAY - JST
        scored = [t for t in splits[name] if json.loads(t)["time"] >= score_from]
        cold = replay(rules, args.engine, scored, None)
        warm = "(no earlier days)"
        if from_day > 1:
            warm = replay(rules, args.engine, splits[name], score_from)
        print(f"{name:30s} {cold:34s} {warm}   ({time.process_time() - started:.0f} CPU-s)")
        if args.write_dir:
            args.write_dir.mkdir(parents=True, exist_ok=True)
            slug = name.split(": ")[1].replace(", ", "-").replace(" ", "")
            path = args.write_dir / f"{slug}.jsonl"
            path.write_text("\n".join(splits[name]) + "\n", encoding="utf-8")
            extra = f" --score-from {score_from}" if from_day > 1 else ""
            print(f"  pos-app risk backtest --engine {args.engine} --events {path}{extra}")


if __name__ == "__main__":
    main()

"""Backtest speed in events per CPU-second (not a test).

Replays a log through ``pos-app risk backtest`` (default engine, decisions
written to a scratch file) in this process and reports CPU time
(``time.process_time``), which a loaded machine inflates far less than wall
time. ``--baseline ROOT`` runs the same in a child process against another
source tree (e.g. ``git archive <commit> pos_app | tar -x -C /tmp/old``),
alternating with this tree, so both see the same load.

    .venv/bin/python -m bench.risk_speed --events ../shared/benchdata/risk/public-events-14d.jsonl
    .venv/bin/python -m bench.risk_speed --events FILE --baseline /tmp/old --rounds 2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import contextlib, io, sys, time
sys.path.insert(0, sys.argv[1])
from pos_app.cli import main
t = time.process_time()
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["risk", "backtest", "--events", sys.argv[2], "--out", sys.argv[3]])
assert code == 0, code
print(time.process_time() - t)
"""


def cpu_seconds(root: Path, events: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(root), str(events), str(Path(tmp) / "d.jsonl")],
            check=True,
            capture_output=True,
            text=True,
        )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--baseline", type=Path, help="another source tree to compare with")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with args.events.open(encoding="utf-8") as handle:
        events = sum(1 for line in handle if line.strip())
    trees = [("this tree", ROOT)] + ([("baseline", args.baseline)] if args.baseline else [])
    for n in range(args.rounds):
        for name, root in trees:
            cpu = cpu_seconds(root, args.events)
            print(
                f"round {n + 1} {name:9s}: {events:,} events in {cpu:.2f} CPU-s = "
                f"{events / cpu:,.0f} events per CPU-second"
            )


if __name__ == "__main__":
    main()

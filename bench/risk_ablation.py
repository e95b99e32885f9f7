"""How much each rule and each context contributes, on a labelled log (not a test).

    .venv/bin/python -m bench.risk_ablation --events ../shared/benchdata/risk/public-events.jsonl

Prints fraud value stopped / legit friction for: the shipped rule set; the
terminal context alone (no backend features); and the rule set with each rule
disabled in turn. A rule whose removal changes nothing on this log is not
necessarily useless: it may cover a pattern the log does not contain.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from pos_app.core.risk.backtest import Backtest
from pos_app.core.risk.config import RuleSet, parse_rules
from pos_app.terminal.risk_replay import TillReplay

ROOT = Path(__file__).resolve().parent.parent


def run(rules: RuleSet, events: Path, *, terminal_only: bool = False) -> str:
    # terminal_only: the till deciding alone (pos-app risk backtest --engine terminal).
    replay = TillReplay(rules) if terminal_only else None
    bt = Backtest(rules, emit=lambda d: None, report=lambda n, p: None, replay=replay)
    with events.open(encoding="utf-8") as handle:
        bt.feed(handle)
    s = bt.ours.as_dict()
    return (
        f"fraud value stopped {s['fraud_value_stopped_share']:.2%}  "
        f"legit friction {s['legit_friction_share']:.2%} ({s['legit_friction']})  "
        f"legit declined {s['legit_declined']}"
    )


def disabled(text: str, code: str) -> str:
    head, _, tail = text.partition(f"[rules.{code}]\n")
    return (
        head
        + f"[rules.{code}]\n"
        + re.sub(r"(?m)^enabled = true$", "enabled = false", tail, count=1)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--rules", type=Path, default=ROOT / "config" / "risk.toml")
    args = parser.parse_args()
    text = args.rules.read_text(encoding="utf-8")
    rules = parse_rules(text)
    print(f"{'shipped rule set':36s} {run(rules, args.events)}")
    print(f"{'terminal context only':36s} {run(rules, args.events, terminal_only=True)}")
    for spec in rules.rules:
        variant = parse_rules(disabled(text, spec.code))
        print(f"{'without ' + spec.code:36s} {run(variant, args.events)}")


if __name__ == "__main__":
    main()

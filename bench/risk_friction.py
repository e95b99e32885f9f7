"""Where the legit friction and the missed fraud of a split come from (not a test).

    .venv/bin/python -m bench.risk_friction --events FILE   # the tuning split, cold
    .venv/bin/python -m bench.risk_friction --events FILE --split "tune: days 5-9, S001-S010"

Replays one split of ``bench.risk_splits`` (default: the tuning split, cold and,
when it has earlier days, warm) through the default engine and prints, for the
legit sales that were not allowed: the rules that fired together, the wallet's
history when it happened (payments in its 35-day window), the kind of
easy-to-resell goods in the basket; and the same for the fraud that was allowed.
The label only sorts the sales into these tables.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from bench.risk_splits import DAY, JST, ROOT, SPLITS, cut
from pos_app.core.risk.backtest import Backtest, Replay
from pos_app.core.risk.config import RuleSet, load_rules
from pos_app.core.risk.model import Action, Decision, SaleFacts
from pos_app.core.risk.rules import basket_of


class _Recorder(Replay):
    """The default engine, keeping what each decided sale looked like."""

    def __init__(self, rules: RuleSet) -> None:
        super().__init__(rules)
        self.rows: list[tuple[int, str | None, Action, tuple[str, ...], int, str, int]] = []

    def sale(self, facts: SaleFacts, label: str | None = None, *, full: bool = False) -> Decision:
        history = self.velocity.features_for(facts)["wallet_history_sales"]
        decision = super().sale(facts, label, full=full)
        basket = basket_of(facts, self.rules.policy)
        kinds = {str(line.category) for line in facts.lines} & set(
            self.rules.policy.cash_convertible
        )
        self.rows.append(
            (
                facts.time,
                label,
                decision.action,
                decision.codes,
                history,
                _kind(kinds),
                basket.cash_convertible,
            )
        )
        return decision


def _kind(kinds: set[str]) -> str:
    if not kinds:
        return "none"
    if kinds <= {"tobacco", "heated_tobacco", "e_cig"}:
        return "tobacco family"
    if kinds == {"gift_card"}:
        return "gift cards"
    if kinds <= {"alcohol", "electronics"}:
        return "alcohol/electronics"
    return "mixed"


def _history(n: int) -> str:
    return "0 (first in window)" if n == 0 else "1-2" if n < 3 else "3-9" if n < 10 else "over 9"


def report(
    title: str, rows: list[tuple[int, str | None, Action, tuple[str, ...], int, str, int]]
) -> None:
    legit = [r for r in rows if r[1] != "fraud"]
    friction = [r for r in legit if r[2] is not Action.ALLOW]
    missed = [r for r in rows if r[1] == "fraud" and r[2] is Action.ALLOW]
    print(
        f"== {title}: {len(friction)} of {len(legit)} legit sales asked, "
        f"{len(missed)} fraud sales allowed"
    )
    print("  legit friction by rules fired together:")
    for codes, n in Counter(r[3] for r in friction).most_common(12):
        print(f"    {n:5d}  {' + '.join(codes)}")
    print("  legit friction by wallet history (payments in its window) and goods:")
    for key, n in sorted(Counter((_history(r[4]), r[5]) for r in friction).items()):
        print(f"    {n:5d}  {key[0]:20s} {key[1]}")
    print("  fraud allowed by wallet history and goods (sales, yen of easy-to-resell goods):")
    value: Counter[tuple[str, str]] = Counter()
    count: Counter[tuple[str, str]] = Counter()
    for r in missed:
        count[(_history(r[4]), r[5])] += 1
        value[(_history(r[4]), r[5])] += r[6]
    for key in sorted(count):
        print(f"    {count[key]:5d}  {value[key]:9,d}  {key[0]:20s} {key[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--rules", type=Path, default=ROOT / "config" / "risk.toml")
    parser.add_argument("--split", default="tune: days 1-9, S001-S010", choices=list(SPLITS))
    args = parser.parse_args()
    rules = load_rules(args.rules)
    lines = [t for t in args.events.read_text(encoding="utf-8").splitlines() if t.strip()]
    splits, first = cut(lines)
    from_day = SPLITS[args.split][1]
    score_from = (first + from_day - 1) * DAY - JST
    scored = [t for t in splits[args.split] if json.loads(t)["time"] >= score_from]
    runs: list[tuple[str, list[str], int | None]] = [("cold", scored, None)]
    if from_day > 1:
        runs.append(("warm", splits[args.split], score_from))
    print(f"rules {rules.version}, split {args.split!r}")
    for name, events, since in runs:
        replay = _Recorder(rules)
        bt = Backtest(
            rules, emit=lambda d: None, report=lambda n, p: None, replay=replay, score_from=since
        )
        bt.feed(events)
        kept = [r for r in replay.rows if since is None or r[0] >= since]
        report(name, kept)


if __name__ == "__main__":
    main()

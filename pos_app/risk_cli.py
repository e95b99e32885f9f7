"""``pos-app risk backtest`` and ``pos-app risk explain``.

Only argparse work happens at import time; the engines are imported in handlers.
It lives at the package top because its engines span layers: ``default`` is the
in-memory replay (``pos_app.core.risk.backtest``), ``backend`` the reference
backend's own code on a scratch database (``pos_app.server.risk_replay``),
``terminal`` the till deciding alone (``pos_app.terminal.risk_replay``).
Exit codes: 0 ok, 2 usage or configuration error (bad rule file, unreadable
events file, unknown sale, an engine whose libraries are not installed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pos_app.core.risk.backtest import Engine
    from pos_app.core.risk.config import RuleSet

EXIT_OK = 0
EXIT_USAGE = 2
ENGINES = ("default", "backend", "terminal")


def register(subparsers: Any) -> None:
    risk = subparsers.add_parser("risk", help="risk rules: backtest a sales log, explain a sale")
    sub = risk.add_subparsers(dest="risk_command", metavar="RISK_COMMAND", required=True)

    backtest = sub.add_parser(
        "backtest",
        help="replay a sales log; one decision per sale; summary as the last stdout line",
    )
    backtest.add_argument("--events", required=True, help="sales log, JSON lines")
    backtest.add_argument("--rules", help="rule file (default: the shipped config/risk.toml)")
    backtest.add_argument("--out", help="write decisions here instead of stdout")
    backtest.add_argument(
        "--engine",
        choices=ENGINES,
        default="default",
        help="default: fast in-memory replay of till + backend; backend: the backend's own "
        "feature reads and decision on a scratch database; terminal: the till alone, offline",
    )
    backtest.add_argument(
        "--score-from",
        type=_instant,
        metavar="TIME",
        help="Unix seconds or ISO 8601 with a UTC offset (2026-07-15T00:00+09:00): earlier "
        "sales are replayed as history only (decided and remembered, not written or scored)",
    )
    backtest.set_defaults(handler=run_backtest)

    explain = sub.add_parser("explain", help="print the full reasoning for one sale")
    explain.add_argument("--events", required=True, help="sales log, JSON lines")
    explain.add_argument("--sale", required=True, help="sale_id to explain")
    explain.add_argument("--rules", help="rule file (default: the shipped config/risk.toml)")
    explain.set_defaults(handler=run_explain)


def _instant(text: str) -> int:
    """``--score-from``: Unix seconds, or an ISO 8601 time that states its UTC offset."""
    from datetime import datetime

    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither Unix seconds nor an ISO 8601 time with a UTC offset"
        )
    return int(moment.timestamp())


def _load(path: str | None) -> RuleSet:
    from pos_app.core.resources import data_dir
    from pos_app.core.risk.config import default_rules, load_rules

    if path is not None:
        return load_rules(path)
    # The shipped config/risk.toml (checkout, wheel or bundle: core.resources); without
    # it, the embedded copy (kept identical by a test).
    shipped = data_dir("config") / "risk.toml"
    return load_rules(shipped) if shipped.is_file() else default_rules()


def _lines(handle: IO[str]) -> Iterator[str]:
    yield from handle


def _engine(name: str, rules: RuleSet, stack: ExitStack) -> Engine:
    """The replay behind ``--engine``; ModuleNotFoundError when its libraries are absent."""
    if name == "backend":
        from pos_app.server.risk_replay import BackendReplay

        return stack.enter_context(BackendReplay(rules))
    if name == "terminal":
        from pos_app.terminal.risk_replay import TillReplay

        return TillReplay(rules)
    from pos_app.core.risk.backtest import Replay

    return Replay(rules)


def run_backtest(args: argparse.Namespace) -> int:
    from pos_app.core.errors import RiskConfigError
    from pos_app.core.risk.backtest import Backtest, Decided

    try:
        rules = _load(args.rules)
    except RiskConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    with ExitStack() as stack:
        try:
            replay = _engine(args.engine, rules, stack)
        except ModuleNotFoundError as exc:
            print(
                f"error: --engine {args.engine} needs {exc.name}, which is not installed here "
                "(install the server extra: pip install 'pos-app[server]')",
                file=sys.stderr,
            )
            return EXIT_USAGE
        try:
            events = stack.enter_context(open(args.events, encoding="utf-8"))
            out = (
                stack.enter_context(open(args.out, "w", encoding="utf-8"))
                if args.out
                else sys.stdout
            )
        except OSError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE

        def emit(decision: Decided) -> None:
            out.write(decision.to_json() + "\n")

        def report(number: int, problem: str) -> None:
            print(f"{args.events}:{number}: malformed event skipped: {problem}", file=sys.stderr)

        run = Backtest(rules, emit=emit, report=report, replay=replay, score_from=args.score_from)
        try:
            run.feed(_lines(events))
        except UnicodeDecodeError as exc:
            print(f"error: {args.events}: not UTF-8 text: {exc}", file=sys.stderr)
            return EXIT_USAGE
    sys.stdout.write(json.dumps(run.summary(), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return EXIT_OK


def run_explain(args: argparse.Namespace) -> int:
    from pos_app.core.errors import RiskConfigError
    from pos_app.core.risk.backtest import find_sale
    from pos_app.core.risk.explain import explain

    try:
        rules = _load(args.rules)
        with open(args.events, encoding="utf-8") as events:
            found = find_sale(events, rules, args.sale)
    except RiskConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if found is None:
        print(f"error: sale {args.sale!r} not found in {args.events}", file=sys.stderr)
        return EXIT_USAGE
    facts, decision, ctx = found
    print(explain(facts, decision, ctx))
    return EXIT_OK

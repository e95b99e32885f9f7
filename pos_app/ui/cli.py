"""``pos-app run`` (the cashier window) and ``pos-app demo`` (the whole system)."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="open the cashier window (the default command)")
    run.set_defaults(handler=_run)
    demo = subparsers.add_parser("demo", help="run the whole system on this machine")
    demo.add_argument("--data-dir", help="demo data folder (default: the user data directory)")
    demo.add_argument("--fresh", action="store_true", help="start from an empty demo folder")
    demo.add_argument(
        "--screenshots", metavar="DIR", help="drive through every screen state, save PNGs, quit"
    )
    demo.set_defaults(handler=_demo)


def _run(args: argparse.Namespace) -> int:
    from pos_app.core.errors import PosError
    from pos_app.terminal.settings import load_settings

    try:
        settings = load_settings().settings
    except PosError as exc:
        print(f"pos-app: {exc.message}", file=sys.stderr)
        return 2
    from pos_app.ui.till import run_cashier

    return run_cashier(settings)


def _demo(args: argparse.Namespace) -> int:
    # The demo sits above ui in the layers (it builds the backend, then the windows), so
    # ui must not import it; the dispatcher looks it up by name. TODO(lead): list
    # "pos_app.demo.cli" in pos_app/cli.py and move the "demo" parser there.
    run_demo = importlib.import_module("pos_app.demo.run").run_demo
    code: int = run_demo(data_dir=args.data_dir, fresh=args.fresh, screenshots=args.screenshots)
    return code

"""``pos-app run`` (the cashier window) and ``pos-app demo``."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="open the cashier window (the default command)")
    run.set_defaults(handler=_run)
    demo = subparsers.add_parser("demo", help="run the whole system on this machine")
    demo.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from pos_app.core.errors import PosError
    from pos_app.terminal.settings import load_settings

    try:
        settings = load_settings().settings
    except PosError as exc:
        print(f"pos-app: {exc.message}", file=sys.stderr)
        return 2
    from pos_app.ui.app import run_cashier

    return run_cashier(settings)

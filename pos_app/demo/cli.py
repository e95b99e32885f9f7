"""``pos-app demo``: the whole system on this machine (backend, terminal, wallet)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser("demo", help="run the whole system on this machine")
    demo.add_argument("--data-dir", help="demo data folder (default: the user data directory)")
    demo.add_argument("--fresh", action="store_true", help="start from an empty demo folder")
    demo.add_argument(
        "--screenshots", metavar="DIR", help="drive through every screen state, save PNGs, quit"
    )
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from pos_app.demo.run import run_demo

    return run_demo(data_dir=args.data_dir, fresh=args.fresh, screenshots=args.screenshots)

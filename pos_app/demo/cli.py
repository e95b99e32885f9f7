"""``pos-app demo``: the whole system on this machine (backend, terminal, wallet)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
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

    code = run_demo(data_dir=args.data_dir, fresh=args.fresh, screenshots=args.screenshots)
    # Everything is stopped and saved by now. Leave without the interpreter's final
    # garbage collection: Qt objects freed there crash it now and then ("Fatal Python
    # error: none_dealloc", seen in 2 runs of 3 after Ctrl+C and after --screenshots).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

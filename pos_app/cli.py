"""The ``pos-app`` command.

Each subcommand lives next to the code it drives, in a module exposing
``register(subparsers)``. Those modules only build argparse parsers at import
time; the heavy imports (Qt, OpenCV, the server) happen inside the handlers, so
``pos-app --version`` and ``pos-app token verify`` start fast.

A handler returns the process exit code. By convention: 0 ok, 1 rejected or a
check failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pos_app import __version__

# Modules that add subcommands. Missing modules are a packaging bug, not a user
# error, so an ImportError here is allowed to surface.
COMMAND_MODULES: tuple[str, ...] = (
    "pos_app.terminal.settings.cli",  # config show
    "pos_app.paytoken.cli",  # token keygen|mint|sign-trust-list|verify
    "pos_app.scanning.cli",  # scan-image, scan-video
    "pos_app.risk_cli",  # risk backtest|explain (engines: core, server, terminal)
    "pos_app.server.cli",  # backend init|serve|create-terminal|rotate-keys|check-ledger
    "pos_app.terminal.cli",  # enroll
    "pos_app.terminal.doctor.cli",  # doctor
    "pos_app.terminal.audit.cli",  # audit verify
    "pos_app.ui.cli",  # run (default), cashier
    "pos_app.demo.cli",  # demo
)

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pos-app",
        description="QR wallet point-of-sale terminal, reference backend and tools.",
    )
    parser.add_argument("--version", action="version", version=f"pos-app {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only tolerate the module itself being absent (a component not built yet).
            if exc.name != module_name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        if args.command is None and "run" in _subcommand_names(parser):
            args = parser.parse_args(["run", *(argv or sys.argv[1:])])
            handler = args.handler
        else:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        sys.stderr.close()
        return EXIT_OK


def _subcommand_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()

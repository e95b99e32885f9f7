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
import logging
import sys
from collections.abc import Sequence
from typing import Any

from pos_app import __version__
from pos_app.core.errors import PosError

log = logging.getLogger("pos_app.cli")

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
    "pos_app.terminal.printing.cli",  # receipt test|print
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
    words = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(words)
    handler = getattr(args, "handler", None)
    if handler is None:
        if args.command is None and "run" in _subcommand_names(parser):
            words = ["run", *words]
            args = parser.parse_args(words)
            handler = args.handler
        else:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
    refused = _start(words, args)
    if refused is not None:
        return refused
    return _dispatch(handler, args, words)


def _dispatch(handler: Any, args: argparse.Namespace, words: list[str]) -> int:
    try:
        return int(handler(args))
    except PosError as exc:  # an error of ours that a handler did not turn into a line
        log.error("%s: %s", exc.code, exc.message)
        print(f"pos-app: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        sys.stderr.close()
        return EXIT_OK
    except ImportError:
        raise  # the frozen bundle explains a missing backend library (packaging/entry.py)
    except Exception as exc:  # a bug: the details go to the log, one line to the person
        log.critical("unexpected error in 'pos-app %s'", " ".join(words[:2]), exc_info=True)
        print(
            f"pos-app: unexpected error ({type(exc).__name__}); the details are in the log "
            "(pos-app doctor says where); please report it",
            file=sys.stderr,
        )
        return EXIT_REJECTED


def _start(words: list[str], args: argparse.Namespace) -> int | None:
    """Logging for every command, and the till's account for those touching its data."""
    from pos_app.terminal.session import start_command

    try:
        start_command(
            words,
            touches_data=getattr(args, "touches_data", False),
            config=getattr(args, "config", None),
            directory=getattr(args, "data_dir", None),
        )
    except PosError as exc:
        print(f"pos-app: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    return None


def _subcommand_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()

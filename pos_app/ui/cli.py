"""``pos-app run`` (the cashier window) and ``pos-app cashier`` (till accounts)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="open the cashier window (the default command)")
    run.add_argument(
        "--kiosk",
        action="store_true",
        help="full screen, no accidental close, errors shown on screen (the kiosk unit)",
    )
    run.set_defaults(handler=_run, touches_data=True)
    cashier = subparsers.add_parser("cashier", help="cashier and manager accounts of this till")
    actions = cashier.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add or replace an account (asks for the PIN twice)")
    add.add_argument("user_id")
    add.add_argument("name")
    add.add_argument("--role", choices=("cashier", "manager"), default="cashier")
    add.add_argument(
        "--pin-stdin",
        action="store_true",
        help="read the PIN from the first line of standard input (for scripts), not a prompt",
    )
    add.set_defaults(handler=_cashier_add, touches_data=True)
    hashing = actions.add_parser(
        "hash-pin", help="print the scrypt hash of a PIN for [security] manager_pin_hash"
    )
    hashing.set_defaults(handler=_hash_pin)
    listing = actions.add_parser("list", help="list the accounts (never the PINs)")
    listing.set_defaults(handler=_cashier_list, touches_data=True)


def _run(args: argparse.Namespace) -> int:
    from pos_app.core.errors import PosError
    from pos_app.terminal.settings.loader import load_settings

    kiosk = bool(getattr(args, "kiosk", False))
    try:
        settings = load_settings().settings
    except PosError as exc:
        print(f"pos-app: {exc.message}", file=sys.stderr)
        if kiosk:  # on screen, with its fix: nobody reads a kiosk's stderr
            from pos_app.ui.kiosk import show_fatal

            return show_fatal(exc.message)
        return 2
    from dataclasses import replace

    from pos_app.ui.kiosk import EXIT_RESTART
    from pos_app.ui.till import run_cashier

    if kiosk:
        settings = replace(settings, ui=replace(settings.ui, fullscreen=True))
    code = run_cashier(settings, kiosk=kiosk)
    if code == EXIT_RESTART:
        _exec_new_release()
    return code


def _exec_new_release() -> None:
    """Replace this process with the newly installed release, same arguments."""
    import logging
    import os

    logging.shutdown()
    if getattr(sys, "frozen", False):
        os.execv(sys.executable, [sys.executable, *sys.argv[1:]])  # noqa: S606 (our own binary)
    os.execv(sys.executable, [sys.executable, "-m", "pos_app", *sys.argv[1:]])  # noqa: S606


def _authenticator() -> Any:
    from pos_app.terminal.auth import Authenticator
    from pos_app.terminal.settings.loader import data_dir, load_settings
    from pos_app.terminal.store.db import open_store

    settings = load_settings().settings
    return Authenticator(open_store(data_dir(settings)))


def _cashier_add(args: argparse.Namespace) -> int:
    from pos_app.core.errors import PosError
    from pos_app.terminal.auth import Role

    pin = _pin_from_stdin(args.user_id) if args.pin_stdin else _pin_from_prompt(args.user_id)
    if pin is None:
        return 1
    try:
        _authenticator().add_account(args.user_id, args.name, Role(args.role), pin)
    except PosError as exc:
        print(f"pos-app: {exc.message}", file=sys.stderr)
        return 2
    print(f"{args.role} {args.user_id} ({args.name}) saved")
    return 0


def _pin_from_stdin(user_id: str) -> str | None:
    line = sys.stdin.readline().strip()
    if not line:
        print(
            f"pos-app: no PIN for {user_id} on standard input; send it as one line, e.g. "
            f"printf '%s\\n' \"$PIN\" | pos-app cashier add {user_id} <name> --pin-stdin",
            file=sys.stderr,
        )
        return None
    return line


def _pin_from_prompt(user_id: str) -> str | None:
    import getpass

    try:
        pin = getpass.getpass(f"PIN for {user_id}: ")
        again = getpass.getpass("the same PIN again: ")
    except EOFError:
        print(
            "pos-app: no PIN was typed (no terminal?); in a script use --pin-stdin",
            file=sys.stderr,
        )
        return None
    if again != pin:
        print("pos-app: the two PINs differ; nothing was changed", file=sys.stderr)
        return None
    return pin


def _cashier_list(args: argparse.Namespace) -> int:
    for account in _authenticator().accounts():
        print(f"{account.user_id}\t{account.role.value}\t{account.name}")
    return 0


def _hash_pin(args: argparse.Namespace) -> int:
    import getpass

    from pos_app.core.errors import PosError
    from pos_app.terminal.auth import hash_pin

    try:
        print(hash_pin(getpass.getpass("PIN: ")))
    except PosError as exc:
        print(f"pos-app: {exc.message}", file=sys.stderr)
        return 2
    return 0

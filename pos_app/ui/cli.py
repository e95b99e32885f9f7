"""``pos-app run`` (the cashier window) and ``pos-app cashier`` (till accounts)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="open the cashier window (the default command)")
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

    try:
        settings = load_settings().settings
    except PosError as exc:
        print(f"pos-app: {exc.message}", file=sys.stderr)
        return 2
    from pos_app.ui.till import run_cashier

    return run_cashier(settings)


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

"""``pos-app enroll`` (bind this terminal to the backend with a one-time code),
``pos-app manager-key`` (give a manager a signing key on this till, docs/BACKEND.md) and
``pos-app setup`` (name the OS account that runs the till and owns its data)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pos_app.terminal.settings.options import add_config_option, add_data_dir_option

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    enroll = subparsers.add_parser(
        "enroll",
        help="enroll this terminal with the backend (generates the terminal key)",
        description=(
            "Generate this terminal's key, present the one-time enrollment code, and store "
            "the credential and the trust list. The trust-list root key must be pinned in "
            "[backend] trust_root_key or given with --root-key."
        ),
    )
    enroll.add_argument("--backend", required=True, help="backend URL (https://...)")
    enroll.add_argument("--code", required=True, help="one-time enrollment code from the admin")
    enroll.add_argument("--store", required=True, help="store id this terminal sells for")
    enroll.add_argument("--terminal", required=True, help="this terminal's id in the store")
    enroll.add_argument("--root-key", help="trust-list root public key (PEM file or base64url)")
    add_data_dir_option(enroll)
    add_config_option(enroll)
    enroll.add_argument("--force", action="store_true", help="replace an existing enrollment")
    enroll.set_defaults(handler=_enroll, touches_data=True)
    key = subparsers.add_parser(
        "manager-key",
        help="derive a manager's signing key from a passphrase; print its public key",
        description=(
            "The manager's approvals and review decisions are signed with a key derived from "
            "their passphrase (never stored). This till keeps the public key; enroll it at the "
            "backend with the printed 'pos-app backend enroll-manager' command. Without "
            "--passphrase-stdin a strong passphrase is generated and shown once."
        ),
    )
    key.add_argument("--manager", required=True, help="the manager's id")
    key.add_argument("--store", help="store id (default: [terminal] store_id)")
    key.add_argument("--passphrase-stdin", action="store_true", help="read the passphrase")
    add_data_dir_option(key)
    add_config_option(key)
    key.set_defaults(handler=_manager_key, touches_data=True)
    setup = subparsers.add_parser(
        "setup",
        help="name the till's OS account and hand it the data and log directories (root)",
        description=(
            "Run once after installing, as root: records [paths] owner in "
            "/etc/pos-app/config.d and gives the data directory (mode 0700, files 0600) "
            "and the log directory (group pos-app, mode 2750) to that account. Safe to "
            "run again: it repairs files another account left behind."
        ),
    )
    setup.add_argument("--owner", required=True, help="the till's (kiosk) OS account")
    setup.set_defaults(handler=_setup)
    outbox = subparsers.add_parser(
        "outbox", help="how many sales and other items wait to be sent to the backend"
    )
    outbox.add_argument(
        "--warn-unsent",
        action="store_true",
        help="print a warning (stderr) only when something is waiting; for the package scripts",
    )
    outbox.set_defaults(handler=_outbox, touches_data="inspect")


def _enroll(args: argparse.Namespace) -> int:
    from pos_app.core.errors import BackendError, ConfigError, PosError
    from pos_app.terminal.settings.loader import data_dir, load_settings

    try:
        settings = load_settings(user_file=args.config).settings
    except ConfigError as exc:
        return _fail(f"configuration error: {exc.message}", EXIT_USAGE)
    directory = args.data_dir or data_dir(settings)
    try:
        return _run(args, settings=settings, directory=directory)
    except ConfigError as exc:
        return _fail(exc.message, EXIT_USAGE)
    except BackendError as exc:
        return _fail(f"enrollment failed ({exc.code}): {exc.message}", EXIT_FAILED)
    except PosError as exc:
        return _fail(f"enrollment failed ({exc.code}): {exc.message}", EXIT_FAILED)


def _run(args: argparse.Namespace, *, settings: Any, directory: Path) -> int:
    from dataclasses import replace

    from pos_app.terminal.backend.client import ClientConfig
    from pos_app.terminal.backend.enrollment import EnrollmentInput, describe, enroll
    from pos_app.terminal.errors import InsecureBackendUrl
    from pos_app.terminal.settings.loader import is_allowed_backend_url
    from pos_app.terminal.store.db import open_store
    from pos_app.terminal.sync.trust import load_root_key, trust_from_settings

    if not is_allowed_backend_url(args.backend):
        raise InsecureBackendUrl(
            f"--backend {args.backend!r} refused: use an https:// URL (plain http:// is "
            "allowed only to this machine)"
        )
    load_root_key(args.root_key or settings.backend.trust_root_key)  # fail before any I/O
    store = open_store(directory)
    try:
        trust = trust_from_settings(store, settings, root_key=args.root_key)
        config = replace(ClientConfig.from_settings(settings), base_url=args.backend)
        request = EnrollmentInput(args.backend, args.code, args.store, args.terminal)
        result = enroll(
            request, store=store, data_dir=directory, trust=trust, config=config, force=args.force
        )
    finally:
        store.close()
    print(describe(result))
    where = "the OS keyring" if result.info.key_storage == "keyring" else str(directory)
    print(
        f"enrolled {result.info.store_id}/{result.info.terminal_id}; key kept in {where}. "
        "Start the till with 'pos-app run'.",
        file=sys.stderr,
    )
    return EXIT_OK


def _setup(args: argparse.Namespace) -> int:
    from pos_app.core.errors import PosError
    from pos_app.terminal.settings.loader import (
        DROP_IN_DIR,
        SYSTEM_CONFIG,
        data_dir,
        load_settings,
        log_dir,
    )
    from pos_app.terminal.till_account import setup

    try:
        settings = load_settings().settings
        done = setup(
            args.owner,
            data_dir=data_dir(settings),
            log_dir=log_dir(settings),
            config_dir=SYSTEM_CONFIG.parent / DROP_IN_DIR,
        )
    except PosError as exc:
        print(f"pos-app setup: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    for line in done:
        print(line)
    print(f"next: sudo -u {args.owner} pos-app doctor --offline", file=sys.stderr)
    return EXIT_OK


def _outbox(args: argparse.Namespace) -> int:
    import time

    from pos_app.terminal.doctor.checks_store import DB_NAME, outbox_backlog
    from pos_app.terminal.settings.loader import data_dir, load_settings

    path = data_dir(load_settings().settings) / DB_NAME
    count, age_s = outbox_backlog(path, now=time.time())
    if args.warn_unsent:
        if count:
            print(
                f"pos-app: WARNING: {count} item(s) (sales made offline among them) have not "
                f"been sent to the backend, the oldest {age_s / 3600:.1f} h old. They live in "
                f"{path}: purging pos-app deletes them. Reinstall and let the till reach the "
                "backend first, or keep a copy of that file.",
                file=sys.stderr,
            )
        return EXIT_OK
    print(
        f"{count} item(s) waiting to be sent" + (f", oldest {age_s / 3600:.1f} h" if count else "")
    )
    return EXIT_OK


def _fail(message: str, code: int, *, command: str = "enroll") -> int:
    print(f"pos-app {command}: {message}", file=sys.stderr)
    return code


def _manager_key(args: argparse.Namespace) -> int:
    from pos_app.core.errors import ConfigError
    from pos_app.paytoken import manager_proof
    from pos_app.terminal.manager_keys import ManagerKeyring
    from pos_app.terminal.settings.loader import data_dir, load_settings
    from pos_app.terminal.store.db import open_store

    try:
        settings = load_settings(user_file=args.config).settings
    except ConfigError as exc:
        return _fail(f"configuration error: {exc.message}", EXIT_USAGE, command="manager-key")
    store_id = args.store or settings.terminal.store_id
    generated = not args.passphrase_stdin
    passphrase = manager_proof.new_passphrase() if generated else sys.stdin.readline().strip()
    store = open_store(args.data_dir or data_dir(settings))
    try:
        public = ManagerKeyring(store, store_id=store_id).add(args.manager, passphrase)
    except manager_proof.PassphraseError as exc:
        return _fail(str(exc), EXIT_USAGE, command="manager-key")
    finally:
        store.close()
    if generated:
        print(f"passphrase for {args.manager} (shown once; the manager keeps it): {passphrase}")
    print(
        "enroll it at the backend: pos-app backend enroll-manager --data-dir DIR"
        f" --store {store_id} --manager {args.manager} --public-key {public}"
    )
    return EXIT_OK

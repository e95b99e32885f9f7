"""``pos-app enroll``: bind this terminal to the backend with a one-time code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

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
    enroll.add_argument("--data-dir", type=Path, help="use this data directory")
    enroll.add_argument("--config", type=Path, help="use this file instead of the user config")
    enroll.add_argument("--force", action="store_true", help="replace an existing enrollment")
    enroll.set_defaults(handler=_enroll)


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
    from pos_app.terminal.backend.enrollment import EnrollRequest, describe, enroll
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
        request = EnrollRequest(args.backend, args.code, args.store, args.terminal)
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


def _fail(message: str, code: int) -> int:
    print(f"pos-app enroll: {message}", file=sys.stderr)
    return code

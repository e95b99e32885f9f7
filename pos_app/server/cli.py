"""``pos-app backend ...``: init, serve, create-terminal, rotate-keys, check-ledger,
enroll-manager, revoke-manager.

Only argparse at import time; FastAPI and SQLAlchemy are imported by the handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    backend = subparsers.add_parser("backend", help="reference backend (ASGI app, database, keys)")
    sub = backend.add_subparsers(dest="backend_command", metavar="SUBCOMMAND", required=True)
    p = _common(sub.add_parser("init", help="create schema, keys and trust list"))
    p.set_defaults(handler=_init)
    p = _common(sub.add_parser("serve", help="run the HTTP API with uvicorn"))
    p.add_argument("--host", default=None, help="default 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default 8400")
    p.add_argument("--workers", type=int, default=None, help="worker processes, default 1")
    p.set_defaults(handler=_serve)
    p = _common(sub.add_parser("create-terminal", help="create a terminal and its enrollment code"))
    p.add_argument("--store", required=True)
    p.add_argument("--terminal", required=True)
    p.add_argument("--region", default="")
    p.set_defaults(handler=_create_terminal)
    p = _common(sub.add_parser("offline-limits", help="set one terminal's offline limits"))
    p.add_argument("--store", required=True)
    p.add_argument("--terminal", required=True)
    p.add_argument(
        "--max-age", type=int, default=None, help="seconds an offline claim may reach back"
    )
    p.add_argument("--max-sale", type=int, default=None, help="most one offline sale may charge")
    p.set_defaults(handler=_offline_limits)
    p = _common(sub.add_parser("rotate-keys", help="issuer key rotation: publish, activate, drop"))
    p.add_argument("--step", choices=("publish", "activate", "drop"), required=True)
    p.set_defaults(handler=_rotate)
    p = _common(sub.add_parser("check-ledger", help="prove the books balance (exit 1 if not)"))
    p.set_defaults(handler=_check_ledger)
    p = _common(
        sub.add_parser("enroll-manager", help="enroll a manager's public key (pos-app manager-key)")
    )
    p.add_argument("--store", required=True)
    p.add_argument("--manager", required=True)
    p.add_argument("--public-key", required=True, help="base64url, as pos-app manager-key prints")
    p.set_defaults(handler=_enroll_manager)
    p = _common(sub.add_parser("revoke-manager", help="revoke every key of a manager"))
    p.add_argument("--store", required=True)
    p.add_argument("--manager", required=True)
    p.set_defaults(handler=_revoke_manager)


def _common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--data-dir",
        default=None,
        help="directory for keys and the SQLite file (or POS_APP_SERVER_DATA_DIR, or the file)",
    )
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in --data-dir)")
    parser.add_argument(
        "--config",
        dest="server_config",  # not the till's top-level --config
        default=None,
        metavar="FILE",
        help="TOML settings file (or POS_APP_SERVER_CONFIG); flags win over the environment, "
        "the environment (POS_APP_SERVER_*) over the file",
    )
    return parser


def _settings(args: argparse.Namespace, **flags: Any) -> Any:
    """The server settings these flags, the environment and the settings file make."""
    from pydantic import ValidationError

    from pos_app.server.settings import ENV_CONFIG, ServerSettings

    if args.server_config:
        os.environ[ENV_CONFIG] = args.server_config  # worker processes read the same file
    try:
        return ServerSettings.load(data_dir=args.data_dir, db_url=args.db, **flags)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(
            f"server settings: {problems} (flags, POS_APP_SERVER_* or the --config file)"
        ) from None


def _print(obj: object) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True))


def _guard(fn: Any, args: argparse.Namespace) -> int:
    import sqlalchemy.engine
    import sqlalchemy.exc

    from pos_app.core.errors import PosError

    try:
        settings = _settings(args)
        args.data_dir, args.db = settings.data_dir, settings.db_url
        return int(fn(args))
    except (PosError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except sqlalchemy.exc.OperationalError as exc:  # unreachable server, unopenable file
        url = sqlalchemy.engine.make_url(args.db).render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(
            f"error: cannot open the database {url}: {reason}. Check --db (or"
            " POS_APP_SERVER_DB_URL) and that the database server runs and answers.",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _admin(name: str, **fields: str) -> Callable[[argparse.Namespace], int]:
    """A handler printing ``admin.<name>(data_dir, db, param=args.<attr>...)`` as JSON."""

    def handler(args: argparse.Namespace) -> int:
        def run(a: argparse.Namespace) -> int:
            from pos_app.server import admin

            given = {param: getattr(a, attr) for param, attr in fields.items()}
            _print(getattr(admin, name)(a.data_dir, a.db, **given))
            return EXIT_OK

        return _guard(run, args)

    return handler


_init = _admin("init_backend")
_create_terminal = _admin(
    "create_terminal", store_id="store", terminal_id="terminal", region="region"
)
_offline_limits = _admin(
    "set_offline_limits",
    store_id="store",
    terminal_id="terminal",
    max_age="max_age",
    max_sale="max_sale",
)
_rotate = _admin("rotate_keys", step="step")
_enroll_manager = _admin(
    "enroll_manager", store_id="store", manager_id="manager", public_key="public_key"
)
_revoke_manager = _admin("revoke_manager", store_id="store", manager_id="manager")


def _check_ledger(args: argparse.Namespace) -> int:
    def run(a: argparse.Namespace) -> int:
        from pos_app.server import admin

        report = admin.check_ledger(a.data_dir, a.db)
        _print(report)
        return EXIT_OK if report["ok"] else EXIT_FAILED

    return _guard(run, args)


def _serve(args: argparse.Namespace) -> int:
    def run(a: argparse.Namespace) -> int:
        import uvicorn

        from pos_app.server import admin
        from pos_app.server.settings import ENV_PREFIX

        settings = _settings(a, host=a.host, port=a.port, workers=a.workers)
        admin.init_backend(a.data_dir, a.db)  # migrates and creates keys once, before workers fork
        # Each worker builds its settings from the environment (asgi.app_from_env): hand it
        # the data directory and database these flags chose.
        os.environ[ENV_PREFIX + "DATA_DIR"] = str(settings.data_dir)
        os.environ[ENV_PREFIX + "DB_URL"] = settings.db_url
        uvicorn.run(
            "pos_app.server.asgi:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level="info",
            access_log=settings.access_log,
            date_header=False,  # the app writes Date from its own clock
        )
        return EXIT_OK

    return _guard(run, args)

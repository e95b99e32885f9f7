"""``pos-app audit verify``: check the audit log's hash chain.

Prints one JSON object; exit 0 when the chain is whole, 1 when it is broken
(naming the first broken entry), 2 when the data directory or database cannot
be used.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pos_app.terminal.settings.options import add_data_dir_option


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser("audit", help="check the audit log")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="check the hash chain and name the first broken entry")
    add_data_dir_option(verify)
    verify.set_defaults(handler=_verify, touches_data=True)


def _verify(args: argparse.Namespace) -> int:
    import sqlite3

    from pos_app.core.errors import PosError
    from pos_app.terminal.audit.log import chain_start, verify_chain
    from pos_app.terminal.store.db import DB_NAME

    try:
        directory = args.data_dir or _configured_data_dir()
    except PosError as exc:
        return _usage(exc.message)
    path = Path(directory) / DB_NAME
    if not path.is_file():
        return _usage(f"no terminal database at {path}")
    # Read-only: a check must not migrate or otherwise touch the evidence it checks.
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            report = verify_chain(
                conn.execute(
                    "SELECT id, at, actor, action, detail, prev_hash, hash FROM audit_log"
                    " ORDER BY id"
                ),
                start_hash=chain_start(conn)[1],
            )
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return _usage(f"cannot read the audit log in {path}: {exc}")
    result = {
        "ok": report.ok,
        "entries": report.entries,
        "first_broken_id": report.first_broken_id,
        "problem": report.problem,
        "database": str(path),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0 if report.ok else 1


def _configured_data_dir() -> Path:
    from pos_app.terminal.settings.loader import data_dir, load_settings

    return data_dir(load_settings().settings)


def _usage(message: str) -> int:
    print(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    print(f"pos-app audit verify: {message}", file=sys.stderr)
    return 2

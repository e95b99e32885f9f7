"""The ``kv`` table of the till's database: one value a key (staff accounts, the lockout book,
the credential's metadata, the trust list, cursors of what was sent).

A value is written with :func:`put` on the connection of the caller's transaction, so it
changes together with what it belongs to (an audit entry, an enrollment); it is text, or
bytes where the caller stored bytes (the trust list's envelope). Doctor reads the table
through its own read-only connection and does not import this module.
"""

from __future__ import annotations

import sqlite3

from pos_app.terminal.store.db import LocalStore

_GET = "SELECT value FROM kv WHERE key = ?"


def get(source: LocalStore | sqlite3.Connection, key: str) -> str | bytes | None:
    """The value kept under *key*, as stored; None when there is none."""
    if isinstance(source, LocalStore):
        rows = source.query(_GET, (key,))
        return rows[0][0] if rows else None
    row = source.execute(_GET, (key,)).fetchone()
    return None if row is None else row[0]


def get_text(source: LocalStore | sqlite3.Connection, key: str) -> str | None:
    """The value kept under *key* as text (bytes decoded as UTF-8); None when there is none."""
    value = get(source, key)
    return value.decode() if isinstance(value, bytes) else value


def put(conn: sqlite3.Connection, key: str, value: str | bytes) -> None:
    """Keep *value* under *key*, replacing what was there."""
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def delete(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM kv WHERE key = ?", (key,))

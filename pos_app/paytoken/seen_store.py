"""The durable seen-token store behind step 18 (single use of ``cti``).

Entries are kept until ``exp + skew`` (after that the token fails step 14
anyway), survive restarts (SQLite, WAL, synchronous=FULL) and are safe under
concurrent use: :meth:`SeenTokenStore.record` is one ``INSERT OR IGNORE`` whose
row count says atomically whether this caller was first.

The terminal records the cti in the same transaction as the sale, so the
schema and the connection-level functions :func:`seen_on` / :func:`record_on`
are public; they never commit.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Protocol

from pos_app.paytoken.errors import SeenStoreError

# The one definition of the table: the standalone store creates it, and the terminal's
# first migration runs the same statements inside its own transaction.
SCHEMA_SQL = (
    "CREATE TABLE IF NOT EXISTS seen_tokens "
    "(cti BLOB PRIMARY KEY, expires_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL)"
)
INDEX_SQL = "CREATE INDEX IF NOT EXISTS seen_tokens_expiry ON seen_tokens (expires_at)"
SCHEMA_STATEMENTS = (SCHEMA_SQL, INDEX_SQL)


class SeenTokenStore(Protocol):
    """What acceptance needs from a seen-token store."""

    def is_seen(self, cti: bytes, now: int) -> bool: ...

    def record(self, cti: bytes, expires_at: int, *, now: int | None = None) -> bool: ...

    def purge(self, now: int) -> int: ...


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the ``seen_tokens`` table and its expiry index if missing (idempotent)."""
    for statement in SCHEMA_STATEMENTS:
        conn.execute(statement)


def seen_on(conn: sqlite3.Connection, cti: bytes, now: int) -> bool:
    """True if ``cti`` is recorded, inside the caller's transaction.

    A row counts until it is purged, even past ``expires_at``: failing closed
    costs nothing because such a token is already expired.
    """
    del now  # part of the interface for stores that expire lazily
    row = conn.execute("SELECT 1 FROM seen_tokens WHERE cti = ?", (cti,)).fetchone()
    return row is not None


def record_on(conn: sqlite3.Connection, cti: bytes, *, expires_at: int, now: int) -> bool:
    """Record ``cti`` inside the caller's transaction; False if it was already there."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO seen_tokens (cti, expires_at, recorded_at) VALUES (?, ?, ?)",
        (cti, expires_at, now),
    )
    return cursor.rowcount == 1


def purge_on(conn: sqlite3.Connection, now: int) -> int:
    """Delete rows whose ``expires_at`` has passed; returns how many."""
    return conn.execute("DELETE FROM seen_tokens WHERE expires_at < ?", (now,)).rowcount


class SQLiteSeenStore:
    """A seen-token store in its own SQLite file, shared by all threads of a process.

    One connection guarded by a lock: SQLite serialises writers anyway, and
    this keeps ``record`` a single statement in autocommit mode. Other
    processes using the same file are handled by SQLite's locking
    (``busy_timeout``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self._clock = clock  # only for recorded_at when the caller gives no ``now``
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(
                os.fspath(path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a recorded cti must survive a power cut right after the sale.
            self._conn.execute("PRAGMA synchronous=FULL")
            ensure_schema(self._conn)
        except sqlite3.Error as exc:
            raise SeenStoreError(f"{path}: cannot open seen-token database ({exc})") from None

    def is_seen(self, cti: bytes, now: int) -> bool:
        with self._lock:
            try:
                return seen_on(self._conn, cti, now)
            except sqlite3.Error as exc:
                raise SeenStoreError(f"seen-token database error: {exc}") from exc

    def record(self, cti: bytes, expires_at: int, *, now: int | None = None) -> bool:
        recorded_at = int(self._clock()) if now is None else now
        with self._lock:
            try:
                return record_on(self._conn, cti, expires_at=expires_at, now=recorded_at)
            except sqlite3.Error as exc:
                raise SeenStoreError(f"seen-token database error: {exc}") from exc

    def purge(self, now: int) -> int:
        with self._lock:
            try:
                return purge_on(self._conn, now)
            except sqlite3.Error as exc:
                raise SeenStoreError(f"seen-token database error: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteSeenStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ConnectionSeenStore:
    """:class:`SeenTokenStore` view of a caller's connection; never commits.

    Lets the terminal run :func:`pos_app.paytoken.acceptance.accept` inside
    the transaction that also writes the sale.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def is_seen(self, cti: bytes, now: int) -> bool:
        return seen_on(self._conn, cti, now)

    def record(self, cti: bytes, expires_at: int, *, now: int | None = None) -> bool:
        if now is None:
            raise ValueError("ConnectionSeenStore.record needs now= (time is injected)")
        return record_on(self._conn, cti, expires_at=expires_at, now=now)

    def purge(self, now: int) -> int:
        return purge_on(self._conn, now)


class MemorySeenStore:
    """In-memory store for tests and one-shot tools (does not survive restarts)."""

    def __init__(self) -> None:
        self._rows: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def is_seen(self, cti: bytes, now: int) -> bool:
        return cti in self._rows

    def record(self, cti: bytes, expires_at: int, *, now: int | None = None) -> bool:
        with self._lock:
            if cti in self._rows:
                return False
            self._rows[cti] = expires_at
            return True

    def purge(self, now: int) -> int:
        with self._lock:
            old = [cti for cti, expires_at in self._rows.items() if expires_at < now]
            for cti in old:
                del self._rows[cti]
            return len(old)

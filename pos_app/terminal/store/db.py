"""The terminal's local SQLite database.

WAL mode so the UI can read while a sale is written, foreign keys on, and
``synchronous=FULL``: a sale the customer has paid for must survive a power
cut. The database is checked with ``PRAGMA integrity_check`` at open, and the
schema is brought up to date with the ordered migrations.

All writes go through one connection guarded by a lock (a single lane, as in
Anki); callers that need several statements atomically use ``transaction()``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pos_app.core.errors import StoreError
from pos_app.terminal.store.migrations import LATEST_VERSION, MIGRATIONS

DB_NAME = "terminal.db"


class LocalStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = _open(path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: commits on success, rolls back on any error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.rollback()
                raise
            self._conn.commit()

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._conn.execute(sql, params))


def open_store(data_dir: Path) -> LocalStore:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return LocalStore(data_dir / DB_NAME)


def _open(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        conn.row_factory = sqlite3.Row
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(_damaged(path, str(exc)), code="store_corrupt") from None
    if result != "ok":
        conn.close()
        raise StoreError(_damaged(path, str(result)), code="store_corrupt")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    migrate(conn, path=path)
    return conn


def _damaged(path: Path, detail: str) -> str:
    return (
        f"the local database {path} is damaged ({detail}). Close pos-app, move the file and "
        f"its -wal/-shm companions aside (keep them: they may hold sales not yet sent), then "
        f"start again; run 'pos-app doctor' afterwards and contact support with the moved files."
    )


def migrate(conn: sqlite3.Connection, *, path: Path | str = "database") -> int:
    """Apply every migration newer than the database; return the version reached."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > LATEST_VERSION:
        raise StoreError(
            f"{path} has schema version {current}, newer than this pos-app understands "
            f"({LATEST_VERSION}): install the newer pos-app release again",
            code="store_too_new",
        )
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version}")
        except sqlite3.Error as exc:
            conn.rollback()
            raise StoreError(
                f"{path}: migration {migration.version} ({migration.description}) failed: "
                f"{exc}; the database was left at version {current}",
                code="store_migration_failed",
            ) from None
        conn.commit()
        current = migration.version
    return current


def _statements(sql: str) -> Iterator[str]:
    # executescript() would commit implicitly and break the one-transaction rule.
    for part in sql.split(";"):
        if part.strip():
            yield part

"""The seen-token store: schema, atomic record, restart, threads, caller transactions."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from pos_app.paytoken.errors import SeenStoreError
from pos_app.paytoken.seen_store import (
    SCHEMA_SQL,
    ConnectionSeenStore,
    MemorySeenStore,
    SQLiteSeenStore,
    ensure_schema,
    record_on,
    seen_on,
)

NOW = 1_795_000_000
CTI = bytes(range(16))


def test_schema_is_exactly_the_shared_one(tmp_path: Path) -> None:
    assert SCHEMA_SQL == (
        "CREATE TABLE IF NOT EXISTS seen_tokens "
        "(cti BLOB PRIMARY KEY, expires_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL)"
    )
    with SQLiteSeenStore(tmp_path / "s.db"):
        pass
    conn = sqlite3.connect(tmp_path / "s.db")
    columns = conn.execute("PRAGMA table_info(seen_tokens)").fetchall()
    conn.close()
    assert [(c[1], c[2], c[3], c[5]) for c in columns] == [
        ("cti", "BLOB", 0, 1),
        ("expires_at", "INTEGER", 1, 0),
        ("recorded_at", "INTEGER", 1, 0),
    ]


def test_record_is_first_wins_and_survives_restart(tmp_path: Path) -> None:
    db = tmp_path / "seen.db"
    with SQLiteSeenStore(db) as store:
        assert not store.is_seen(CTI, NOW)
        assert store.record(CTI, NOW + 150, now=NOW)
        assert not store.record(CTI, NOW + 150, now=NOW + 1)
        assert store.is_seen(CTI, NOW)
    with SQLiteSeenStore(db) as reopened:
        assert reopened.is_seen(CTI, NOW + 10)
        assert not reopened.record(CTI, NOW + 150, now=NOW + 10)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT expires_at, recorded_at FROM seen_tokens").fetchall() == [
        (NOW + 150, NOW)
    ]
    conn.close()


def test_recorded_at_uses_the_injected_clock(tmp_path: Path) -> None:
    with SQLiteSeenStore(tmp_path / "c.db", clock=lambda: 1234.9) as store:
        assert store.record(CTI, 9999)
    conn = sqlite3.connect(tmp_path / "c.db")
    assert conn.execute("SELECT recorded_at FROM seen_tokens").fetchone() == (1234,)
    conn.close()


def test_entries_kept_until_expiry_then_purged(tmp_path: Path) -> None:
    with SQLiteSeenStore(tmp_path / "p.db") as store:
        store.record(b"a" * 16, NOW + 150, now=NOW)
        store.record(b"b" * 16, NOW + 10, now=NOW)
        assert store.purge(NOW + 10) == 0  # kept until exp + skew, inclusive
        assert store.purge(NOW + 11) == 1
        assert store.is_seen(b"a" * 16, NOW + 11)
        assert not store.is_seen(b"b" * 16, NOW + 11)
        assert store.purge(NOW + 151) == 1


def test_concurrent_threads_share_one_store(tmp_path: Path) -> None:
    store = SQLiteSeenStore(tmp_path / "t.db")
    ctis = [bytes([i]) * 16 for i in range(50)]
    wins: list[bytes] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for cti in ctis:
            if store.record(cti, NOW + 100, now=NOW):
                with lock:
                    wins.append(cti)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert sorted(wins) == sorted(ctis)  # each cti won exactly once


def test_caller_transaction_rollback_leaves_nothing(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "terminal.db")
    ensure_schema(conn)
    conn.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, cti BLOB)")
    conn.commit()
    try:
        with conn:  # the sale's transaction
            assert record_on(conn, CTI, expires_at=NOW + 150, now=NOW)
            conn.execute("INSERT INTO sales (cti) VALUES (?)", (CTI,))
            raise RuntimeError("printer jammed")
    except RuntimeError:
        pass
    assert not seen_on(conn, CTI, NOW)
    with conn:
        assert record_on(conn, CTI, expires_at=NOW + 150, now=NOW)
        assert not record_on(conn, CTI, expires_at=NOW + 150, now=NOW)
    assert seen_on(conn, CTI, NOW)
    view = ConnectionSeenStore(conn)
    assert view.is_seen(CTI, NOW) and not view.record(CTI, NOW + 1, now=NOW)
    with pytest.raises(ValueError, match="now"):
        view.record(b"z" * 16, NOW + 1)
    conn.close()


def test_unusable_database_is_a_seen_store_error(tmp_path: Path) -> None:
    with pytest.raises(SeenStoreError):
        SQLiteSeenStore(tmp_path / "missing-dir" / "x.db")
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SeenStoreError):
        SQLiteSeenStore(bogus)


def test_memory_store_matches_protocol() -> None:
    store = MemorySeenStore()
    assert store.record(CTI, NOW + 5) and not store.record(CTI, NOW + 5)
    assert store.is_seen(CTI, NOW)
    assert store.purge(NOW + 6) == 1 and not store.is_seen(CTI, NOW)

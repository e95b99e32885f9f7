import shutil
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pos_app.core.basket import Basket
from pos_app.core.catalog import Product
from pos_app.core.categories import Category
from pos_app.core.errors import StoreError
from pos_app.terminal.store.db import DB_NAME, LocalStore, migrate, open_store
from pos_app.terminal.store.migrations import LATEST_VERSION, MIGRATIONS
from pos_app.terminal.store.sales_repo import (
    OutboxEntry,
    SaleRecord,
    SeenToken,
    sale_state,
    save_sale,
)

FIXTURES = Path(__file__).parent / "fixtures"


def tables(store: LocalStore) -> set[str]:
    return {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")}


def test_new_store_has_every_table_and_pragma(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    assert store.schema_version == LATEST_VERSION
    assert {"sales", "sale_lines", "seen_tokens", "outbox", "audit_log"} <= tables(store)
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert store.query("PRAGMA foreign_keys")[0][0] == 1
    assert store.query("PRAGMA synchronous")[0][0] == 2  # FULL


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


@pytest.mark.parametrize("version", range(1, LATEST_VERSION))
def test_upgrade_from_each_earlier_version_keeps_data(tmp_path: Path, version: int) -> None:
    fixture = FIXTURES / f"terminal-v{version}.db"
    assert fixture.exists(), "run tests/terminal/fixtures/make_fixtures.py"
    shutil.copy(fixture, tmp_path / DB_NAME)
    store = open_store(tmp_path)
    assert store.schema_version == LATEST_VERSION
    assert sale_state(store, "sale-1") == "approved"
    assert store.query("SELECT quantity FROM sale_lines")[0][0] == 2
    assert store.query("SELECT idempotency_key FROM outbox")[0][0] == "idem-1"
    assert len(store.query("SELECT * FROM seen_tokens")) == 1
    assert {"sale_events", "reviews", "kv"} <= tables(store)


def test_migration_7_keeps_earlier_sales_told_and_indexes_the_open_outbox(
    tmp_path: Path,
) -> None:
    shutil.copy(FIXTURES / "terminal-v6.db", tmp_path / DB_NAME)
    store = open_store(tmp_path)
    # Sales from before the upgrade were shown when they happened: nothing to tell again.
    assert [r["untold"] for r in store.query("SELECT untold FROM sales")] == [0]
    plan = store.query(
        "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE state IN ('pending', 'unknown') ORDER BY id"
    )
    assert any("outbox_open" in str(r["detail"]) for r in plan)
    with store.transaction() as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE sales SET untold = 2")


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="install the newer pos-app") as info:
        open_store(tmp_path)
    assert info.value.code == "store_too_new"


def test_failed_migration_rolls_back_to_the_previous_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    conn.execute("CREATE TABLE sales (x INTEGER)")  # clashes with migration 1
    with pytest.raises(StoreError, match="migration 1 .* left at version 0"):
        migrate(conn)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0


def test_corrupt_database_gives_a_recovery_message(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"this is not a database" * 200)
    with pytest.raises(StoreError, match="move the file .* aside") as info:
        open_store(tmp_path)
    assert info.value.code == "store_corrupt"


def record(sale_id: str, state: str = "approved") -> SaleRecord:
    basket = Basket()
    basket.add(Product("4006381333931", "Tea", "茶", Category.BEVERAGE, 140, 8, False), 2)
    return SaleRecord(
        sale_id,
        "S001",
        "T01",
        "C042",
        "JPY",
        basket.total.amount,
        state,
        basket.lines,
        1795000000,
        offline=True,
    )


def test_a_sale_is_written_in_one_transaction(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    cti = bytes(range(16))
    save_sale(
        store,
        record("a"),
        outbox=OutboxEntry("finalize", "idem-a", {"x": 1}),
        seen=SeenToken(cti, 1795000150),
    )
    assert sale_state(store, "a") == "approved"
    assert store.query("SELECT count(*) FROM outbox")[0][0] == 1
    # The same token again: nothing of the second sale may be written.
    with pytest.raises(sqlite3.IntegrityError):
        save_sale(
            store,
            record("b"),
            outbox=OutboxEntry("finalize", "idem-b"),
            seen=SeenToken(cti, 1795000150),
        )
    assert sale_state(store, "b") is None
    assert store.query("SELECT count(*) FROM sale_lines WHERE sale_id='b'")[0][0] == 0
    assert store.query("SELECT count(*) FROM outbox")[0][0] == 1


def test_state_updates_keep_a_timeline(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    save_sale(store, record("a", "authorizing"))
    save_sale(store, record("a", "approved"))
    assert sale_state(store, "a") == "approved"
    events = [r["state"] for r in store.query("SELECT state FROM sale_events ORDER BY id")]
    assert events == ["authorizing", "approved"]
    assert store.query("SELECT count(*) FROM sale_lines")[0][0] == 1


def test_sales_survive_reopening_and_concurrent_writers(tmp_path: Path) -> None:
    store = open_store(tmp_path)

    def write(n: int) -> None:
        for i in range(20):
            save_sale(store, record(f"s{n}-{i}"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    again = open_store(tmp_path)
    assert again.query("SELECT count(*) FROM sales")[0][0] == 80


def test_seen_tokens_is_one_table_for_the_till_and_the_standalone_store(tmp_path: Path) -> None:
    # The terminal's migration and paytoken's SQLiteSeenStore build it from one definition.
    from pos_app.paytoken.seen_store import SQLiteSeenStore

    with SQLiteSeenStore(tmp_path / "seen.db"):
        pass
    alone = sqlite3.connect(tmp_path / "seen.db")
    till = open_store(tmp_path / "till")

    def shape(query: Callable[[str], list[Any]]) -> tuple[tuple[object, ...], tuple[str, ...]]:
        columns = [tuple(c) for c in query("PRAGMA table_info(seen_tokens)")]
        indexes = sorted(r[1] for r in query("PRAGMA index_list(seen_tokens)"))
        return tuple(columns), tuple(indexes)

    try:
        assert shape(lambda q: alone.execute(q).fetchall()) == shape(till.query)
        assert "seen_tokens_expiry" in shape(till.query)[1]
    finally:
        alone.close()
        till.close()

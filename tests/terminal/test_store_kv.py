import pytest

from pos_app.terminal.store import kv
from pos_app.terminal.store.db import LocalStore


def test_a_value_is_replaced_in_place_and_kept_as_written(store: LocalStore) -> None:
    with store.transaction() as conn:
        kv.put(conn, "cursor", "1")
        kv.put(conn, "cursor", "2")
        kv.put(conn, "envelope", b"\x00signed")
    assert store.query("SELECT COUNT(*) FROM kv WHERE key = 'cursor'")[0][0] == 1
    assert kv.get(store, "cursor") == "2"
    assert kv.get(store, "envelope") == b"\x00signed"  # bytes stay bytes (the trust list)
    assert kv.get_text(store, "envelope") == "\x00signed"
    assert kv.get(store, "absent") is None and kv.get_text(store, "absent") is None


def test_a_write_is_seen_inside_its_transaction_and_undone_with_it(store: LocalStore) -> None:
    with store.transaction() as conn:
        kv.put(conn, "audit.synced_through", "7")
    with pytest.raises(RuntimeError), store.transaction() as conn:
        kv.delete(conn, "audit.synced_through")
        assert kv.get(conn, "audit.synced_through") is None
        raise RuntimeError("the rest of the unit failed")
    assert kv.get_text(store, "audit.synced_through") == "7"

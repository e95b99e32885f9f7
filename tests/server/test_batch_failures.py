"""The batched finalize on PostgreSQL under failures (review of perf2, issue 14).

A batched transaction's BEGIN travels at the head of its first string, with the psycopg
connection in autocommit mode until the COMMIT (or until the pool takes it back). These
tests break the transaction in each of its strings, between them, and at the COMMIT, and
check the payment properties that must hold whatever happens:

- a sale is charged once or not at all, and its answer is stored with the charge;
- no statement runs in autocommit outside a transaction (every one after a BEGIN);
- no connection goes back to the pool in autocommit or with a transaction open, and the
  next request on the same pooled connection runs batched, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import Engine, Table, event, func, select, text

from pos_app.server import admin, db, finalize
from pos_app.server.backend import Backend
from pos_app.server.models import Nonce, Sale
from tests.server.server_support import Trips, World, backend_of

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("db_url", ["postgres"], indirect=True)]

IDLE = pq.TransactionStatus.IDLE
_SALES: Table = Sale.__table__  # type: ignore[assignment]


@dataclass
class Guard:
    """What the driver and the pool saw while a test ran."""

    # Statements run in autocommit with no transaction open (each its own transaction).
    outside: list[str] = field(default_factory=list)
    # (autocommit, transaction status) of each open connection the pool took back.
    checkins: list[tuple[bool, int]] = field(default_factory=list)
    # Each checkout: the driver connection's id and whether it came in autocommit.
    checkouts: list[tuple[int, bool]] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.outside == []
        assert self.checkins and all(mode == (False, IDLE) for mode in self.checkins)
        assert not any(autocommit for _, autocommit in self.checkouts)


def _watch(monkeypatch: pytest.MonkeyPatch, outside: list[str]) -> None:
    """Record in *outside* each statement psycopg runs in autocommit with no transaction
    open (so in a transaction of its own), BEGIN aside."""

    def watched(run: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            conn = self.connection
            sql = query.decode() if isinstance(query, bytes) else str(query)
            if (
                conn.autocommit
                and conn.info.transaction_status == IDLE
                and not sql.lstrip().upper().startswith("BEGIN")
            ):
                outside.append(sql[:120])
            return run(self, query, *args, **kwargs)

        return guarded

    monkeypatch.setattr(psycopg.Cursor, "execute", watched(psycopg.Cursor.execute))
    monkeypatch.setattr(psycopg.Cursor, "executemany", watched(psycopg.Cursor.executemany))


@pytest.fixture
def guard(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard]:
    seen = Guard()
    _watch(monkeypatch, seen.outside)
    engine = backend_of(world.api).engine

    def checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None and not dbapi_connection.closed:
            status = dbapi_connection.info.transaction_status
            seen.checkins.append((dbapi_connection.autocommit, status))

    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        seen.checkouts.append((id(dbapi_connection), dbapi_connection.autocommit))

    # After db.make_engine's own checkin listener: what the pool keeps.
    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)
    yield seen
    event.remove(engine, "checkin", checkin)
    event.remove(engine, "checkout", checkout)


def _fail(sqlstate: str) -> db._Compiled:
    """A statement that fails with *sqlstate* (a serialization failure, a deadlock...)."""
    body = f"BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{sqlstate}'; END"
    return db._Compiled(f"DO $$ {body} $$", {}, None)


def _inject(monkeypatch: pytest.MonkeyPatch, *, at: str, sqlstate: str) -> list[str]:
    """Fail the next batched transaction's *at* string ("first": the one that carries the
    prefetched reads, "middle", or "commit": the writes and the COMMIT), once, after the
    statements queued in it; the kinds of string sent, with the failing one marked."""
    send = db._Batch.send
    strings: dict[int, list[str]] = {}
    fired: list[str] = []

    def failing(self: db._Batch, *, commit: bool = False) -> None:
        sent = strings.setdefault(id(self), [])
        if not (self.unsent or self.queued or commit):
            return send(self, commit=commit)
        kind = "commit" if commit else ("first" if not sent else "middle")
        sent.append(kind)
        if kind == at and not fired:
            fired.append(kind)
            self.queued.append((_fail(sqlstate), {}))
        return send(self, commit=commit)

    monkeypatch.setattr(db._Batch, "send", failing)
    return fired


def _balance(world: World, wallet: Any) -> int:
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    return int(info["balance"])


def _sales_rows(engine: Engine, sale_id: str) -> int:
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(Sale).where(Sale.sale_id == sale_id)
        ).scalar_one()
    return int(count)


def _ledger_ok(settings: Any) -> None:
    report = admin.check_ledger(settings.data_dir, settings.db_url)
    assert report["ok"], report


def _recovered(world: World, wallet: Any, guard: Guard, trips: Trips, settings: Any) -> None:
    """How every failure here must end: the next sale batched on the same connection, no
    statement outside a transaction, and the ledger whole."""
    _next_sale_runs_batched_on_the_same_connection(world, wallet, guard, trips)
    guard.assert_clean()
    _ledger_ok(settings)


def _next_sale_runs_batched_on_the_same_connection(
    world: World, wallet: Any, guard: Guard, trips: Trips
) -> None:
    """The next sale takes the connection the failed request gave back (requests one at a
    time: the pool holds that one), runs batched with its BEGIN at the head of its first
    string, and commits once."""
    before = _balance(world, wallet)
    used = {conn for conn, _ in guard.checkouts}
    token = world.token(wallet)
    trips.reset()
    guard.checkouts.clear()
    assert world.sell(world.sale_body(token)).json()["status"] == "approved"
    assert [conn for conn, _ in guard.checkouts] == [guard.checkouts[0][0]]
    assert guard.checkouts[0][0] in used
    assert trips.speculations == 0 and len(trips.batches) >= 2
    assert _balance(world, wallet) == before - 280


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "23505"])
@pytest.mark.parametrize("at", ["first", "middle", "commit"])
def test_a_failing_string_rolls_back_and_the_rerun_charges_once(
    world: World,
    settings: Any,
    guard: Guard,
    trips: Trips,
    monkeypatch: pytest.MonkeyPatch,
    at: str,
    sqlstate: str,
) -> None:
    """A serialization failure, a deadlock or a unique violation in any string of the
    batched transaction (the first, with its BEGIN; a middle one; the one with the COMMIT)
    rolls it back whole: the portable rerun charges the sale once and stores its answer;
    the same key replays it; the connection goes back to the pool out of autocommit, and
    the next sale on it runs batched in one transaction."""
    wallet = world.new_wallet(balance=10_000)
    fired = _inject(monkeypatch, at=at, sqlstate=sqlstate)
    body = world.sale_body(world.token(wallet))  # the world's first sale: three strings
    first = world.sell(body, idem="fail-1")
    assert fired == [at]
    assert first.status_code == 200 and first.json()["status"] == "approved"
    assert trips.speculations == 1
    again = world.sell(body, idem="fail-1")
    assert again.json() == first.json()
    assert _balance(world, wallet) == 10_000 - 280
    assert _sales_rows(backend_of(world.api).engine, body["sale_id"]) == 1
    _recovered(world, wallet, guard, trips, settings)


def test_an_exception_between_the_strings_leaves_no_trace(
    world: World, settings: Any, guard: Guard, trips: Trips, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Python exception after the first string (the transaction open, in autocommit mode
    on the driver): rolled back at once, nothing charged, the token not burnt, and the pool
    gets the connection back with no transaction and out of autocommit."""
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):  # the usual two strings from here on
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    insert_sale = finalize._insert_sale
    calls: list[int] = []

    def broken(session: Any, sale: Any) -> None:
        calls.append(1)
        assert session.info["batch"].driver.info.transaction_status != IDLE
        raise RuntimeError("a bug between the strings")

    monkeypatch.setattr(finalize, "_insert_sale", broken)
    body = world.sale_body(world.token(wallet))
    with pytest.raises(RuntimeError):
        world.sell(body, idem="bug-1")
    assert calls == [1]
    monkeypatch.setattr(finalize, "_insert_sale", insert_sale)
    assert _balance(world, wallet) == 10_000 - 2 * 280
    assert _sales_rows(backend_of(world.api).engine, body["sale_id"]) == 0
    retried = world.sell(body, idem="bug-1").json()  # nothing was stored under the key
    assert retried["status"] == "approved"  # and the token was not burnt
    assert _balance(world, wallet) == 10_000 - 3 * 280
    _recovered(world, wallet, guard, trips, settings)


def test_a_sale_id_inserted_meanwhile_fails_the_commit_string_with_its_debit(
    world: World, settings: Any, guard: Guard, trips: Trips, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real unique violation in the COMMIT string: another transaction commits a sale
    with the same sale_id after this one read that there was none. The debit queued before
    the sale's INSERT in the same string is rolled back with it; the rerun sees the other
    sale and refuses (422 sale_id_reused), charging nothing."""
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    engine = backend_of(world.api).engine
    body = world.sale_body(world.token(wallet))
    insert_sale = finalize._insert_sale
    raced: list[int] = []

    def racing(session: Any, sale: Any) -> None:
        if not raced:
            raced.append(1)
            row: dict[str, Any] = {c.name: None for c in _SALES.columns}
            row.update(
                sale_id=sale.sale_id, store_id="S001", terminal_id="T02", cashier_id="C1",
                currency="JPY", total=1, lines="[]", status="declined", risk="{}",
                cc_total=0, tobacco_total=0, store_region="", idempotency_key="other",
                created_at=0, updated_at=0,
            )  # fmt: skip
            with engine.begin() as other:
                other.execute(_SALES.insert(), row)
        insert_sale(session, sale)

    monkeypatch.setattr(finalize, "_insert_sale", racing)
    answer = world.sell(body, idem="race-1")
    assert raced == [1] and trips.speculations == 1
    assert (answer.status_code, answer.json()["error"]) == (422, "sale_id_reused")
    assert _balance(world, wallet) == 10_000 - 2 * 280
    with engine.connect() as conn:
        status = conn.execute(select(Sale.status).where(Sale.sale_id == body["sale_id"]))
        assert status.scalar_one() == "declined"  # the other one's, untouched
    monkeypatch.setattr(finalize, "_insert_sale", insert_sale)
    _next_sale_runs_batched_on_the_same_connection(world, wallet, guard, trips)
    guard.assert_clean()


def test_a_connection_lost_between_the_strings_is_a_503_and_the_retry_charges_once(
    world: World, settings: Any, guard: Guard, trips: Trips, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database ends the connection after the first string (a restart, a kill of its
    backend): nothing committed, 503; the till's retry with the same key charges once."""
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    engine = backend_of(world.api).engine
    insert_sale = finalize._insert_sale
    killed: list[int] = []

    def killing(session: Any, sale: Any) -> None:
        if not killed:
            pid = session.info["batch"].driver.info.backend_pid
            killed.append(pid)
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        insert_sale(session, sale)

    monkeypatch.setattr(finalize, "_insert_sale", killing)
    body = world.sale_body(world.token(wallet))
    lost = world.sell(body, idem="lost-1")
    assert killed and lost.status_code == 503, lost.text
    assert _balance(world, wallet) == 10_000 - 2 * 280
    retried = world.sell(body, idem="lost-1")
    assert retried.status_code == 200 and retried.json()["status"] == "approved"
    assert world.sell(body, idem="lost-1").json() == retried.json()
    assert _balance(world, wallet) == 10_000 - 3 * 280
    assert _sales_rows(engine, body["sale_id"]) == 1
    assert guard.outside == []
    assert all(mode == (False, IDLE) for mode in guard.checkins)
    _ledger_ok(settings)


@pytest.mark.parametrize("closed", [True, False], ids=["connection-lost", "answer-lost"])
def test_a_commit_whose_answer_is_lost_is_never_run_again(
    world: World,
    settings: Any,
    guard: Guard,
    trips: Trips,
    monkeypatch: pytest.MonkeyPatch,
    closed: bool,
) -> None:
    """The COMMIT string ran but its answer never came back (the connection lost with it,
    or an error after it): the sale may be charged, so the request is not run again (a
    rerun would meet its own nonce and answer 401 for a charged sale): 503, and the till's
    retry with the same key replays the stored answer; charged once."""
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    send = db._Batch.send
    lost: list[int] = []

    def answer_lost(self: db._Batch, *, commit: bool = False) -> None:
        send(self, commit=commit)
        if commit and not lost:
            lost.append(1)
            if closed:
                self.driver.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(db._Batch, "send", answer_lost)
    body = world.sale_body(world.token(wallet))
    first = world.sell(body, idem="commit-1")
    assert lost == [1] and first.status_code == 503, first.text
    assert trips.speculations == 0  # not run again on the portable path
    assert _balance(world, wallet) == 10_000 - 3 * 280  # it did commit
    retried = world.sell(body, idem="commit-1")
    assert retried.status_code == 200 and retried.json()["status"] == "approved"
    assert _balance(world, wallet) == 10_000 - 3 * 280
    assert _sales_rows(backend_of(world.api).engine, body["sale_id"]) == 1
    if not closed:  # the connection lives on: the next sale takes it
        _next_sale_runs_batched_on_the_same_connection(world, wallet, guard, trips)
    assert guard.outside == []
    assert all(mode == (False, IDLE) for mode in guard.checkins)
    _ledger_ok(settings)


def test_a_recreated_pool_still_takes_connections_out_of_autocommit(
    world: World, settings: Any, guard: Guard, trips: Trips, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After ``engine.dispose()`` (the pool rebuilt, as after a lost database) a batched
    transaction rolled back still gives its connection back out of autocommit: the checkin
    listener is the recreated pool's too."""
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    backend_of(world.api).engine.dispose()
    db.warm_pool(backend_of(world.api).engine, 1)  # prepared: BEGIN inline on the next sale
    fired = _inject(monkeypatch, at="commit", sqlstate="40001")
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    assert fired == ["commit"] and trips.speculations == 1
    _recovered(world, wallet, guard, trips, settings)


def test_orm_changes_left_for_the_commit_run_after_begin(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batched transaction that sent nothing yet and ends with ORM changes pending: the
    flush at the COMMIT runs after a BEGIN, in the transaction (psycopg's executemany in
    autocommit would run each row in a transaction of its own): a failing row takes the
    rows before it back with it."""
    backend = Backend(settings)
    outside: list[str] = []
    try:
        assert db.warm_pool(backend.engine, 1) == 1  # prepared already: BEGIN inline
        with db.transaction(backend.sessions) as session:
            session.add(Nonce(keyid="k", nonce="taken", created_at=1))
        _watch(monkeypatch, outside)
        with pytest.raises(db.Speculation), db.transaction(backend.sessions) as session:
            assert db.batch(session) and session.info["batch"].begin
            session.add(Nonce(keyid="k", nonce="new", created_at=2))
            session.add(Nonce(keyid="k", nonce="taken", created_at=2))
        assert outside == []
        with backend.engine.connect() as conn:
            rows = conn.execute(select(Nonce.nonce).where(Nonce.keyid == "k")).scalars()
            assert list(rows) == ["taken"]
            assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
    finally:
        backend.close()


def test_concurrent_batched_sales_of_one_wallet_charge_each_token_once(
    world: World, settings: Any, guard: Guard
) -> None:
    """Sales racing through the API on the batched path (several connections, each in
    BEGIN-inline mode at once): one token pays once, a wallet is never overdrawn, and no
    statement of any of them runs outside its transaction."""
    from concurrent.futures import ThreadPoolExecutor

    wallet = world.new_wallet(balance=1_000)  # three 280-yen sales, not four
    for _ in range(2):  # the usual two strings from here on
        world.top_up(wallet, 280)
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    shared = world.token(wallet)
    bodies = [world.sale_body(shared) for _ in range(4)]
    bodies += [world.sale_body(world.token(wallet)) for _ in range(6)]
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda body: world.sell(body).json(), bodies))
    shared_answers = sorted((a["status"], a["reason"]) for a in answers[:4])
    approved = [a for a in answers if a["status"] == "approved"]
    assert shared_answers.count(("approved", None)) <= 1
    assert {reason for status, reason in shared_answers if status != "approved"} <= {
        "token_already_used",
        "insufficient_funds",
    }
    assert len(approved) == 3
    assert _balance(world, wallet) == 1_000 - 3 * 280
    assert {a["reason"] for a in answers if a["status"] != "approved"} <= {
        "token_already_used",
        "insufficient_funds",
    }
    assert len({conn for conn, _ in guard.checkouts}) > 1  # they did overlap
    guard.assert_clean()
    _ledger_ok(settings)

"""The finalize's batched path on PostgreSQL (db.ahead / db.write) and its portable fallback.

A usual online sale on PostgreSQL sends its statements in two strings (the prefetched
reads and claims; the writes with the COMMIT) and runs nothing else on the driver; a
request that goes another way rolls back and runs again on the portable path, with the
same answer the portable path gives on SQLite.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from pos_app.server import admin, db, finalize
from pos_app.server.backend import Backend
from pos_app.server.settings import ServerSettings
from tests.server.server_support import Signer, Trips, World, backend_of

SLACK = ServerSettings.model_fields["contact_slack"].default


def _ledger_ok(world: World, settings: Any) -> None:
    report = admin.check_ledger(settings.data_dir, settings.db_url)
    assert report["ok"], report


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_usual_sale_is_two_batches_on_postgres(world: World, settings: Any, trips: Trips) -> None:
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):  # the first sales also create, then remember, the store's account
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    token = world.token(wallet)
    trips.reset()
    answer = world.sell(world.sale_body(token)).json()
    assert answer["status"] == "approved"
    # Reads and claims (signature, nonce, contact, key, sale_id, redemption, device lock,
    # three history reads), then debit, journal, credit, sale, stored answer and COMMIT.
    assert trips.batches == [10, 6] and trips.single == 0 and trips.speculations == 0
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 3 * 280
    _ledger_ok(world, settings)


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every command psycopg sends by itself (BEGIN, COMMIT, ROLLBACK), in order."""
    from psycopg import Connection

    seen: list[bytes] = []
    own = Connection._exec_command

    def recorded(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(command if isinstance(command, bytes) else str(command).encode())
        return own(self, command, *args, **kwargs)

    monkeypatch.setattr(Connection, "_exec_command", recorded)
    return seen


def _pool_modes(world: World) -> list[bool]:
    """The autocommit mode of every connection in the server's pool."""
    backend = backend_of(world.api)
    modes: list[bool] = []
    pool = backend.engine.pool
    assert isinstance(pool, QueuePool)
    for _ in range(pool.checkedin()):
        conn = backend.engine.raw_connection()
        modes.append(conn.driver_connection.autocommit)  # type: ignore[union-attr]
        conn.close()
    return modes


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_begin_travels_with_the_first_batch(
    world: World, settings: Any, trips: Trips, sent: list[str], commands: list[bytes]
) -> None:
    """A usual sale's BEGIN goes at the head of its first string (psycopg would otherwise
    send it alone first: one round trip more per sale), and the connection goes back to
    the pool in psycopg's usual mode whether the transaction committed or rolled back, so
    no later transaction on it runs statement by statement in autocommit."""
    wallet = world.new_wallet(balance=600)
    for _ in range(2):  # the terminal's key known, the store's account remembered
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    body = world.sale_body(world.token(wallet))
    sent.clear()
    commands.clear()
    trips.reset()
    declined = world.sell(body).json()  # 40 left: batched, then portable
    assert (declined["status"], declined["reason"]) == ("declined", "insufficient_funds")
    assert trips.speculations == 1
    assert sent[0].startswith("BEGIN; EXECUTE ")
    # The batched attempt: no BEGIN of psycopg's, the debit's guard fails the COMMIT string,
    # ROLLBACK; then the portable rerun: psycopg's BEGIN and COMMIT, one by one.
    assert commands == [b"ROLLBACK", b"BEGIN", b"COMMIT"]
    assert not any(_pool_modes(world))
    assert world.top_up(wallet, 10_000).status_code == 201
    body = world.sale_body(world.token(wallet))
    sent.clear()
    commands.clear()
    trips.reset()
    assert world.sell(body).json()["status"] == "approved"
    assert (trips.batches, trips.speculations) == ([10, 6], 0)
    assert sent[0].startswith("BEGIN; EXECUTE ") and sent[-1].endswith("; COMMIT")
    assert commands == []  # nothing else: two round trips for the sale's transaction
    assert not any(_pool_modes(world))
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 600 - 2 * 280 + 10_000 - 280
    _ledger_ok(world, settings)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_first_statement_through_the_orm_still_runs_in_the_transaction(settings: Any) -> None:
    """A batched transaction whose first statement goes through SQLAlchemy (nothing sent
    ahead yet) sends BEGIN before it: its statements share one transaction, not one each."""
    backend = Backend(settings)
    try:
        assert db.warm_pool(backend.engine, 1) == 1  # prepared already: batch() runs nothing
        with db.transaction(backend.sessions) as session:
            assert db.batch(session)
            assert session.info["batch"].begin  # BEGIN waits for the first string
            first = session.execute(text("SELECT txid_current()")).scalar()
            again = session.execute(text("SELECT txid_current()")).scalar()
        assert first == again
        with backend.engine.connect() as conn:
            assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
    finally:
        backend.close()


def test_insufficient_funds_falls_back_and_declines(
    world: World, settings: Any, db_url: str, trips: Trips
) -> None:
    wallet = world.new_wallet(balance=300)
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    trips.reset()
    answer = world.sell(world.sale_body(world.token(wallet))).json()
    assert (answer["status"], answer["reason"]) == ("declined", "insufficient_funds")
    # PostgreSQL learns it from the batched debit's guard (a division by zero) at commit,
    # rolls back, and declines on the portable path; SQLite takes that path at once.
    assert trips.speculations == (1 if "postgresql" in db_url else 0)
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 300 - 280
    _ledger_ok(world, settings)


def test_replayed_key_falls_back_to_the_stored_answer(
    world: World, settings: Any, db_url: str, trips: Trips
) -> None:
    wallet = world.new_wallet(balance=10_000)
    body = world.sale_body(world.token(wallet))
    first = world.sell(body, idem="replay-1")
    trips.reset()
    again = world.sell(body, idem="replay-1")
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    # The prefetched redemption is never asked for: its write must not commit.
    assert trips.speculations == (1 if "postgresql" in db_url else 0)
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 280
    _ledger_ok(world, settings)


def test_declined_token_leaves_no_redemption(world: World, settings: Any) -> None:
    wallet = world.new_wallet(balance=10_000)
    token = world.token(wallet)
    assert world.sell(world.sale_body(token)).json()["status"] == "approved"
    again = world.sell(world.sale_body(token)).json()
    assert (again["status"], again["reason"]) == ("declined", "token_already_used")
    poor = world.new_wallet(balance=10)
    poor_token = world.token(poor)
    declined = world.sell(world.sale_body(poor_token)).json()
    assert declined["reason"] == "insufficient_funds"
    world.top_up(poor, 1_000)
    # The declined attempt did not burn the token, batched or not.
    assert world.sell(world.sale_body(poor_token)).json()["status"] == "approved"
    _ledger_ok(world, settings)


def test_bad_signature_is_refused_before_the_token_is_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Authentication first: a request whose signature fails never verifies its PT1 token
    (no Ed25519 work or sale logic for an unauthenticated caller), batched or not."""
    verified: list[str] = []
    verify_token = finalize._verify_token

    def counted(backend: Any, session: Any, text: str, *, now: int) -> Any:
        verified.append(text)
        return verify_token(backend, session, text, now=now)

    monkeypatch.setattr(finalize, "_verify_token", counted)
    wallet = world.new_wallet(balance=10_000)
    forger = Signer(Ed25519PrivateKey.generate(), world.terminal.keyid, world.terminal.tag)

    def forged() -> Any:
        # A valid token, signed with another key under the terminal's keyid.
        return world.api.post("/v1/sales", world.sale_body(world.token(wallet)), signer=forger)

    before = forged()  # whether or not this process knows the terminal's key yet
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    assert len(verified) == 1
    after = forged()  # the terminal's key is known now: checked before anything else
    assert before.status_code == after.status_code == 401
    assert before.json() == after.json()
    assert after.json()["error"] == "bad_signature"
    assert len(verified) == 1
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 280


def _contact_rows(settings: Any) -> tuple[tuple[Any, Any], list[tuple[int, int]]]:
    """The terminal's stretch going on (contact_since, contact_last) and its closed ones."""
    engine = db.make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            going_on = conn.execute(text("SELECT contact_since, contact_last FROM terminals")).one()
            closed = conn.execute(
                text("SELECT started_at, ended_at FROM terminal_contacts ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    return (going_on[0], going_on[1]), [(int(a), int(b)) for a, b in closed]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_tills_first_sale_and_a_sale_after_silence_are_batched(
    world: World, settings: Any, clock: Any, trips: Trips
) -> None:
    """Each till's first sale after a start, and its first after a silence longer than the
    slack (a new stretch of contact), go the batched way: before, the first rolled back a
    batch and ran again portably (no key known for its keyid, then a new stretch)."""
    wallet = world.new_wallet(balance=10_000)
    tokens = [world.token(wallet) for _ in range(3)]
    trips.reset()
    first_at = clock.now()
    assert world.sell(world.sale_body(tokens[0])).json()["status"] == "approved"
    # The key read ahead of the signature check (one statement), then the reads and claims
    # with the new stretch as one string, and the writes with the COMMIT (in two parts
    # while the store's first sales create, then remember, its account through the ORM).
    assert (trips.single, trips.speculations) == (1, 0)
    assert trips.batches[0] == 11 and sum(trips.batches) == 17
    assert _contact_rows(settings) == ((first_at, first_at), [])
    clock.advance(30)
    trips.reset()
    assert world.sell(world.sale_body(tokens[1])).json()["status"] == "approved"
    assert (trips.batches[0], sum(trips.batches), trips.single, trips.speculations) == (
        10,
        16,
        0,
        0,
    )
    last_at = clock.now()
    clock.advance(SLACK + 60)  # silence: that stretch is over
    trips.reset()
    assert world.sell(world.sale_body(tokens[2])).json()["status"] == "approved"
    # The new stretch sent ahead; with the COMMIT, the purge of closed stretches past the
    # offline period (the portable path's too).
    assert (trips.batches, trips.single, trips.speculations) == ([11, 7], 0, 0)
    # As the portable path records it: the closed stretch kept, a new one from now.
    assert _contact_rows(settings) == ((clock.now(), clock.now()), [(first_at, last_at)])
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 3 * 280
    _ledger_ok(world, settings)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_warm_pool_opens_connections_and_runs_nothing(world: World, settings: Any) -> None:
    """``serve``'s workers open their pool before taking traffic and plan the usual
    statements on each connection (EXPLAIN: nothing runs, nothing is written)."""
    wallet = world.new_wallet(balance=10_000)
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    before = _contact_rows(settings), admin.check_ledger(settings.data_dir, settings.db_url)
    backend = Backend(settings.model_copy(update={"db_pool_size": 3}))
    try:
        assert backend.engine.pool.checkedin() == 0  # type: ignore[attr-defined]
        backend.warm()
        assert backend.engine.pool.checkedin() == 3  # type: ignore[attr-defined]
        assert backend._verifier_cache is not None  # the PT1 verifier is built already
        assert db.warm_pool(backend.engine, 10) == 3  # never more than the pool keeps
    finally:
        backend.close()
    after = _contact_rows(settings), admin.check_ledger(settings.data_dir, settings.db_url)
    assert after == before
    assert db.warm_pool(db.make_engine("sqlite://"), 5) == 0


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every batch the server sends, in order."""
    texts: list[str] = []
    join = db._join

    def seen(parts: Any) -> Any:
        joined = join(parts)
        texts.append(joined[0])
        return joined

    monkeypatch.setattr(db, "_join", seen)
    return texts


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_usual_statements_go_prepared_and_survive_a_lost_name(
    world: World, settings: Any, trips: Trips, sent: list[str]
) -> None:
    """The batches send the usual statements as EXECUTE of statements each connection
    PREPAREd once (PostgreSQL parses and plans them once, not on every sale). A name lost
    behind the pool's back (DEALLOCATE) costs one rerun on the portable path, with the
    same answer, and the next batch prepares them again."""
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):  # the terminal's key known, the store's account remembered
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    sent.clear()
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    statements = [part for text in sent for part in text.split("; ")]
    assert len(statements) == 17 and (statements[0], statements[-1]) == ("BEGIN", "COMMIT")
    assert all(part.startswith("EXECUTE pos_usual_") for part in statements[1:-1])
    backend = backend_of(world.api)
    engine = backend.engine
    with engine.connect() as conn:  # every pooled connection loses its prepared statements
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("DEALLOCATE ALL")
    trips.reset()
    # The pool holds one connection here (requests one at a time): the one just cleared.
    assert isinstance(engine.pool, QueuePool)
    assert engine.pool.checkedin() == 1
    lost = world.sell(world.sale_body(world.token(wallet)))
    assert lost.status_code == 200 and lost.json()["status"] == "approved"
    assert trips.speculations == 1  # the batch failed on the lost name, ran again portably
    sent.clear()
    trips.reset()
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    assert trips.speculations == 0 and trips.batches == [10, 6]
    assert all(p.startswith(("EXECUTE", "BEGIN")) for t in sent for p in t.split("; ")[:-1])
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 5 * 280
    _ledger_ok(world, settings)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_connection_that_cannot_prepare_sends_the_statements_text(
    world: World, settings: Any, trips: Trips, sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PREPARE the database refuses (here: a statement naming no table) fails that one
    request's batch, which runs again portably with the same answer; the connection then
    sends the statements' text, as before preparing existed, and stays batched."""
    preparables = db._preparables

    def broken(dialect: Any, count: int) -> Any:
        found = dict(preparables(dialect, count))
        first = next(iter(found))
        found[first] = db._Preparable(
            "PREPARE pos_broken AS SELECT * FROM no_such_table", found[first].execute
        )
        return found

    backend = backend_of(world.api)
    backend.engine.dispose()  # new connections: none has prepared anything yet
    monkeypatch.setattr(db, "_preparables", broken)
    wallet = world.new_wallet(balance=10_000)
    for _ in range(2):  # the first sales on the new connection: key read, store's account
        assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    assert trips.speculations == 1  # the PREPARE failed once, that request ran portably
    sent.clear()
    trips.reset()
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"
    assert (trips.batches, trips.speculations) == ([10, 6], 0)
    assert not any(p.startswith("EXECUTE") for t in sent for p in t.split("; "))
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000 - 3 * 280
    _ledger_ok(world, settings)

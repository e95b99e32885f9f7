"""Engine, sessions and schema migrations.

SQLite (the embedded default) runs every transaction as ``BEGIN IMMEDIATE``:
writers queue on the database lock up front instead of failing at commit with
"database is locked", which is what makes a redemption atomic across several
app-server processes sharing one file. PostgreSQL relies on row locks and the
unique constraint on the redeemed ``cti``.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_MS = 30_000


POOL_SIZE = 20
POOL_OVERFLOW = 10


def make_engine(url: str, *, pre_ping: bool = False, pool_size: int = POOL_SIZE) -> Engine:
    """The engine for *url*. Without *pre_ping* a pooled connection is not tested on every
    checkout (a round trip per transaction); after a database restart the first request on
    a dead connection fails (503: retry with the same key) and SQLAlchemy drops the whole
    pool, so the retry gets a fresh connection."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # Connections kept open for as many requests as one worker has in flight under load (a
    # connection beyond ``pool_size`` is closed when given back: a new one costs a login
    # and prepares the usual statements again); at most 10 more under a burst.
    # psycopg prepares nothing by itself (``prepare_threshold``): the usual statements are
    # prepared by name (:func:`_prepare`), and psycopg answers any ROLLBACK on a connection
    # where it prepared statements with DEALLOCATE ALL, which would drop ours too.
    engine = create_engine(
        url,
        pool_pre_ping=pre_ping,
        pool_size=pool_size,
        max_overflow=POOL_OVERFLOW,
        connect_args={"prepare_threshold": None},
    )
    event.listen(engine, "before_cursor_execute", _send_batch)
    event.listen(engine, "checkin", _leave_autocommit)
    return engine


def warm_pool(engine: Engine, count: int) -> int:
    """Open up to *count* pooled connections now, each planning the usual request path's
    statements once (:func:`usual`), and keep them in the pool; how many were opened.

    A worker does this before it takes traffic. Otherwise the first burst of requests
    (every till's first sale after a start) each waits for a new connection (a login, a
    backend process forked by PostgreSQL) whose first plans read the catalog for each
    table, index, operator and type they name (about 5-10 ms of the database's CPU for a
    usual sale, about 1 ms once it knows them), all at the same moment. Best effort: a
    refusal (``max_connections`` reached, the database down) leaves the rest to be opened
    on demand. SQLite: nothing to open."""
    if engine.dialect.name == "sqlite":
        return 0
    rehearsal = _join(_rehearsal(engine.dialect)) if _USUAL else None
    opened: list[Any] = []
    try:
        for _ in range(min(count, engine.pool.size())):  # type: ignore[attr-defined]
            connection = engine.connect()
            opened.append(connection)
            connection.exec_driver_sql("SELECT 1")
            driver = connection.connection.driver_connection
            if rehearsal is not None:
                _client_cursor(driver).execute(*rehearsal)
            _prepare(connection.connection.info, driver, engine.dialect)
    except (DBAPIError, Speculation) as exc:
        log.warning("opened %d database connections ahead: %s", len(opened), type(exc).__name__)
    finally:
        for connection in opened:
            connection.close()  # back to the pool, kept (at most pool_size of them)
    return len(opened)


# The statements of the usual request path (:func:`usual`), for :func:`warm_pool`.
_USUAL: list[Any] = []


def usual(*statements: Any) -> None:
    """Mark *statements* (Core statements, or ORM models: :func:`insert_new` on their table)
    as the usual request path's, for :func:`warm_pool`."""
    _USUAL.extend(statements)


def _rehearsal(dialect: Any) -> list[tuple[_Compiled, dict[str, Any]]]:
    """EXPLAIN (plan, never run) of every :func:`usual` statement, with placeholder values
    of the parameters' types. Compiled through :func:`_compile`, so the process's own
    compiled forms are ready too (not made by every thread of the first burst at once)."""
    parts: list[tuple[_Compiled, dict[str, Any]]] = []
    for item in _USUAL:
        statement = item
        if not hasattr(item, "compile"):
            statement = _insert_new_statement(dialect.name, item.__table__)
        ready = _compile(statement, dialect)
        binds = statement.compile(dialect=dialect).binds
        values = {
            name: _placeholder(binds[name].type)
            for name, fixed in ready.defaults.items()
            if fixed is None and name in binds
        }
        parts.append((_Compiled("EXPLAIN " + ready.sql, ready.defaults, None), values))
    return parts


def _placeholder(kind: Any) -> Any:
    try:
        python_type = kind.python_type
    except NotImplementedError:  # JSON and the like: NULL plans the same
        return None
    return {int: 0, str: "", bytes: b"", bool: False}.get(python_type)


# PostgreSQL parses, analyses and plans every statement of a simple-protocol string each
# time it comes: about a third of its CPU for a usual sale (1.7 -> 1.2 ms measured with the
# statements prepared, docs/BACKEND.md). Each pooled connection
# therefore PREPAREs the usual statements once (one round trip, the first time it carries
# a batch, or when :func:`warm_pool` opens it), and batches send them as EXECUTE with the
# same values. A prepared statement outlives any transaction (PREPARE is not transactional)
# and lives as long as its connection (psycopg prepares nothing of its own here: see
# :func:`make_engine`). A connection whose PREPARE failed (a schema not migrated yet...)
# sends the statements' text, as before.
_PREPARED_KEY = "pos_prepared"
_UNDEFINED_STATEMENT = "26000"  # invalid_sql_statement_name: no prepared statement so named


@dataclass(frozen=True)
class _Preparable:
    prepare: str  # PREPARE name AS <the statement with $1, $2...>
    execute: _Compiled  # EXECUTE name(%(a)s, %(b)s...): bound on the client like the text


@functools.cache
def _preparables(dialect: Any, count: int) -> dict[int, _Preparable]:
    """The PREPARE and EXECUTE forms of each of the first *count* :func:`usual` statements,
    by the id of its compiled form (:func:`_compile`, which keeps it alive)."""
    found: dict[int, _Preparable] = {}
    for number, item in enumerate(_USUAL[:count]):
        statement = item
        if not hasattr(item, "compile"):
            statement = _insert_new_statement(dialect.name, item.__table__)
        compiled = _compile(statement, dialect)
        names = list(dict.fromkeys(_PARAM.findall(compiled.sql)))
        name = f"pos_usual_{number}"
        body = compiled.sql
        for position, param in enumerate(names, start=1):
            body = body.replace(f"%({param})s", f"${position}")
        arguments = ", ".join(f"%({n})s" for n in names)
        execute = f"EXECUTE {name}({arguments})" if names else f"EXECUTE {name}"
        found[id(compiled)] = _Preparable(
            f"PREPARE {name} AS {body.replace('%%', '%')}",
            _Compiled(execute, compiled.defaults, None),
        )
    return found


def _prepare(info: dict[str, Any], driver: Any, dialect: Any) -> dict[int, _Compiled]:
    """The usual statements prepared on this pooled connection (*info*: its record's, kept
    while the connection lives): PREPAREd now if they are not yet, in one round trip."""
    known: dict[int, _Compiled] | None = info.get(_PREPARED_KEY)
    if known is not None:
        return known  # prepared (or failed: empty) when this connection first batched
    if not _USUAL:
        return {}
    preparables = _preparables(dialect, len(_USUAL))
    try:
        with driver.cursor() as cursor:
            # DEALLOCATE ALL first: after a lost name (below) some may still exist.
            cursor.execute(
                "; ".join(["DEALLOCATE ALL", *(p.prepare for p in preparables.values())])
            )
    except dialect.loaded_dbapi.Error as exc:
        # Nothing prepared is used on this connection: the transaction the PREPAREs ran
        # in failed, the request runs again unbatched (a name may exist, never reused).
        info[_PREPARED_KEY] = {}
        log.warning("usual statements not prepared: %s", type(exc).__name__)
        raise Speculation("PREPARE failed") from exc
    ready = {key: p.execute for key, p in preparables.items()}
    info[_PREPARED_KEY] = ready
    return ready


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN IMMEDIATE is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    _SQLITE_LOCKS[engine] = threading.RLock()
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# SQLite has one writer at a time. Threads of this process queue on a lock
# (FIFO-ish, no sleeping) instead of SQLite's busy handler, whose back-off sleeps
# grow to 100 ms and make the latency tail long; other processes still meet the
# busy timeout.
_SQLITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


# The transaction this thread is running for a request, if any (see ``transaction``).
_AMBIENT = threading.local()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception.

    Inside an outer ``transaction`` of the same factory on this thread, the inner one joins
    it: the request pipeline opens one transaction for the signature's nonce, the
    idempotency claim, the work and the stored answer, so they commit together or not at
    all, while the services keep their own ``with transaction(...)`` blocks.
    """
    current = getattr(_AMBIENT, "session", None)
    if current is not None and getattr(_AMBIENT, "factory", None) is factory:
        yield current
        return
    bind = factory.kw.get("bind")
    lock = _SQLITE_LOCKS.get(bind) if isinstance(bind, Engine) else None
    with lock if lock is not None else nullcontext(), factory() as session:
        dbapi_error = session.get_bind().dialect.loaded_dbapi.Error
        try:
            with session.begin():
                _AMBIENT.session, _AMBIENT.factory = session, factory
                try:
                    yield session
                    _finish_batch(session, commit=True)
                finally:
                    _AMBIENT.session = _AMBIENT.factory = None
                    _finish_batch(session, commit=False)
        except (dbapi_error, DBAPIError) as exc:
            if session.info.get("speculating"):
                raise Speculation("a batched statement failed") from exc  # run again, plainly
            if isinstance(exc, DBAPIError):
                raise
            # Statements run on the DB-API cursor (``raw``) raise the driver's errors: the
            # same SQLAlchemy exceptions as the ORM's (IntegrityError: a lost race, retried;
            # OperationalError: 503) whichever way the statement went.
            raise DBAPIError.instance(None, None, exc, dbapi_error) from exc


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def insert_new(session: Session, model: Any, **values: Any) -> bool:
    """INSERT a row unless its key exists; True when this call inserted it.

    One statement (``ON CONFLICT DO NOTHING``) instead of a savepoint around a failing
    INSERT. On PostgreSQL a concurrent uncommitted insert of the same key makes this wait
    for that transaction, so the loser then reads the winner's committed row.
    """
    statement = _insert_new_statement(session.get_bind().dialect.name, model.__table__)
    return raw(session, statement, values).fetchone() is not None


# --- the request path's statements, on the DB-API connection ------------------------------------
#
# A Core statement run through ``Session.execute`` costs about 150 us of CPU in SQLAlchemy
# (execution context, result set-up, ORM events), the same statement on the DB-API cursor
# about 25 us: a finalize runs about fifteen. ``raw`` compiles a statement built once
# (module level, bound parameters) once per dialect and runs it on the cursor of the
# session's own connection, inside the session's transaction. Values go to the driver as
# they are (ints, strings, bytes, None; JSON as text made by the caller); rows come back as
# the driver's tuples.


@dataclass(frozen=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]
    positions: tuple[str, ...] | None  # qmark drivers (sqlite3): parameter order


_COMPILED: dict[tuple[int, str], tuple[Any, _Compiled]] = {}


def raw(session: Session, statement: Any, params: dict[str, Any] | None = None) -> Any:
    """Run *statement* (Core, built once) in the session's transaction; the DB-API cursor.

    Pending ORM changes are flushed first, as ``Session.execute`` would. Rows read here are
    not ORM objects, and rows changed here are not refreshed in the session's identity map:
    use it for statements whose rows the request does not also hold as ORM objects.
    """
    _flush_pending(session)
    batch: _Batch | None = session.info.get("batch")
    if batch is not None:
        rows = batch.take(statement, params or {})
        if rows is not None:
            return rows
        batch.send()  # what was queued before it runs before it
    cursor, dialect = _cursor(session)
    return _execute(cursor, _compile(statement, dialect), params)


def write(session: Session, statement: Any, params: dict[str, Any] | None = None) -> None:
    """Run a statement whose result nobody reads (UPDATE, INSERT without RETURNING).

    In a batched transaction (:func:`batch`) it is queued and sent with the next statement
    whose rows are read, or with the COMMIT: its error, if any, comes then, and still fails
    the transaction. Elsewhere it runs at once, as :func:`raw` does.
    """
    batch: _Batch | None = session.info.get("batch")
    if batch is None or _pending(session):
        raw(session, statement, params)
    elif batch.take(statement, params or {}) is None:
        batch.queued.append((_compile(statement, batch.dialect), params or {}))


def sent_ahead(session: Session, statement: Any, params: dict[str, Any]) -> bool:
    """Claim *statement* with *params* if it was prefetched (:func:`ahead`) in this
    batched transaction; whether it was (then it ran, in its place in the batch)."""
    batch: _Batch | None = session.info.get("batch")
    return batch is not None and batch.take(statement, params) is not None


def _execute(cursor: Any, compiled: _Compiled, params: dict[str, Any] | None) -> Any:
    values = {**compiled.defaults, **params} if params else compiled.defaults
    if compiled.positions is not None:
        cursor.execute(compiled.sql, tuple(values[name] for name in compiled.positions))
    else:
        cursor.execute(compiled.sql, values)
    return cursor


def _pending(session: Session) -> bool:
    """ORM changes not yet sent: they must reach the database before a statement of ours.

    The test ``Session.flush`` makes itself (new, deleted or modified objects): asked about
    fifteen times per finalize, where ``new or deleted or dirty`` built three sets each time."""
    return not session._is_clean()


def _flush_pending(session: Session) -> None:
    if _pending(session):
        session.flush()


def _cursor(session: Session) -> tuple[Any, Any]:
    held = session.info.get("raw_cursor")
    if held is None:
        connection = session.connection()  # begins the session's transaction if need be
        held = (connection.connection.driver_connection.cursor(), connection.dialect)  # type: ignore[union-attr]
        session.info["raw_cursor"] = held
    return held


# --- PostgreSQL: a request's statements in a few round trips -----------------------------------
#
# Each statement is a round trip to the server, and on the finalize path the driver's work
# per statement (a send, a wait, a receive, each through psycopg's Python layers) costs more
# CPU than anything else. A request that knows which statements its usual path runs sends
# them up front (``ahead``) as ONE query string of several statements (values bound on the
# client, psycopg's ClientCursor, the simple query protocol); ``raw`` hands the caller the
# prefetched rows when it asks for the same statement with the same values. ``write``
# queues the statements nobody reads; the queue goes with the next read, or with the
# COMMIT, again as one string. The usual path is then three round trips (BEGIN, the reads,
# the writes with COMMIT) instead of about eighteen, with the same statements in the same
# order.
#
# Prefetching is speculation: when the request goes another way and leaves a prefetched
# write unclaimed (a replayed key, a sale already recorded...), asks for a prefetched write
# with other values, or a batched statement fails, the transaction rolls back
# (:class:`Speculation`) and the caller runs the request again without it: the portable
# path, the one SQLite always takes. A statement through SQLAlchemy (the ORM) sends what is
# queued first, so it sees every statement before it done.


class Speculation(Exception):
    """The request did not take the path its prefetched statements assumed."""


class _Rows:
    """A prefetched statement's result, read like the DB-API cursor ``raw`` returns."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows


@dataclass
class _Ahead:
    compiled: _Compiled
    params: dict[str, Any]
    required: bool  # a write: the request must ask for it, or the transaction is void
    rows: _Rows | None = None  # once sent


@dataclass
class _Batch:
    connection: Any  # SQLAlchemy's Connection (its info holds this, for the ORM's statements)
    driver: Any  # the psycopg connection
    dialect: Any
    ahead: dict[int, list[_Ahead]] = field(default_factory=dict)
    unsent: list[_Ahead] = field(default_factory=list)
    queued: list[tuple[_Compiled, dict[str, Any]]] = field(default_factory=list)
    # The statements prepared on this connection (:func:`_prepare`): sent as EXECUTE.
    prepared: dict[int, _Compiled] = field(default_factory=dict)
    # BEGIN goes at the head of the first string sent (:func:`batch`), not as a round trip
    # of its own: True until that string is sent.
    begin: bool = False

    def take(self, statement: Any, params: dict[str, Any]) -> _Rows | None:
        """The result of a prefetched *statement* with these *params*, or None."""
        waiting = self.ahead.get(id(statement))
        if not waiting:
            return None
        for i, ahead in enumerate(waiting):
            if ahead.params == params:
                del waiting[i]
                if ahead.rows is None:
                    self.send()
                assert ahead.rows is not None
                return ahead.rows
        if any(ahead.required for ahead in waiting):
            raise Speculation("a prefetched write was asked with other values")
        return None

    def unclaimed(self) -> bool:
        return any(a.required for waiting in self.ahead.values() for a in waiting)

    def send(self, *, commit: bool = False) -> None:
        """Run the prefetched and the queued statements (and COMMIT): one round trip."""
        parts = [(a.compiled, a.params) for a in self.unsent] + self.queued
        if commit:
            parts.append((_COMMIT, {}))
        if not parts and not self.begin:
            return
        if self.prepared:
            parts = [(self.prepared.get(id(c), c), values) for c, values in parts]
        begin, self.begin = self.begin, False
        if begin:
            parts.insert(0, (_BEGIN, {}))
        cursor = _client_cursor(self.driver)
        try:
            cursor.execute(*_join(parts))
        except self.dialect.loaded_dbapi.Error as exc:
            if getattr(exc, "sqlstate", None) == _UNDEFINED_STATEMENT:
                # A prepared statement is gone (DEALLOCATEd behind our back): this request
                # runs again unbatched, the connection's next batch prepares them again.
                self.connection.connection.info.pop(_PREPARED_KEY, None)
            raise
        if begin and len(parts) > 1:
            cursor.nextset()  # past BEGIN's result
        for ahead in self.unsent:
            has_rows = cursor.pgresult.status == _TUPLES_OK  # not .description: it builds
            ahead.rows = _Rows(cursor.fetchall() if has_rows else [], cursor.rowcount)
            cursor.nextset()
        self.unsent, self.queued = [], []


def _client_cursor(driver: Any) -> Any:
    from psycopg import ClientCursor

    return ClientCursor(driver)


_COMMIT = _Compiled("COMMIT", {}, None)
_BEGIN = _Compiled("BEGIN", {}, None)
_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open
_TUPLES_OK = 2  # libpq's PGRES_TUPLES_OK: the statement returned rows (maybe none)
_INTRANS, _INERROR = 2, 3  # libpq's PQTRANS_INTRANS, PQTRANS_INERROR (a statement failed)
JOINED_KEEP = 256
# The joined text of a sequence of statements (the same few sequences come every time).
_JOINED: dict[tuple[int, ...], tuple[tuple[_Compiled, ...], str]] = {}


def _join(parts: list[tuple[_Compiled, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """Several statements as one string, each one's parameters renamed apart (``p<i>_``)."""
    key = tuple(id(compiled) for compiled, _ in parts)
    known = _JOINED.get(key)
    if known is None or any(a is not b for a, (b, _) in zip(known[0], parts, strict=True)):
        text = "; ".join(
            _PARAM.sub(f"%(p{i}_\\1)s", compiled.sql) for i, (compiled, _) in enumerate(parts)
        )
        if len(_JOINED) > JOINED_KEEP:
            _JOINED.clear()
        known = _JOINED[key] = (tuple(compiled for compiled, _ in parts), text)
    values: dict[str, Any] = {}
    for i, (compiled, params) in enumerate(parts):
        merged = {**compiled.defaults, **params} if params else compiled.defaults
        values.update({f"p{i}_{name}": value for name, value in merged.items()})
    return known[1], values


_PARAM = re.compile(r"%\((\w+)\)s")


def batch(session: Session) -> bool:
    """Batch this transaction's statements (PostgreSQL; False elsewhere): see above."""
    if session.get_bind().dialect.name != "postgresql" or "batch" in session.info:
        return False
    _flush_pending(session)
    connection = session.connection()
    driver = connection.connection.driver_connection
    prepared = _prepare(connection.connection.info, driver, connection.dialect)
    found = _Batch(connection, driver, connection.dialect, prepared=prepared)
    found.begin = _begin_inline(driver)
    session.info["batch"] = connection.info["batch"] = found
    session.info["speculating"] = True
    return True


def _begin_inline(driver: Any) -> bool:
    """Let this transaction's BEGIN travel at the head of its first batch (one round trip
    less per request): psycopg otherwise sends BEGIN alone before the first statement.

    The connection goes to autocommit mode, in which psycopg sends no BEGIN of its own;
    the transaction is still one, opened by the BEGIN in the string, and psycopg's commit
    and rollback act on the server's transaction status, not on that mode. The mode is
    set back when the transaction ends: after the COMMIT (:func:`_finish_batch`), or when
    the connection goes back to the pool after a rollback (:func:`_leave_autocommit`), so
    no other transaction ever runs on it in autocommit mode. Only with psycopg's plain
    BEGIN (no isolation level or access mode of its own) and no transaction open yet."""
    if (
        driver.autocommit
        or driver.info.transaction_status != _IDLE
        or driver.isolation_level is not None
        or driver.read_only is not None
        or driver.deferrable is not None
    ):
        return False
    driver.autocommit = True
    return True


def _leave_autocommit(dbapi_connection: Any, record: Any) -> None:
    """Pool ``checkin``: a connection whose batched transaction did not commit (it was
    rolled back, or its BEGIN was never sent) leaves :func:`_begin_inline`'s mode."""
    if dbapi_connection is None or not getattr(dbapi_connection, "autocommit", False):
        return
    if dbapi_connection.closed:
        return  # lost: the pool opens another
    try:
        if dbapi_connection.info.transaction_status != _IDLE:
            dbapi_connection.rollback()  # the pool's reset did already; never left open
        dbapi_connection.autocommit = False
    except Exception:  # whatever failed, this connection is not reused
        record.invalidate()


def batched(session: Session) -> bool:
    """Whether a write now is queued (so its row count is not known before commit)."""
    return "batch" in session.info


def ahead(
    session: Session, statement: Any, params: dict[str, Any], *, required: bool | None = None
) -> None:
    """Prefetch *statement* in a batched transaction, for a later ``raw`` to claim.

    *required* (default: for INSERT, UPDATE, DELETE) voids the transaction unless claimed:
    pass False for a write whose own condition makes it a no-op where it is not wanted.
    """
    found: _Batch = session.info["batch"]
    need = bool(getattr(statement, "is_dml", False)) if required is None else required
    entry = _Ahead(_compile(statement, found.dialect), params, need)
    found.ahead.setdefault(id(statement), []).append(entry)
    found.unsent.append(entry)


def insert_new_ahead(session: Session, model: Any, **values: Any) -> None:
    """:func:`insert_new` prefetched (claimed by the same ``insert_new`` later)."""
    ahead(session, _insert_new_statement("postgresql", model.__table__), values)


def _finish_batch(session: Session, *, commit: bool) -> None:
    found: _Batch | None = session.info.pop("batch", None)
    if found is None:
        return
    found.connection.info.pop("batch", None)
    if not commit:
        return
    if found.unclaimed():
        raise Speculation("a prefetched write was not asked for")
    if found.begin and _pending(session):  # nothing sent yet: the flush runs after BEGIN
        found.driver.execute("BEGIN")
        found.begin = False
    _flush_pending(session)
    # The queued writes and the COMMIT in one round trip; SQLAlchemy's own commit then finds
    # the transaction closed. After an error PostgreSQL runs none of the rest.
    try:
        found.send(commit=True)
        if found.driver.autocommit:  # committed: psycopg's own BEGIN again from here on
            found.driver.autocommit = False
    except found.dialect.loaded_dbapi.Error:
        # Run again (Speculation) only when nothing committed: the server refused a
        # statement (the transaction is failed) or the string was never sent (still in the
        # transaction). Otherwise (the connection lost with the COMMIT sent) it may have
        # committed, nonce and sale and answer: a rerun would meet its own nonce (a 401 for
        # a charged sale). Fail as a lost COMMIT does on the portable path (OperationalError,
        # 503); the till's retry with its key finds the stored answer.
        if found.driver.info.transaction_status not in (_INERROR, _INTRANS):
            session.info["speculating"] = False
        raise


def _send_batch(conn: Any, *_args: Any) -> None:
    found: _Batch | None = conn.info.get("batch")
    if found is not None:
        found.send()


def _compile(statement: Any, dialect: Any) -> _Compiled:
    cached = _COMPILED.get((id(statement), dialect.name))
    if cached is not None and cached[0] is statement:
        return cached[1]
    compiled = statement.compile(dialect=dialect)
    if "POSTCOMPILE" in compiled.string:
        raise ValueError("raw(): no IN (...) of a list; write the alternatives with or_()")
    positions = tuple(compiled.positiontup) if compiled.positional else None
    defaults = compiled.construct_params(_check=False)  # the values fixed in the statement
    result = _Compiled(compiled.string, dict(defaults), positions)
    _COMPILED[(id(statement), dialect.name)] = (statement, result)  # keeps it alive: ids hold
    return result


@functools.cache
def _insert_new_statement(dialect: str, table: Any) -> Any:
    # Built once per table (Core, not ORM): building it per request cost more than running it.
    insert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    pk = list(table.primary_key.columns)
    return insert(table).on_conflict_do_nothing(index_elements=[c.name for c in pk]).returning(*pk)

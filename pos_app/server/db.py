"""Engine, sessions and schema migrations.

SQLite (the embedded default) runs every transaction as ``BEGIN IMMEDIATE``:
writers queue on the database lock up front instead of failing at commit with
"database is locked", which is what makes a redemption atomic across several
app-server processes sharing one file. PostgreSQL relies on row locks and the
unique constraint on the redeemed ``cti``.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_MS = 30_000


def make_engine(url: str, *, pre_ping: bool = False) -> Engine:
    """The engine for *url*. Without *pre_ping* a pooled connection is not tested on every
    checkout (a round trip per transaction); after a database restart the first request on
    a dead connection fails (503: retry with the same key) and SQLAlchemy drops the whole
    pool, so the retry gets a fresh connection."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=pre_ping, pool_size=10, max_overflow=20)


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
    with lock if lock is not None else nullcontext(), factory() as session, session.begin():
        _AMBIENT.session, _AMBIENT.factory = session, factory
        try:
            yield session
        finally:
            _AMBIENT.session = _AMBIENT.factory = None


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
    cursor, dialect = _cursor(session)
    compiled = _compile(statement, dialect)
    values = {**compiled.defaults, **params} if params else compiled.defaults
    if compiled.positions is not None:
        cursor.execute(compiled.sql, tuple(values[name] for name in compiled.positions))
    else:
        cursor.execute(compiled.sql, values)
    return cursor


def _cursor(session: Session) -> tuple[Any, Any]:
    if session.new or session.deleted or session.dirty:
        session.flush()
    held = session.info.get("raw_cursor")
    if held is None:
        connection = session.connection()  # begins the session's transaction if need be
        held = (connection.connection.driver_connection.cursor(), connection.dialect)  # type: ignore[union-attr]
        session.info["raw_cursor"] = held
    return held


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

"""``db._pending`` rests on ``Session._is_clean`` (a private SQLAlchemy API, locked at
2.1.9, allowed >=2.0.30,<2.2): it must say exactly what ``new or dirty or deleted`` says,
or a statement of ours would run before the ORM changes it must see (or flush for none)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from pos_app.server import db
from pos_app.server.models import Base, Nonce


def _public(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted)


def test_pending_is_new_or_dirty_or_deleted(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'pending.sqlite3'}")
    Base.metadata.create_all(engine, tables=[Nonce.__table__])  # type: ignore[list-item]
    try:
        with db.transaction(db.session_factory(engine)) as session:
            states: list[tuple[bool, bool]] = [(db._pending(session), _public(session))]
            session.add(Nonce(keyid="k", nonce="a", created_at=1))
            states.append((db._pending(session), _public(session)))
            session.flush()
            states.append((db._pending(session), _public(session)))
            row = session.get(Nonce, ("k", "a"))
            assert row is not None
            row.created_at = 2  # modified
            states.append((db._pending(session), _public(session)))
            session.flush()
            states.append((db._pending(session), _public(session)))
            session.delete(row)
            states.append((db._pending(session), _public(session)))
            session.flush()
            states.append((db._pending(session), _public(session)))
        assert [mine for mine, _ in states] == [False, True, False, True, False, True, False]
        assert all(mine == public for mine, public in states)
    finally:
        engine.dispose()

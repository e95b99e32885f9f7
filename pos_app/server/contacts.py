"""When the backend was hearing from a terminal, and which offline claims that rules out.

A contact is a signed request from the terminal that the backend processed.
Contacts less than ``contact_slack`` apart form one stretch; a till that could
reach the backend had no reason to accept a sale offline, so an
``offline_accepted_at`` inside a stretch is refused (BACKEND-API.md, revisions
wave 2). A till goes offline only after a failed attempt (its connect and read
timeouts and retries, about 60 s with the default settings), so a real outage
always leaves a gap longer than the slack and its offline sales fall outside
every stretch. Each end of a stretch is trimmed by the signature's clock
tolerance, for the till's clock error.

The stretch going on lives on the terminal row (one conditional UPDATE at most
once per second per terminal); closed stretches go to ``terminal_contacts``
and are dropped once older than the maximum offline period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    bindparam,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from pos_app.server import db
from pos_app.server.models import Terminal, TerminalContact
from pos_app.server.settings import ServerSettings

if TYPE_CHECKING:
    from pos_app.server.backend import Principal

_TERMINALS: Table = Terminal.__table__  # type: ignore[assignment]
# The stretch goes on: a no-op unless the terminal's last contact is earlier this stretch.
_EXTEND = (
    _TERMINALS.update()
    .where(
        _TERMINALS.c.keyid == bindparam("b_keyid"),
        _TERMINALS.c.contact_since.is_not(None),
        _TERMINALS.c.contact_last < bindparam("b_now"),
        _TERMINALS.c.contact_last >= bindparam("b_from"),
    )
    .values(contact_last=bindparam("b_now"))
)


# The stretch is over (or never began): a new one starts now, and the one that ended goes
# to terminal_contacts; a no-op otherwise. PostgreSQL, sent ahead right after ``_EXTEND``
# (``extend_ahead``), so a batched request locks the terminal's row where the portable path
# does, before the redemption. The row is locked (FOR UPDATE) only when the stretch is
# over, and read again after any wait: the closed stretch recorded is the row's latest.
_NEW_STRETCH = text(
    "WITH prev AS (SELECT id, contact_since, contact_last FROM terminals"
    " WHERE keyid = :b_keyid AND (contact_last IS NULL OR (contact_last < :b_now"
    " AND (contact_since IS NULL OR contact_last < :b_from))) FOR UPDATE),"
    " moved AS (UPDATE terminals SET contact_since = :b_now, contact_last = :b_now"
    " FROM prev WHERE terminals.id = prev.id"
    " RETURNING prev.id AS row_id, prev.contact_since AS since, prev.contact_last AS last)"
    " INSERT INTO terminal_contacts (terminal_row, started_at, ended_at)"
    " SELECT row_id, since, last FROM moved WHERE since IS NOT NULL AND last IS NOT NULL"
).bindparams(
    bindparam("b_keyid", type_=String()),
    bindparam("b_now", type_=Integer()),
    bindparam("b_from", type_=Integer()),
)
_CONTACTS: Table = TerminalContact.__table__  # type: ignore[assignment]
_PURGE = _CONTACTS.delete().where(
    _CONTACTS.c.terminal_row == bindparam("b_row"), _CONTACTS.c.ended_at < bindparam("b_before")
)
db.usual(_EXTEND, _NEW_STRETCH)


def _extend_params(keyid: str, *, now: int, settings: ServerSettings) -> dict[str, Any]:
    return {"b_keyid": keyid, "b_now": now, "b_from": now - settings.contact_slack}


def extend_ahead(
    session: Session, keyid: str, *, now: int, settings: ServerSettings, seen: int | None
) -> None:
    """Send :func:`record`'s statement ahead (``db.ahead``), a no-op when its case is not
    the one: the stretch going on extended, or (when this process last saw the terminal,
    *seen*, longer ago than the slack, or never) also a new stretch."""
    params = _extend_params(keyid, now=now, settings=settings)
    db.ahead(session, _EXTEND, params, required=False)
    if seen is None or seen < now - settings.contact_slack:
        db.ahead(session, _NEW_STRETCH, params, required=False)


def record(
    session: Session,
    terminal: Principal,
    since: int | None,
    last: int | None,
    *,
    now: int,
    settings: ServerSettings,
) -> None:
    """Count a signed request of this terminal processed at *now*; *since* and *last* are
    the stretch going on as the request's read of the terminal row found it."""
    if last is not None and last >= now:
        return  # this second is already recorded
    if since is not None and last is not None and now - last <= settings.contact_slack:
        db.write(session, _EXTEND, _extend_params(terminal.keyid, now=now, settings=settings))
        return
    terminal_row = terminal.terminal_row
    if db.batched(session):
        # Only as sent ahead (``extend_ahead``), in the portable path's lock order: the
        # terminal's row before the redemption. Later, the two paths deadlocked each other:
        # not sent ahead, the request runs again unbatched.
        params = _extend_params(terminal.keyid, now=now, settings=settings)
        if not db.sent_ahead(session, _NEW_STRETCH, params):
            raise db.Speculation("a new contact stretch")
        if since is not None and last is not None:
            before = now - settings.offline_max_period
            db.write(session, _PURGE, {"b_row": terminal_row, "b_before": before})
        return
    # Silence longer than the slack: the stretch is over, a new one starts now. The
    # condition on contact_since makes a concurrent request of the same terminal a no-op.
    moved = session.execute(
        update(Terminal)
        .where(Terminal.id == terminal_row, _same(Terminal.contact_since, since))
        .values(contact_since=now, contact_last=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount and since is not None and last is not None:  # type: ignore[attr-defined]
        session.add(TerminalContact(terminal_row=terminal_row, started_at=since, ended_at=last))
        session.execute(
            delete(TerminalContact).where(
                TerminalContact.terminal_row == terminal_row,
                TerminalContact.ended_at < now - settings.offline_max_period,
            )
        )


def _same(column: Any, value: int | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]


def offline_time_problem(
    session: Session,
    terminal_row: int,
    accepted_at: int,
    *,
    now: int,
    settings: ServerSettings,
) -> str | None:
    """Why *accepted_at* is not a plausible offline moment for this terminal, or None."""
    margin = settings.signature_max_future
    term = session.get(Terminal, terminal_row, populate_existing=True)
    max_age = settings.offline_max_period
    if term is not None and term.offline_max_age is not None:
        max_age = min(max_age, term.offline_max_age)
    if accepted_at > now + margin:
        return "offline_accepted_at is in the future"
    if accepted_at < now - max_age:
        return f"offline_accepted_at is older than the maximum offline period ({max_age} s)"
    low, high = accepted_at + margin, accepted_at - margin
    inside_now = (
        term is not None
        and term.contact_since is not None
        and term.contact_last is not None
        and term.contact_since < high
        and low < term.contact_last
    )
    inside_before = session.scalar(
        select(TerminalContact.id)
        .where(
            TerminalContact.terminal_row == terminal_row,
            TerminalContact.ended_at > low,
            TerminalContact.started_at < high,
        )
        .limit(1)
    )
    if inside_now or inside_before is not None:
        return "the backend was hearing from this terminal at offline_accepted_at"
    return None


def offline_sale_cap(session: Session, terminal_row: int) -> int | None:
    """The most one offline sale of this terminal may charge (None: the token's limit only)."""
    term = session.get(Terminal, terminal_row)
    return None if term is None else term.offline_max_sale

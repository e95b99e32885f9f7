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

from sqlalchemy import ColumnElement, Table, bindparam, delete, select, update
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


def _extend_params(keyid: str, *, now: int, settings: ServerSettings) -> dict[str, Any]:
    return {"b_keyid": keyid, "b_now": now, "b_from": now - settings.contact_slack}


def extend_ahead(session: Session, keyid: str, *, now: int, settings: ServerSettings) -> None:
    """Send the usual case of :func:`record` ahead (``db.ahead``); a no-op when it is not
    the case, so :func:`record` need not claim it."""
    db.ahead(session, _EXTEND, _extend_params(keyid, now=now, settings=settings), required=False)


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
    if db.batched(session):
        # Not the case sent ahead: this UPDATE would lock the terminal's row after the
        # prefetched redemption, the portable path locks it before (a deadlock between the
        # two); the request runs again unbatched.
        raise db.Speculation("a new contact stretch")
    terminal_row = terminal.terminal_row
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

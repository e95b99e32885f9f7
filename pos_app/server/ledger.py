"""Double-entry ledger: every journal entry's postings sum to zero.

Sign convention: a posting's amount adds to the account's balance. A wallet
holds positive money; "funding" (the demo's outside money) goes negative as it
pays into wallets; a store's account collects what wallets paid.
"""

from __future__ import annotations

import weakref
from dataclasses import asdict, dataclass

from sqlalchemy import (
    BigInteger,
    Engine,
    String,
    Table,
    bindparam,
    func,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from pos_app.server import db
from pos_app.server.models import Account, Journal, Posting

FUNDING = "funding"


def wallet_account(wallet_id: str) -> str:
    return f"wallet:{wallet_id}"


def store_account(store_id: str) -> str:
    return f"store:{store_id}"


# Accounts seen committed, per database: accounts are never deleted, so a store's account
# need not be looked up again on every sale. One created by a transaction that is still
# open is not remembered (that transaction may yet roll back).
_KNOWN: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()


def ensure_account(session: Session, account_id: str, *, kind: str, currency: str) -> None:
    bind = session.get_bind()
    known = _KNOWN.setdefault(bind, set()) if isinstance(bind, Engine) else set()
    if account_id in known:
        return
    created: set[str] = session.info.setdefault("created_accounts", set())
    if session.get(Account, account_id) is None:
        session.add(Account(account_id=account_id, kind=kind, currency=currency, balance=0))
        session.flush()
        created.add(account_id)
    elif account_id not in created:
        known.add(account_id)


def balance(session: Session, account_id: str) -> int:
    value = session.scalar(select(Account.balance).where(Account.account_id == account_id))
    return int(value or 0)


def post(
    session: Session, kind: str, ref: str | None, *, legs: list[tuple[str, int]], now: int
) -> int:
    """Record one balanced journal entry and move the cached balances; return its id."""
    if sum(amount for _, amount in legs) != 0:
        raise ValueError("journal entry does not balance")
    entry = Journal(kind=kind, ref=ref, created_at=now)
    session.add(entry)
    session.flush()
    for account_id, amount in legs:
        session.add(Posting(journal_id=entry.id, account_id=account_id, amount=amount))
        session.execute(
            update(Account)
            .where(Account.account_id == account_id)
            .values(balance=Account.balance + amount)
        )
    return entry.id


def lock_account(session: Session, account_id: str) -> None:
    """Serialise decisions about one wallet (PostgreSQL row lock; SQLite has one writer).

    Without it, N concurrent sales of one wallet would each compute velocity
    features that see none of the others. Lock order everywhere: wallet, then store.
    """
    session.execute(
        select(Account.account_id).where(Account.account_id == account_id).with_for_update()
    )


# The sale path's statements, built once (Core, on the tables): building an ORM statement
# per sale cost more than running it.
_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
_JOURNAL: Table = Journal.__table__  # type: ignore[assignment]
_POSTINGS: Table = Posting.__table__  # type: ignore[assignment]
_DEBIT = (
    _ACCOUNTS.update()
    .where(
        _ACCOUNTS.c.account_id == bindparam("b_account"),
        _ACCOUNTS.c.balance >= bindparam("b_amount"),
    )
    .values(balance=_ACCOUNTS.c.balance - bindparam("b_amount"))
)
_CREDIT = (
    _ACCOUNTS.update()
    .where(_ACCOUNTS.c.account_id == bindparam("b_account"))
    .values(balance=_ACCOUNTS.c.balance + bindparam("b_amount"))
)
_NEW_ENTRY = (
    _JOURNAL.insert()
    .values(kind=bindparam("kind"), ref=bindparam("ref"), created_at=bindparam("created_at"))
    .returning(_JOURNAL.c.id)
)
_NEW_POSTINGS = _POSTINGS.insert().values(
    [
        {"journal_id": bindparam("b_journal"), "account_id": bindparam(a), "amount": bindparam(m)}
        for a, m in (("b_debit", "b_out"), ("b_credit", "b_in"))
    ]
)


# Batched (PostgreSQL), the debit's row count is not known before commit: the same
# conditional UPDATE, with a division by zero that fails the transaction when it moved no
# money, so nothing after it commits (the request then runs again, unbatched, and
# declines). No CHECK on the balance needed, no round trip waited for.
_DEBIT_OR_FAIL = text(
    "WITH debited AS (UPDATE accounts SET balance = balance - :b_amount"
    " WHERE account_id = :b_account AND balance >= :b_amount RETURNING 1)"
    " SELECT 1 / count(*) FROM debited"
).bindparams(bindparam("b_amount", type_=BigInteger()), bindparam("b_account", type_=String()))
# The journal entry and its two postings in one statement (PostgreSQL: an INSERT in a CTE).
_ENTRY = _NEW_ENTRY.cte("entry")
_NEW_ENTRY_AND_POSTINGS = _POSTINGS.insert().from_select(
    ["journal_id", "account_id", "amount"],
    union_all(
        *(
            select(
                _ENTRY.c.id,
                bindparam(account, type_=String()),
                bindparam(amount, type_=BigInteger()),
            )
            for account, amount in (("b_debit", "b_out"), ("b_credit", "b_in"))
        )
    ),
)


db.usual(_DEBIT_OR_FAIL, _NEW_ENTRY_AND_POSTINGS, _CREDIT)


def try_debit(session: Session, account_id: str, amount: int) -> bool:
    """Reserve *amount* from a wallet if it holds enough; one conditional UPDATE.

    The balance test and the decrement are one statement, so two concurrent
    debits cannot both pass on the same money (PostgreSQL re-checks the WHERE
    after waiting for the row lock; SQLite has a single writer).
    """
    params = {"b_account": account_id, "b_amount": amount}
    if db.batched(session):
        db.write(session, _DEBIT_OR_FAIL, params)  # True, or the transaction fails
        return True
    return bool(db.raw(session, _DEBIT, params).rowcount)


def post_reserved(
    session: Session, kind: str, ref: str, *, debit: str, credit: str, amount: int, now: int
) -> None:
    """Journal a transfer whose debit side was already taken by :func:`try_debit`."""
    entry = {"kind": kind, "ref": ref, "created_at": now}
    legs = {"b_debit": debit, "b_credit": credit, "b_out": -amount, "b_in": amount}
    if session.get_bind().dialect.name == "postgresql":
        db.write(session, _NEW_ENTRY_AND_POSTINGS, {**entry, **legs})
    else:
        journal = int(db.raw(session, _NEW_ENTRY, entry).fetchone()[0])
        # One statement for both legs, no RETURNING: nothing reads the postings' ids.
        db.write(session, _NEW_POSTINGS, {"b_journal": journal, **legs})
    db.write(session, _CREDIT, {"b_account": credit, "b_amount": amount})


@dataclass(frozen=True)
class LedgerReport:
    ok: bool
    journal_entries: int
    postings: int
    unbalanced_entries: list[int]
    mismatched_accounts: list[str]
    negative_wallets: list[str]
    total: int

    def as_dict(self) -> dict[str, object]:
        values: dict[str, object] = asdict(self)
        values["sum_of_all_postings"] = values.pop("total")
        return values


def check(session: Session) -> LedgerReport:
    """Prove the books balance: per entry, in total, and against the cached balances."""
    unbalanced = session.execute(
        select(Posting.journal_id)
        .group_by(Posting.journal_id)
        .having(func.sum(Posting.amount) != 0)
    ).scalars()
    sums = {
        account_id: int(total or 0)
        for account_id, total in session.execute(
            select(Posting.account_id, func.sum(Posting.amount)).group_by(Posting.account_id)
        )
    }
    mismatched: list[str] = []
    negative: list[str] = []
    for account in session.scalars(select(Account)):
        if int(sums.get(account.account_id) or 0) != account.balance:
            mismatched.append(account.account_id)
        if account.kind == "wallet" and account.balance < 0:
            negative.append(account.account_id)
    total = int(session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))) or 0)
    bad_entries = sorted(unbalanced)
    return LedgerReport(
        ok=not bad_entries and not mismatched and not negative and total == 0,
        journal_entries=int(session.scalar(select(func.count()).select_from(Journal)) or 0),
        postings=int(session.scalar(select(func.count()).select_from(Posting)) or 0),
        unbalanced_entries=bad_entries,
        mismatched_accounts=sorted(mismatched),
        negative_wallets=sorted(negative),
        total=total,
    )

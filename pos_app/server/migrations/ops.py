"""What the migrations are written with: reversible steps.

A migration lists its steps once; :func:`reversible` makes its ``upgrade`` (the steps in
order) and its ``downgrade`` (each step undone, the last first), so the two cannot drift
apart. Names follow the models' naming convention (``pk_<table>``, ``fk_<table>_<column>_
<referred table>``, ``ix_<table>_<column>``, ``uq_<table>_<column>``) and are spelled out
in full where a step is given one, so a name can be found with grep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import op


@dataclass(frozen=True, slots=True)
class Step:
    do: Callable[[], None]
    undo: Callable[[], None]


def reversible(*steps: Step) -> tuple[Callable[[], None], Callable[[], None]]:
    """``(upgrade, downgrade)`` of a migration made of *steps*."""

    def upgrade() -> None:
        for step in steps:
            step.do()

    def downgrade() -> None:
        for step in reversed(steps):
            step.undo()

    return upgrade, downgrade


def create_table(
    name: str,
    *columns: sa.Column[object],
    primary_key: Sequence[str],
    foreign_keys: dict[str, str] | None = None,
    unique: Sequence[tuple[str, Sequence[str]]] = (),
    indexes: Sequence[tuple[str, Sequence[str]]] = (),
) -> Step:
    """A table, its constraints and then its indexes; undone by dropping the indexes (the
    last first) and then the table. *foreign_keys* maps a column to ``"table.column"``."""

    def do() -> None:
        op.create_table(
            name,
            *fresh(columns),
            *(
                sa.ForeignKeyConstraint(
                    [column], [target], name=op.f(f"fk_{name}_{column}_{target.split('.')[0]}")
                )
                for column, target in (foreign_keys or {}).items()
            ),
            sa.PrimaryKeyConstraint(*primary_key, name=op.f(f"pk_{name}")),
            *(sa.UniqueConstraint(*cols, name=op.f(uq)) for uq, cols in unique),
        )
        for index, index_columns in indexes:
            op.create_index(op.f(index), name, list(index_columns), unique=False)

    def undo() -> None:
        for index, _ in reversed(indexes):
            op.drop_index(op.f(index), table_name=name)
        op.drop_table(name)

    return Step(do, undo)


def fresh(columns: Sequence[sa.Column[Any]]) -> list[sa.Column[Any]]:
    """Copies of *columns*: a column joins the table it is created in, and a step may run
    more than once in a process (a test upgrades many databases)."""
    return [column._copy() for column in columns]


def add_columns(
    table: str,
    *columns: sa.Column[object],
    indexes: Sequence[tuple[str, Sequence[str]]] = (),
    unique: Sequence[str] = (),
) -> Step:
    """Columns added to *table* (then its new indexes and one-column unique constraints),
    in one batch so SQLite copies the table at most once each way. An added column is
    nullable (SQLAlchemy's default): the table may already have rows."""
    refused = [column.name for column in columns if not column.nullable]
    if refused:
        raise ValueError(f"{table}: a column added to a table with rows is nullable: {refused}")

    def do() -> None:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in fresh(columns):
                batch_op.add_column(column)
            for index, index_columns in indexes:
                batch_op.create_index(batch_op.f(index), list(index_columns), unique=False)
            for column_name in unique:
                batch_op.create_unique_constraint(
                    batch_op.f(f"uq_{table}_{column_name}"), [column_name]
                )

    def undo() -> None:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column_name in reversed(unique):
                batch_op.drop_constraint(batch_op.f(f"uq_{table}_{column_name}"), type_="unique")
            for index, _ in reversed(indexes):
                batch_op.drop_index(batch_op.f(index))
            for column in reversed(columns):
                batch_op.drop_column(column.name)

    return Step(do, undo)

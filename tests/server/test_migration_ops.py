"""The migrations' reversible steps (pos_app/server/migrations/ops.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pos_app.server.migrations import ops


def test_downgrade_undoes_the_steps_last_first() -> None:
    done: list[str] = []

    def step(name: str) -> ops.Step:
        return ops.Step(lambda: done.append(f"do {name}"), lambda: done.append(f"undo {name}"))

    upgrade, downgrade = ops.reversible(step("a"), step("b"), step("c"))
    upgrade()
    downgrade()
    assert done == ["do a", "do b", "do c", "undo c", "undo b", "undo a"]


def test_a_column_added_to_a_table_with_rows_must_be_nullable() -> None:
    with pytest.raises(ValueError, match="nullable"):
        ops.add_columns("sales", sa.Column("late", sa.Integer(), nullable=False))


def test_a_step_can_run_twice_in_one_process() -> None:
    # A column joins the first table made with it: each run of a step takes copies.
    column = sa.Column("x", sa.Integer())
    one = sa.Table("one", sa.MetaData(), *ops.fresh([column]))
    two = sa.Table("two", sa.MetaData(), *ops.fresh([column]))
    assert (one.c.x.table.name, two.c.x.table.name) == ("one", "two")
    assert one.c.x is not column and two.c.x is not column

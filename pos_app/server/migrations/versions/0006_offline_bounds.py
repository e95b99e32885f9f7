"""terminal contacts, per-terminal offline limits, owner disputes, store-time index

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 14:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_since", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("contact_last", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("offline_max_age", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("offline_max_sale", sa.BigInteger(), nullable=True))
    op.create_table(
        "terminal_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("terminal_row", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_row"],
            ["terminals.id"],
            name=op.f("fk_terminal_contacts_terminal_row_terminals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terminal_contacts")),
    )
    op.create_index(
        "ix_terminal_contacts_row_end", "terminal_contacts", ["terminal_row", "ended_at"]
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disputed_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("dispute_reason", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_sales_store_time", ["store_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_store_time")
        batch_op.drop_column("dispute_reason")
        batch_op.drop_column("disputed_at")
    op.drop_index("ix_terminal_contacts_row_end", table_name="terminal_contacts")
    op.drop_table("terminal_contacts")
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.drop_column("offline_max_sale")
        batch_op.drop_column("offline_max_age")
        batch_op.drop_column("contact_last")
        batch_op.drop_column("contact_since")

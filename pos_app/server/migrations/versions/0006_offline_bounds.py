"""terminal contacts, per-terminal offline limits, owner disputes, store-time index"""

import sqlalchemy as sa

from pos_app.server.migrations import ops

revision: str = "0006"
down_revision: str | None = "0005"

upgrade, downgrade = ops.reversible(
    ops.add_columns(
        "terminals",
        sa.Column("contact_since", sa.BigInteger()),
        sa.Column("contact_last", sa.BigInteger()),
        sa.Column("offline_max_age", sa.BigInteger()),
        sa.Column("offline_max_sale", sa.BigInteger()),
    ),
    ops.create_table(
        "terminal_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("terminal_row", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=False),
        primary_key=["id"],
        foreign_keys={"terminal_row": "terminals.id"},
        indexes=[("ix_terminal_contacts_row_end", ["terminal_row", "ended_at"])],
    ),
    ops.add_columns(
        "sales",
        sa.Column("disputed_at", sa.BigInteger()),
        sa.Column("dispute_reason", sa.String(length=200)),
        indexes=[("ix_sales_store_time", ["store_id", "created_at"])],
    ),
)

"""terminal audit entries"""

import sqlalchemy as sa

from pos_app.server.migrations import ops

revision: str = "0002"
down_revision: str | None = "0001"

upgrade, downgrade = ops.reversible(
    ops.create_table(
        "audit_entries",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        primary_key=["store_id", "terminal_id", "entry_id"],
    ),
)

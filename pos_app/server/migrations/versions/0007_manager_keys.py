"""manager keys and signed review decisions"""

import sqlalchemy as sa

from pos_app.server.migrations import ops

revision: str = "0007"
down_revision: str | None = "0006"

upgrade, downgrade = ops.reversible(
    ops.create_table(
        "manager_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        primary_key=["id"],
        unique=[("uq_manager_keys_key", ["store_id", "manager_id", "public_key"])],
        indexes=[("ix_manager_keys_store_id", ["store_id"])],
    ),
    ops.add_columns(
        "review_decisions",
        sa.Column("proof_sha256", sa.String(length=64)),
        unique=["proof_sha256"],
    ),
)

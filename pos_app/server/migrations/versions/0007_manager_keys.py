"""manager keys and signed review decisions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "manager_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manager_keys")),
        sa.UniqueConstraint("store_id", "manager_id", "public_key", name="uq_manager_keys_key"),
    )
    with op.batch_alter_table("manager_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manager_keys_store_id"), ["store_id"], unique=False)
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proof_sha256", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_review_decisions_proof_sha256"), ["proof_sha256"]
        )


def downgrade() -> None:
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_review_decisions_proof_sha256"), type_="unique")
        batch_op.drop_column("proof_sha256")
    with op.batch_alter_table("manager_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manager_keys_store_id"))
    op.drop_table("manager_keys")

"""review claims across tills"""

import sqlalchemy as sa

from pos_app.server.migrations import ops

revision: str = "0004"
down_revision: str | None = "0003"

upgrade, downgrade = ops.reversible(
    ops.add_columns(
        "sales",
        sa.Column("claimed_by", sa.String(length=64)),
        sa.Column("claimed_at", sa.BigInteger()),
    ),
)

"""sale manager approval"""

import sqlalchemy as sa

from pos_app.server.migrations import ops

revision: str = "0003"
down_revision: str | None = "0002"

upgrade, downgrade = ops.reversible(
    ops.add_columns(
        "sales",
        sa.Column("manager_id", sa.String(length=64)),
        sa.Column("manager_reason", sa.String(length=200)),
    ),
)

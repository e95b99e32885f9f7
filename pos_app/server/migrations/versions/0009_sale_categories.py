"""a sale keeps the kinds of goods in its lines (the risk rules read them for every sale in a
wallet's history); older rows stay NULL and are read from ``lines``"""

import sqlalchemy as sa

from pos_app.server.migrations import ops

revision: str = "0009"
down_revision: str | None = "0008"

upgrade, downgrade = ops.reversible(
    ops.add_columns("sales", sa.Column("categories", sa.String(length=200))),
)

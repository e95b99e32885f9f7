"""a sale keeps the till's sale number, printed on its receipt (reprints at another till)"""

import sqlalchemy as sa

from pos_app.server.migrations import ops

revision: str = "0008"
down_revision: str | None = "0007"

upgrade, downgrade = ops.reversible(
    ops.add_columns("sales", sa.Column("sale_number", sa.String(length=48))),
)

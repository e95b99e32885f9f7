"""sale risk explanation (rule sentences for reviews)"""

import sqlalchemy as sa

from pos_app.server.migrations import ops

revision: str = "0005"
down_revision: str | None = "0004"

upgrade, downgrade = ops.reversible(
    ops.add_columns("sales", sa.Column("risk_explanation", sa.JSON())),
)

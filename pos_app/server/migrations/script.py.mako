"""${message}"""

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
from pos_app.server.migrations import ops

revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}


# Rewrite autogenerate's commands as steps where they fit (ops.py):
#     upgrade, downgrade = ops.reversible(ops.create_table(...), ops.add_columns(...))
# so the downgrade is the same steps undone, never a second list to keep in step.
def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}

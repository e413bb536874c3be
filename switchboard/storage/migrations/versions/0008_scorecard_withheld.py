"""scorecard results remember which failing rules rest on private incidents

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("scorecard_score", "scorecard_change")


def upgrade() -> None:
    # The digest, nags and reminders read stored results, and must not name a rule that
    # fails only because of a private incident: the results say which those are. Results
    # stored before say none, and the next evaluation that changes them says it right.
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("withheld", sa.JSON(), nullable=False, server_default="[]")
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("withheld")

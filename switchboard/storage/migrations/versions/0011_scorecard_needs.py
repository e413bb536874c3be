"""scorecard results remember which rules need a fact we cannot have

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("scorecard_score", "scorecard_change")


def upgrade() -> None:
    # The digest and nags read stored results and tell a rule that needs a source (not
    # configured, or not reported yet) apart from one that fails. Results stored before say
    # none, and the next evaluation that changes them says it right.
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("needs", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("needs")

"""incidents remember when their impact started

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from switchboard.storage.tables import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Set in the declare modal or by `/incident started <time>`; insight measures response
    # times from it when it is set (impact often starts before anyone declares).
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("impact_started_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("impact_started_at")

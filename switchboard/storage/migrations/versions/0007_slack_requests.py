"""slack requests already carried out (replays change nothing)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import switchboard.storage.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_request",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column(
            "received_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("slack_request")

"""notification delivery (channel, sent_at, message_ts) and follow-up nag snooze

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import switchboard.storage.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "sent_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("message_ts", sa.String(length=32), nullable=False, server_default="")
        )
    # Rows from before delivery was recorded in two steps were sent (or given back).
    op.execute("UPDATE notification SET sent_at = claimed_at")

    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nag_snoozed_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_column("nag_snoozed_until")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("message_ts")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("channel")

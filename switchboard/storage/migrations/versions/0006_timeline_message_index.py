"""timeline entries found by their message

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A reaction finds its message's entry by (channel, ts): without this, a scan of every
    # timeline entry ever captured.
    op.create_index("ix_timeline_entry_message", "timeline_entry", ["channel_id", "message_ts"])


def downgrade() -> None:
    op.drop_index("ix_timeline_entry_message", table_name="timeline_entry")

"""timeline entries and follow-ups

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import switchboard.storage.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("owner_user", sa.String(length=32), nullable=False),
        sa.Column("owner_team", sa.String(length=512), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("closed_by", sa.String(length=32), nullable=False),
        sa.Column(
            "closed_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("timeline_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_followup_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_followup_owner_team"), ["owner_team"], unique=False)
        batch_op.create_index(batch_op.f("ix_followup_owner_user"), ["owner_user"], unique=False)
        batch_op.create_index(batch_op.f("ix_followup_state"), ["state"], unique=False)

    op.create_table(
        "timeline_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("permalink", sa.String(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("reactors", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column(
            "edited_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "channel_id", "message_ts", name="uq_timeline_message"),
    )
    with op.batch_alter_table("timeline_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_timeline_entry_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("timeline_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeline_entry_incident_id"))

    op.drop_table("timeline_entry")
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followup_state"))
        batch_op.drop_index(batch_op.f("ix_followup_owner_user"))
        batch_op.drop_index(batch_op.f("ix_followup_owner_team"))
        batch_op.drop_index(batch_op.f("ix_followup_incident_id"))

    op.drop_table("followup")

"""incidents, their roles, participants, events and pages; the notification ledger

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import switchboard.storage.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("security", sa.Boolean(), nullable=False),
        sa.Column("declared_by", sa.String(length=32), nullable=False),
        sa.Column(
            "declared_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "acknowledged_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "mitigated_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "resolved_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "closed_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_update_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "reminders_snoozed_until",
            switchboard.storage.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("reminders_off", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("channel_name", sa.String(length=80), nullable=False),
        sa.Column("card_ts", sa.String(length=32), nullable=False),
        sa.Column("announce_channel_id", sa.String(length=32), nullable=False),
        sa.Column("announce_ts", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("topic_version", sa.Integer(), nullable=False),
        sa.Column("card_version", sa.Integer(), nullable=False),
        sa.Column("announce_version", sa.Integer(), nullable=False),
        sa.Column("steps_done", sa.JSON(), nullable=False),
        sa.Column(
            "lease_until", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("request_key"),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_status"), ["status"], unique=False)

    op.create_table(
        "notification",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column(
            "claimed_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("kind", "subject", "period"),
    )
    op.create_table(
        "incident_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("posted_ts", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incident_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_event_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "incident_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("entity_ref", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("receipt", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column(
            "next_attempt_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incident_page", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_page_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_page_status"), ["status"], unique=False)

    op.create_table(
        "incident_participant",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("invited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "user_id"),
    )
    op.create_table(
        "incident_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("assigned_by", sa.String(length=32), nullable=False),
        sa.Column(
            "started_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("ended_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incident_role", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_role_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "incident_service",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("entity_ref", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "entity_ref"),
    )


def downgrade() -> None:
    op.drop_table("incident_service")
    with op.batch_alter_table("incident_role", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_role_incident_id"))

    op.drop_table("incident_role")
    op.drop_table("incident_participant")
    with op.batch_alter_table("incident_page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_page_status"))
        batch_op.drop_index(batch_op.f("ix_incident_page_incident_id"))

    op.drop_table("incident_page")
    with op.batch_alter_table("incident_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_event_incident_id"))

    op.drop_table("incident_event")
    op.drop_table("notification")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_status"))
        batch_op.drop_index(batch_op.f("ix_incident_channel_id"))

    op.drop_table("incident")

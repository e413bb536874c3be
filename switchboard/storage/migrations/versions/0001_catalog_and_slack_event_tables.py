"""catalog and slack event tables

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

import switchboard.storage.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_entity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("namespace", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("lifecycle", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=512), nullable=False),
        sa.Column("domain", sa.String(length=512), nullable=False),
        sa.Column("slack_usergroup", sa.String(length=128), nullable=False),
        sa.Column("slack_user_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("oncall", sa.JSON(), nullable=False),
        sa.Column("slack_channels", sa.JSON(), nullable=False),
        sa.Column("owners", sa.JSON(), nullable=False),
        sa.Column("relations", sa.JSON(), nullable=False),
        sa.Column("source_file", sa.String(length=4096), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    with op.batch_alter_table("catalog_entity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_entity_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_entity_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_catalog_entity_slack_user_id"), ["slack_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_catalog_entity_source_file"), ["source_file"], unique=False
        )

    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    # The one catalog_state row every import locks and moves on.
    op.execute(
        "INSERT INTO catalog_state (id, revision, updated_at) VALUES (1, 0, CURRENT_TIMESTAMP)"
    )
    op.create_table(
        "slack_event",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column(
            "received_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "catalog_owner",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("owner_ref", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["catalog_entity.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entity_id", "owner_ref"),
    )
    with op.batch_alter_table("catalog_owner", schema=None) as batch_op:
        batch_op.create_index("ix_catalog_owner_owner_ref", ["owner_ref"], unique=False)

    op.create_table(
        "catalog_relation",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("target_ref", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["catalog_entity.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entity_id", "type", "target_ref"),
    )
    with op.batch_alter_table("catalog_relation", schema=None) as batch_op:
        batch_op.create_index("ix_catalog_relation_target", ["type", "target_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("catalog_relation", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_relation_target")

    op.drop_table("catalog_relation")
    with op.batch_alter_table("catalog_owner", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_owner_owner_ref")

    op.drop_table("catalog_owner")
    op.drop_table("slack_event")
    op.drop_table("catalog_state")
    with op.batch_alter_table("catalog_entity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_entity_source_file"))
        batch_op.drop_index(batch_op.f("ix_catalog_entity_slack_user_id"))
        batch_op.drop_index(batch_op.f("ix_catalog_entity_kind"))
        batch_op.drop_index(batch_op.f("ix_catalog_entity_email"))

    op.drop_table("catalog_entity")

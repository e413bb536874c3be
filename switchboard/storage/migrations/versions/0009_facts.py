"""live facts: facts, their changes, deploys and each source's refresh state

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

# Also registers the facts tables with SQLModel.metadata wherever migrations run (they live
# in a module of their own, which storage/tables.py does not import).
import switchboard.storage.facts_tables
import switchboard.storage.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = switchboard.storage.tables.UTCDateTime(timezone=True)
    op.create_table(
        "fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=512), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("value", sa.JSON(none_as_null=False), nullable=True),
        sa.Column("observed_at", utc, nullable=False),
        sa.Column("fetched_at", utc, nullable=False),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("error_at", utc, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity", "key", name="uq_fact_entity_key"),
    )
    op.create_index("ix_fact_entity", "fact", ["entity"])
    op.create_index("ix_fact_source", "fact", ["source"])
    op.create_table(
        "fact_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=512), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("value", sa.JSON(none_as_null=False), nullable=True),
        sa.Column("observed_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fact_change_entity_key", "fact_change", ["entity", "key", "observed_at"])
    op.create_table(
        "deploy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=512), nullable=False),
        sa.Column("environment", sa.String(length=128), nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("started_at", utc, nullable=True),
        sa.Column("finished_at", utc, nullable=True),
        sa.Column("author", sa.String(length=256), nullable=False),
        sa.Column("commits", sa.JSON(), nullable=False),
        sa.Column("reported_by", sa.String(length=128), nullable=False),
        sa.Column("received_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deploy_entity_finished", "deploy", ["entity", "finished_at"])
    op.create_table(
        "fact_source_state",
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=False),
        sa.Column("lease_until", utc, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", utc, nullable=True),
        sa.Column("last_success", utc, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.Column("last_error_at", utc, nullable=True),
        sa.Column("budget_remaining", sa.Integer(), nullable=True),
        sa.Column("budget_reset", utc, nullable=True),
        sa.PrimaryKeyConstraint("source"),
    )


def downgrade() -> None:
    op.drop_table("fact_source_state")
    op.drop_index("ix_deploy_entity_finished", table_name="deploy")
    op.drop_table("deploy")
    op.drop_index("ix_fact_change_entity_key", table_name="fact_change")
    op.drop_table("fact_change")
    op.drop_index("ix_fact_source", table_name="fact")
    op.drop_index("ix_fact_entity", table_name="fact")
    op.drop_table("fact")

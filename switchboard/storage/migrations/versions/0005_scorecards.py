"""scorecard scores and their history

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import switchboard.storage.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scorecard_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scorecard", sa.String(length=255), nullable=False),
        sa.Column("service", sa.String(length=512), nullable=False),
        sa.Column("at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("failing", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scorecard_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scorecard_change_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_scorecard_change_pair", ["scorecard", "service", "id"], unique=False
        )

    op.create_table(
        "scorecard_score",
        sa.Column("scorecard", sa.String(length=255), nullable=False),
        sa.Column("service", sa.String(length=512), nullable=False),
        sa.Column("level", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("failing", sa.JSON(), nullable=False),
        sa.Column(
            "changed_at", switchboard.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("scorecard", "service"),
    )


def downgrade() -> None:
    op.drop_table("scorecard_score")
    with op.batch_alter_table("scorecard_change", schema=None) as batch_op:
        batch_op.drop_index("ix_scorecard_change_pair")
        batch_op.drop_index(batch_op.f("ix_scorecard_change_at"))

    op.drop_table("scorecard_change")

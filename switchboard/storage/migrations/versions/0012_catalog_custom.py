"""catalog entities keep their SonarQube project key and their custom metadata

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Entities imported before have neither; their digest changes with the new columns, so
    # the next import rewrites each once and fills them in.
    with op.batch_alter_table("catalog_entity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sonarqube_project", sa.String(512), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("custom", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("catalog_entity", schema=None) as batch_op:
        batch_op.drop_column("custom")
        batch_op.drop_column("sonarqube_project")

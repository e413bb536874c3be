"""Alembic environment: always run with a connection handed over by `storage.db.upgrade`."""

from alembic import context
from sqlmodel import SQLModel

import switchboard.storage.tables  # noqa: F401  (registers the tables)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
)
with context.begin_transaction():
    context.run_migrations()

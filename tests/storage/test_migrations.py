"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import switchboard.storage.tables  # noqa: F401  (registers the tables)
from switchboard.storage import db


def differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, SQLModel.metadata))


async def test_migrations_match_the_models(database_url: str) -> None:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    await db.upgrade(engine)  # a second upgrade is a no-op
    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == []
    await engine.dispose()

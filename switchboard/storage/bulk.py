"""Writing many rows at once, below SQLAlchemy's per-row work: rows come as tuples already in
the database's form (JSON as text), in the table's column order without `id` for inserts, and
with `id` last for updates.

PostgreSQL gets COPY (asyncpg's `copy_records_to_table`): inserts straight into the table,
updates into a temporary staging table and then one set-based UPDATE. SQLite gets one
executemany per statement. Profiled on a 50,000-service import, SQLAlchemy's executemany
(bind processing and JSON serialising each row's parameters) cost more than the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection


class Writer(Protocol):
    async def insert(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None: ...

    async def update(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None: ...


def writer(connection: AsyncConnection) -> Writer:
    if connection.dialect.name == "postgresql":
        return _CopyWriter(connection)
    return _ManyWriter(connection)


def _written(table: Table) -> list[str]:
    """The columns a row gives: every one but a generated `id` (children have no such id)."""
    column = table.c.get("id")
    generated = column is not None and column.primary_key and column.autoincrement is not False
    return [c.name for c in table.columns if not (generated and c.name == "id")]


class _ManyWriter:
    """One executemany per call, through the driver (SQLite's placeholders are `?`)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._quote = connection.dialect.identifier_preparer.quote

    async def insert(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = _written(table)
        sql = (
            f"INSERT INTO {self._quote(table.name)} ({', '.join(map(self._quote, names))}) "
            f"VALUES ({', '.join('?' for _ in names)})"
        )
        await self._connection.exec_driver_sql(sql, list(rows))

    async def update(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = [name for name in _written(table) if name != "id"]
        sql = (
            f"UPDATE {self._quote(table.name)} SET "
            f"{', '.join(f'{self._quote(name)} = ?' for name in names)} WHERE id = ?"
        )
        await self._connection.exec_driver_sql(sql, list(rows))


class _CopyWriter:
    """COPY through asyncpg, inside the session's transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._quote = connection.dialect.identifier_preparer.quote
        self._staged: set[str] = set()

    async def _driver(self) -> Any:  # asyncpg.Connection
        raw = await self._connection.get_raw_connection()
        return raw.driver_connection

    async def insert(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            driver = await self._driver()
            await driver.copy_records_to_table(table.name, records=rows, columns=_written(table))

    async def update(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        driver = await self._driver()
        names = [name for name in _written(table) if name != "id"]
        staging = f"{table.name}_staged"
        if staging not in self._staged:  # dropped at commit or rollback
            await driver.execute(
                f"CREATE TEMPORARY TABLE {self._quote(staging)} "
                f"(LIKE {self._quote(table.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            self._staged.add(staging)
        await driver.copy_records_to_table(staging, records=rows, columns=[*names, "id"])
        assignments = ", ".join(f"{self._quote(n)} = s.{self._quote(n)}" for n in names)
        await driver.execute(
            f"UPDATE {self._quote(table.name)} AS t SET {assignments} "
            f"FROM {self._quote(staging)} AS s WHERE t.id = s.id"
        )
        await driver.execute(f"TRUNCATE {self._quote(staging)}")

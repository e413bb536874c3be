"""What the fault tests share: a small catalog, reading the database the processes share."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.fakes.slack.server import FakeSlack
from switchboard.settings import load_settings
from switchboard.storage import db, incident_store
from switchboard.storage.tables import Incident

ANN, BEN = "U0FAULTANN", "U0FAULTBEN"
CATALOG = f"""\
switchboard: 1
people:
  - {{id: ann, name: Ann, slack_id: {ANN}}}
  - {{id: ben, name: Ben, slack_id: {BEN}}}
teams:
  - {{id: shop, name: Shop, members: [ann, ben]}}
services:
  - {{id: checkout, name: Checkout, owner: shop}}
"""


async def incidents(database_url: str) -> list[tuple[Incident, bool]]:
    """Every incident, and whether its Slack side is fully in line with it.

    Both reads see one snapshot of the database. Read one after the other, a sync that took
    its lease between them made an incident read before (no lease yet, no channel) look done:
    `out_of_sync` leaves leased incidents out."""
    engine = snapshot_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            rows = list(await session.scalars(select(Incident).order_by(Incident.id)))
            lagging = set(await incident_store.out_of_sync(session, datetime.now(UTC)))
    finally:
        await engine.dispose()
    return [(i, i.lease_until is None and i.id not in lagging) for i in rows]


def snapshot_engine(database_url: str) -> AsyncEngine:
    """An engine whose transactions each read one snapshot: REPEATABLE READ on PostgreSQL; on
    SQLite, a real BEGIN (Python's sqlite3 begins a transaction only before a write, so each
    SELECT would otherwise read the database as it is then)."""
    engine = db.create_engine(load_settings(_env_file=None, DATABASE_URL=database_url).database_url)
    if engine.dialect.name != "sqlite":
        return engine.execution_options(isolation_level="REPEATABLE READ")

    def no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    def begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    event.listen(engine.sync_engine, "connect", no_implicit_transactions)
    event.listen(engine.sync_engine, "begin", begin)
    return engine


def doubled(slack: FakeSlack, channel: str) -> list[str]:
    """Texts posted more than once in `channel`."""
    texts = Counter(m.text for m in slack.messages(channel))
    return [text for text, n in texts.items() if n > 1]

"""Writing when an incident's impact started: the column, a timeline event saying who said
so, and the Slack request's claim, in one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

from switchboard.storage import request_store
from switchboard.storage.tables import IncidentEvent

INCIDENT = SQLModel.metadata.tables["incident"]
KIND = "impact-started"


async def set_impact_start(
    sessions: async_sessionmaker[AsyncSession],
    incident_id: int,
    moment: datetime,
    actor: str,
    text: str,
    key: str,
    now: datetime,
) -> bool:
    """Store `moment` and the event (`text`, posted in the channel by the sync); False, and
    nothing changed, when the request `key` was carried out before."""
    async with sessions() as session:
        if key and not await request_store.claim(session, key, now):
            return False
        await session.execute(
            update(INCIDENT)
            .where(INCIDENT.c.id == incident_id)
            .values(impact_started_at=moment, version=INCIDENT.c.version + 1)
        )
        session.add(
            IncidentEvent(
                incident_id=incident_id,
                at=now,
                actor=actor,
                kind=KIND,
                text=text,
                data={"impact_started_at": moment.isoformat()},
            )
        )
        await session.commit()
    return True

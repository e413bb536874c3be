"""Timeline entry queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage.tables import TimelineEntry

ENTRY = SQLModel.metadata.tables["timeline_entry"]


async def for_message(session: AsyncSession, channel: str, ts: str) -> list[TimelineEntry]:
    """The entries (one per incident at most) made from one Slack message."""
    query = select(TimelineEntry).where(ENTRY.c.channel_id == channel, ENTRY.c.message_ts == ts)
    return list(await session.scalars(query))


async def entries(session: AsyncSession, incident_id: int) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(ENTRY.c.incident_id == incident_id)
    return list(await session.scalars(query.order_by(ENTRY.c.at, ENTRY.c.id)))

"""Timeline entry queries and writes; each write commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage.db import insert_once
from switchboard.storage.tables import TimelineEntry

ENTRY = SQLModel.metadata.tables["timeline_entry"]


async def for_message(session: AsyncSession, channel: str, ts: str) -> list[TimelineEntry]:
    """The entries (one per incident at most) made from one Slack message."""
    query = select(TimelineEntry).where(ENTRY.c.channel_id == channel, ENTRY.c.message_ts == ts)
    return list(await session.scalars(query))


async def entries(session: AsyncSession, incident_id: int) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(ENTRY.c.incident_id == incident_id)
    return list(await session.scalars(query.order_by(ENTRY.c.at, ENTRY.c.id)))


async def add(session: AsyncSession, entry: TimelineEntry) -> None:
    session.add(entry)
    await session.commit()


async def add_unless_there(session: AsyncSession, entry: TimelineEntry) -> bool:
    """Add an entry made from a message; False (and nothing stored) when the message is on
    this incident's timeline already: another delivery or person got there first."""
    return await insert_once(session, entry)


async def add_reactor(session: AsyncSession, entry: TimelineEntry, user: str) -> None:
    """One more person keeping the entry on the timeline."""
    if user not in entry.reactors:
        entry.reactors = [*entry.reactors, user]
        session.add(entry)
        await session.commit()


async def keep_reactors(session: AsyncSession, entries: Sequence[TimelineEntry]) -> None:
    """Store the entries' reactors as they are now; an entry nobody keeps is deleted."""
    for entry in entries:
        if entry.reactors:
            session.add(entry)
        else:
            await session.delete(entry)
    await session.commit()


async def edit(
    session: AsyncSession, entries: Sequence[TimelineEntry], text: str, at: datetime
) -> None:
    for entry in entries:
        entry.text, entry.edited_at = text, at
        session.add(entry)
    await session.commit()


async def mark_deleted(session: AsyncSession, channel: str, ts: str) -> None:
    """The message the entries were made from was deleted in Slack."""
    for entry in await for_message(session, channel, ts):
        entry.deleted = True
        session.add(entry)
    await session.commit()

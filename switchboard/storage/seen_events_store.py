"""The durable record of Slack event ids already handled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage.db import insert_once
from switchboard.storage.tables import SlackEvent


async def claim_event(session: AsyncSession, event_id: str, now: datetime) -> bool:
    """Record `event_id`; False when it was recorded before (a retry or a duplicate delivery).
    The primary key decides, so two replicas racing on one event cannot both win."""
    return await insert_once(session, SlackEvent(event_id=event_id, received_at=now))


async def release_event(session: AsyncSession, event_id: str) -> None:
    """Forget the claim on `event_id`: its handling failed, a later delivery may take it."""
    table = SQLModel.metadata.tables["slack_event"]
    await session.execute(delete(table).where(table.c.event_id == event_id))
    await session.commit()


async def forget_events_before(session: AsyncSession, cutoff: datetime) -> None:
    table = SQLModel.metadata.tables["slack_event"]
    await session.execute(delete(table).where(table.c.received_at < cutoff))
    await session.commit()


# Slack retries for about six minutes (now, +1 min, +5 min); keep ids well past that.
EVENT_MEMORY = timedelta(hours=24)


async def ping(session: AsyncSession) -> None:
    """A trivial query: raises when the database does not answer."""
    await session.execute(text("SELECT 1"))

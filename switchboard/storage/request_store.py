"""Slack requests already carried out, claimed in the caller's transaction (the caller
commits the claim together with the change it guards)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage.tables import SlackRequest

REQUEST = SQLModel.metadata.tables["slack_request"]


async def claim(session: AsyncSession, key: str, now: datetime) -> bool:
    """Claim `key` in the session's transaction; False when a request with this key was
    carried out before (the session is then rolled back). The primary key decides: of two
    concurrent deliveries, the second waits for the first and fails on flush or commit."""
    if await session.get(SlackRequest, key) is not None:
        return False
    session.add(SlackRequest(key=key, received_at=now))
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def forget_before(session: AsyncSession, cutoff: datetime) -> None:
    await session.execute(delete(REQUEST).where(REQUEST.c.received_at < cutoff))
    await session.commit()


async def seen(session: AsyncSession, key: str) -> bool:
    """Whether a request with this key was carried out before (a read: nothing claimed)."""
    return await session.get(SlackRequest, key) is not None

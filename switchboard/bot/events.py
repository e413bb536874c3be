"""The durable de-duplication of Slack event deliveries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.storage import events_store

Clock = Callable[[], datetime]


class EventLedger:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def first_delivery(self, event_id: str) -> bool:
        """True exactly once per event id, across retries, restarts and replicas."""
        async with self._sessions() as session:
            return await events_store.claim_event(session, event_id, self._clock())

    async def forget_old(self) -> None:
        async with self._sessions() as session:
            await events_store.forget_events_before(
                session, self._clock() - events_store.EVENT_MEMORY
            )

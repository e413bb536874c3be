"""The durable de-duplication of Slack event deliveries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.storage import events_store

Clock = Callable[[], datetime]


# After the database fails, events are refused for this long (Slack delivers them again).
REFUSE_AFTER_FAILURE = timedelta(seconds=30)


class EventLedger:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._failed_at: datetime | None = None

    async def first_delivery(self, event_id: str) -> bool:
        """True exactly once per event id, across retries, restarts and replicas."""
        try:
            async with self._sessions() as session:
                return await events_store.claim_event(session, event_id, self._clock())
        except (SQLAlchemyError, OSError):
            self._failed_at = self._clock()
            raise

    def accepting(self) -> bool:
        """False shortly after the database failed: better a retry from Slack than a loss."""
        return self._failed_at is None or self._clock() - self._failed_at > REFUSE_AFTER_FAILURE

    async def forget_old(self) -> None:
        async with self._sessions() as session:
            await events_store.forget_events_before(
                session, self._clock() - events_store.EVENT_MEMORY
            )

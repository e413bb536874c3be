"""The durable de-duplication of Slack event deliveries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.storage import request_store, seen_events_store

Clock = Callable[[], datetime]


# After the database fails, events are refused for this long (Slack delivers them again).
REFUSE_AFTER_FAILURE = timedelta(seconds=30)
# While refusing, the database is tried this often, and events are taken again once it answers.
PROBE_EVERY = 1.0


# How the database being away shows: the failures worth trying again later.
DATABASE_AWAY = (SQLAlchemyError, OSError)


def worth_retrying(error: BaseException) -> bool:
    """Whether handling an event that failed with `error` may well succeed later: the database
    was away. (A bug fails the same way every time.)"""
    return isinstance(error, DATABASE_AWAY)


class SeenEvents:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._failed_at: datetime | None = None
        self._probe: asyncio.Task[None] | None = None

    async def first_delivery(self, event_id: str) -> bool:
        """True exactly once per event id, across retries, restarts and replicas."""
        try:
            async with self._sessions() as session:
                return await seen_events_store.claim_event(session, event_id, self._clock())
        except DATABASE_AWAY:
            self._failed_at = self._clock()
            raise

    async def release(self, event_id: str) -> bool:
        """Give up the claim on an event whose handling failed, so that a later delivery of it
        (Slack's retry) is handled; False when the database would not take it either."""
        try:
            async with self._sessions() as session:
                await seen_events_store.release_event(session, event_id)
        except DATABASE_AWAY:
            self._failed_at = self._clock()
            return False
        return True

    def accepting(self) -> bool:
        """False shortly after the database failed, until it answers again: better a retry
        from Slack than a loss."""
        if self._failed_at is None or self._clock() - self._failed_at > REFUSE_AFTER_FAILURE:
            return True
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._probe_database())
        return False

    async def _probe_database(self) -> None:
        await asyncio.sleep(PROBE_EVERY)
        try:
            async with self._sessions() as session:
                await seen_events_store.ping(session)
        except DATABASE_AWAY:
            return
        self._failed_at = None

    async def forget_old(self) -> None:
        async with self._sessions() as session:
            await seen_events_store.forget_events_before(
                session, self._clock() - seen_events_store.EVENT_MEMORY
            )
            # Request keys guard against replays within Slack's five minutes; a day is ample.
            await request_store.forget_before(
                session, self._clock() - seen_events_store.EVENT_MEMORY
            )

"""Fixtures of the facts tests: a migrated database with its facts store, a clock the test
moves, the app's shared HTTP session, and each adapter over real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from switchboard.bot.facts.http import JsonClient, Pacer
from switchboard.bot.platform.outside_calls import HttpSession
from switchboard.storage import db
from switchboard.storage.facts_store import FactsStore

START = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class Clock:
    """Both faces of one moving time: aware datetimes (the engine) and epoch seconds
    (pacers, fakes). `sleep` moves it instead of waiting."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[FactsStore]:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    yield FactsStore(db.session_factory(engine))
    await engine.dispose()


@pytest.fixture
async def http() -> AsyncIterator[HttpSession]:
    session = HttpSession(timeout=5.0)
    yield session
    await session.close()


def client(
    http: HttpSession,
    base_url: str,
    headers: dict[str, str],
    clock: Clock,
    *,
    name: str,
    timeout: float = 5.0,
    per_second: float | None = None,
    max_body: int = 1024 * 1024,
) -> JsonClient:
    return JsonClient(
        http,
        base_url,
        headers,
        timeout=timeout,
        pacer=Pacer(clock.epoch, clock.sleep, per_second),
        name=name,
        max_body=max_body,
    )

"""Shared fixtures: a real database (SQLite file, or PostgreSQL when
SWITCHBOARD_TEST_DATABASE_URL names one), the loopback Slack fake, and the app served over
real HTTP with requests signed the way Slack signs them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from aiohttp.test_utils import TestServer
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.config import Config
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.handlers.web import SlackEdge, build_web_app
from switchboard.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
SHARED_CATALOGS = ROOT.parent / "shared" / "catalogs"
EXAMPLES = ROOT / "examples" / "catalog"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
POSTGRES_URL = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL", "")
T = TypeVar("T")


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """A database with nothing in it: a fresh SQLite file, or an emptied PostgreSQL schema."""
    if not POSTGRES_URL:
        return f"sqlite+aiosqlite:///{tmp_path / 'switchboard.db'}"
    engine = create_async_engine(load_settings(DATABASE_URL=POSTGRES_URL).database_url)
    async with engine.begin() as conn:
        # A connection an earlier test leaked (a task cancelled mid-transaction) would hold
        # its locks and stall the DROP for ever: end them first.
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def outside_call_timeout() -> float:
    """OUTSIDE_CALL_TIMEOUT of the apps fixtures build (the incidents' world); a test module
    may define its own."""
    return 10.0


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, slack: FakeSlack) -> Settings:
    return load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=database_url,
        SWITCHBOARD_CATALOG=str(EXAMPLES),
    )


@pytest.fixture
async def switchboard(settings: Settings) -> AsyncIterator[Switchboard]:
    sb = build(settings, Config())
    await prepare(sb)
    yield sb
    await sb.close()


@pytest.fixture
async def app_url(switchboard: Switchboard) -> AsyncIterator[str]:
    server = TestServer(switchboard.web, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/slack/events"))
    await server.close()


@pytest.fixture
async def requester(app_url: str, slack: FakeSlack) -> AsyncIterator[SlackRequester]:
    async with SlackRequester(app_url, SIGNING_SECRET, fake=slack) as client:
        yield client


@asynccontextmanager
async def behind_the_edge(app: AsyncApp, slack: FakeSlack) -> AsyncIterator[SlackRequester]:
    """A test's own Bolt app served behind the bot's HTTP edge; a requester signing for it."""

    async def healthy() -> bool:
        return True

    server = TestServer(build_web_app(SlackEdge(app, SIGNING_SECRET), healthy))
    await server.start_server()
    try:
        async with SlackRequester(
            str(server.make_url("/slack/events")), SIGNING_SECRET, fake=slack
        ) as client:
            yield client
    finally:
        await server.close()


async def eventually(probe: Callable[[], T], within: float = 10.0) -> T:
    """The first truthy value of `probe()`: listeners keep working after Slack got its ack."""
    deadline = asyncio.get_running_loop().time() + within
    while not (value := probe()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"nothing happened within {within} s")
        await asyncio.sleep(0.01)
    return value

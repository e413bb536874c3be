"""Shared fixtures: a real database (SQLite file, or PostgreSQL when
SWITCHBOARD_TEST_DATABASE_URL names one), the loopback Slack fake, and the app served over
real HTTP with requests signed the way Slack signs them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from aiohttp.test_utils import TestServer
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.platform.config import Config
from switchboard.edge.web import SlackEdge, build_web_app
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "catalog"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
POSTGRES_URL = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL", "")
T = TypeVar("T")

# The real, public catalog files (see SOURCES.md beside them) stay out of the repository:
# SWITCHBOARD_TEST_CATALOGS names their folder, else the shared folder of this machine, else
# shared/catalogs beside the checkout. Every test that reads them asks `real_catalogs`.
CATALOGS_VARIABLE = "SWITCHBOARD_TEST_CATALOGS"
CATALOG_FOLDERS = (Path("/work/shared/catalogs"), ROOT.parent / "shared" / "catalogs")


def find_real_catalogs(
    env: Mapping[str, str], folders: Sequence[Path] = CATALOG_FOLDERS
) -> tuple[Path | None, str]:
    """The folder of real catalog files, or None and why none was found."""
    if named := env.get(CATALOGS_VARIABLE, ""):
        folder = Path(named).resolve()
        if folder.is_dir():
            return folder, ""
        return None, f"{CATALOGS_VARIABLE}={named} is not a folder"
    for folder in folders:
        if folder.is_dir():
            return folder.resolve(), ""
    looked = " or ".join(str(f) for f in folders)
    return None, (
        f"real catalog files not found: set {CATALOGS_VARIABLE} to their folder (none at {looked})"
    )


def on_ci(env: Mapping[str, str]) -> bool:
    """Under CI (.ci/run sets CI=true) what a test needs must be there: missing is a failure."""
    return env.get("CI", "").strip().lower() in ("true", "1", "yes")


REAL_CATALOGS, NO_REAL_CATALOGS = find_real_catalogs(os.environ)
REAL_CATALOG_FILES = sorted(REAL_CATALOGS.rglob("*.y*ml")) if REAL_CATALOGS else []


@pytest.fixture
def real_catalogs() -> Path:
    """The real catalog files' folder; skips the test when there is none (fails it on CI)."""
    if REAL_CATALOGS is None:
        if on_ci(os.environ):
            pytest.fail(f"{NO_REAL_CATALOGS} (required on CI)")
        pytest.skip(NO_REAL_CATALOGS)
    return REAL_CATALOGS


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

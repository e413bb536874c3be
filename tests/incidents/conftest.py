"""An incident-ready world: a catalog whose services page through PagerDuty, Opsgenie and a
Slack user group, a Slack workspace with those people and an #incidents channel, the
pager fakes, and the app on a clock the tests move."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.platform.config import Config
from switchboard.fakes.pagers import FakeOpsgenie, FakePagerDuty
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import Settings
from switchboard.storage.tables import Incident
from tests.conftest import SIGNING_SECRET, eventually

ALICE, BOB, CAROL, DAVE = "U0001ALICE", "U0001BOB", "U0001CAROL", "U0001DAVE"
ROUTING_KEY = "a" * 32
PAGERDUTY_SECRET = "pd-webhook-secret"

CATALOG = """\
switchboard: 1
people:
  - {{id: alice, name: Alice, slack_id: {alice}}}
  - {{id: bob, name: Bob, slack_id: {bob}}}
teams:
  - id: shop
    name: Shop
    slack_channel: "#shop"
    members: [alice, bob]
  - id: web
    name: Web
    slack_usergroup: {web_group}
services:
  - id: checkout
    name: Checkout
    owner: shop
    tier: 1
    oncall: {{pagerduty_service: PCHECKOUT, integration_key: {routing_key}}}
  - id: search
    name: Search
    owner: shop
    oncall: {{opsgenie_team: search-team}}
  - id: storefront
    name: Storefront
    owner: web
"""


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    sb: Switchboard
    slack: FakeSlack
    pagerduty: FakePagerDuty
    opsgenie: FakeOpsgenie
    requester: SlackRequester
    clock: Clock
    incidents_channel: str
    elsewhere: str  # a channel that is no incident's

    async def incident(self, text: str, user: str = ALICE, channel: str = "") -> Any:
        return await self.requester.slash_command(
            "/incident", text, user_id=user, channel_id=channel or self.elsewhere
        )

    async def listing(self, user: str = ALICE) -> Any:
        """`/incident list` as `user` sees it (answered through the response URL)."""
        return await self.requester.answer(
            "/incident", "list", user_id=user, channel_id=self.elsewhere
        )

    def channel_named(self, prefix: str) -> Any:
        return next((c for c in self.slack.channels.values() if c.name.startswith(prefix)), None)

    async def settled(self, incident_id: int = 1) -> Any:
        """Wait until the incident's Slack side caught up, and return its row."""

        async def caught_up() -> Any:
            row = await self.row(incident_id)
            if row is None:
                return None
            ready = (
                row.channel_id
                and row.card_version == row.version == row.announce_version
                and row.lease_until is None  # no sync is running
            )
            return row if ready and not await self.unposted(incident_id) else None

        return await eventually_async(caught_up)

    async def until(self, check: Callable[[Incident], bool], incident_id: int = 1) -> Incident:
        """Wait for a change that a button made after its ack, then for Slack to catch up."""

        async def changed() -> bool:
            row = await self.row(incident_id)
            return row is not None and check(row)

        await eventually_async(changed)
        row: Incident = await self.settled(incident_id)
        return row

    async def retry(self, incident_id: int = 1) -> None:
        """What the scheduler does: once the sync that failed let go, run it again."""

        async def idle() -> bool:
            row = await self.row(incident_id)
            return row is not None and row.lease_until is None

        await eventually_async(idle)
        await self.sb.incidents.sync.run_due()

    async def row(self, incident_id: int) -> Incident | None:
        """The incident's row as stored now (with the sync's bookkeeping: versions, lease)."""
        from switchboard.storage import incident_store

        async with self.sb.core.sessions() as session:
            return await incident_store.by_id(session, incident_id)

    async def unposted(self, incident_id: int) -> int:
        from switchboard.storage import incident_store

        async with self.sb.catalog.reader._sessions() as session:
            return len(await incident_store.unposted_events(session, incident_id))

    def texts(self, channel: str) -> list[str]:
        return [m.text for m in self.slack.messages(channel)]


async def eventually_async(probe: Any, within: float = 10.0) -> Any:
    import asyncio

    deadline = asyncio.get_running_loop().time() + within
    while not (value := await probe()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not settled within {within} s")
        await asyncio.sleep(0.02)
    return value


@pytest.fixture
def config() -> Config:
    """The configuration the world runs with; a test module may define its own."""
    return Config()


def _optional(request: pytest.FixtureRequest, name: str, default: Any) -> Any:
    """A fixture a test module may define (the world is imported by other folders'
    conftests, which need not know it), else `default`."""
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return default


@pytest.fixture
async def world(
    tmp_path: Path,
    database_url: str,
    slack: FakeSlack,
    config: Config,
    outside_call_timeout: float,
    request: pytest.FixtureRequest,
) -> AsyncIterator[World]:
    # A module may define `catalog_text` (the catalog, with CATALOG's placeholders) and
    # `world_env` (more settings: facts tokens, the summariser...).
    catalog_text: str = _optional(request, "catalog_text", CATALOG)
    world_env: dict[str, str] = _optional(request, "world_env", {})
    for uid, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (DAVE, "dave")):
        slack.add_user(name, user_id=uid, email=f"{name}@example.com")
    web_group = slack.add_usergroup("web-team", [CAROL])
    incidents_channel = slack.add_channel("incidents", bot_member=False)
    elsewhere = slack.add_channel("elsewhere", members=[ALICE, BOB, CAROL, DAVE])
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        catalog_text.format(alice=ALICE, bob=BOB, web_group=web_group, routing_key=ROUTING_KEY)
    )
    clock = Clock()
    async with FakePagerDuty() as pagerduty, FakeOpsgenie() as opsgenie:
        pagerduty.add_service(ROUTING_KEY)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.base_url,
            DATABASE_URL=database_url,
            SWITCHBOARD_CATALOG=str(catalog),
            PAGERDUTY_EVENTS_URL=pagerduty.base_url,
            OPSGENIE_API_URL=opsgenie.base_url,
            OPSGENIE_API_KEY=opsgenie.api_key,
            PAGERDUTY_WEBHOOK_SECRET=PAGERDUTY_SECRET,
            OUTSIDE_CALL_TIMEOUT=outside_call_timeout,
            **world_env,  # type: ignore[arg-type]
        )
        sb = build(settings, config, clock)
        await prepare(sb)
        server = TestServer(sb.web, host="127.0.0.1")
        await server.start_server()
        url = str(server.make_url("/slack/events"))
        async with SlackRequester(url, SIGNING_SECRET, fake=slack) as requester:
            yield World(
                sb, slack, pagerduty, opsgenie, requester, clock, incidents_channel, elsewhere
            )
        await server.close()
        await sb.close()


__all__ = ["ALICE", "BOB", "CAROL", "DAVE", "World", "eventually"]

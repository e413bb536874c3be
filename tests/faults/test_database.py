"""The database going away and coming back under a real `serve` process, on a private
PostgreSQL cluster the test stops and starts: commands get a clear answer meanwhile (none
hangs), a declare that could not be stored says so, events are kept or refused (503) so
Slack delivers them again, and once the database is back every reaction is on the timeline
exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import AppResponse, SlackRequester
from switchboard.settings import load_settings
from switchboard.storage import db, timeline_store
from tests.conftest import SIGNING_SECRET, eventually
from tests.faults.conftest import ANN, BEN, incidents
from tests.faults.postgres import PrivatePostgres, skip_unless_available
from tests.faults.processes import Serve, workspace
from tests.faults.test_kill import poll


@pytest.fixture
async def postgres() -> AsyncIterator[PrivatePostgres]:
    skip_unless_available()
    cluster = PrivatePostgres()
    try:
        await cluster.init()
        await cluster.start()
        yield cluster
    finally:
        await cluster.remove()


def reaction(channel: str, ts: str) -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": BEN,
        "reaction": "pushpin",
        "item": {"type": "message", "channel": channel, "ts": ts},
    }


async def on_timeline(database_url: str) -> list[str]:
    engine = db.create_engine(load_settings(_env_file=None, DATABASE_URL=database_url).database_url)
    try:
        async with db.session_factory(engine)() as session:
            return [e.message_ts or "" for e in await timeline_store.entries(session, 1)]
    finally:
        await engine.dispose()


async def timed(request: Any) -> tuple[AppResponse, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await request
    return response, loop.time() - started


async def told(slack: FakeSlack, channel: str, words: str) -> None:
    """BEN sees `words` in an answer only he can see, within 15 s."""
    await eventually(
        lambda: any(words in e.text for e in slack.ephemerals(channel, BEN)), within=15
    )


async def test_the_database_goes_away_and_comes_back(
    tmp_path: Path, slack: FakeSlack, postgres: PrivatePostgres
) -> None:
    env, _, home = workspace(tmp_path, postgres.url, slack)
    serve = Serve(env, tmp_path)
    await serve.start()
    try:
        async with SlackRequester(serve.url, SIGNING_SECRET, fake=slack) as requester:

            async def command(text: str, user: str = BEN) -> AppResponse:
                name, _, rest = text.partition(" ")
                response, seconds = await timed(
                    requester.slash_command(name, rest, user_id=user, channel_id=home)
                )
                assert response.status == 200 and seconds < 3, (response, seconds)
                return response

            await command("/incident declare sev2 service:checkout Checkout is down", ANN)

            async def synced() -> bool:
                found = await incidents(postgres.url)
                return bool(found) and all(done for _, done in found)

            await poll(synced, within=30)
            [(incident, _)] = await incidents(postgres.url)
            stamps = [
                slack.add_message(incident.channel_id, f"step {n}", user=ANN) for n in range(2)
            ]

            await postgres.stop()
            # Commands: a clear answer within Slack's 3 s, none hangs.
            # (/owner and /incident list are acked empty and answered by their response URL)
            await command("/owner checkout")
            await told(slack, home, "cannot read the catalog right now")
            await command("/incident list")
            await told(slack, home, "something on my side failed. Try again in a minute")
            await command("/incident declare sev1 Payments are down")
            await told(slack, home, "could not store your incident")
            # The first event is taken (Slack has its 200) and kept until the database is back.
            first = await requester.event(
                reaction(incident.channel_id, stamps[0]), event_id="Ev0OUT1"
            )
            assert first.status == 200
            # Once the edge has seen the failure, events are refused so that Slack retries.
            second = reaction(incident.channel_id, stamps[1])
            retries = 0

            async def refused() -> bool:
                nonlocal retries
                response = await requester.event(
                    second, event_id="Ev0OUT2", retry_num=retries or None
                )
                retries += 1
                return response.status == 503

            await poll(refused, within=15)

            await postgres.start()

            async def accepted() -> bool:
                nonlocal retries
                response = await requester.event(second, event_id="Ev0OUT2", retry_num=retries)
                retries += 1
                return response.status == 200

            await poll(accepted, within=15)

            async def captured() -> bool:
                return sorted(await on_timeline(postgres.url)) == sorted(stamps)

            await poll(captured, within=30)
            # A command works again.
            await command("/owner checkout")
            await told(slack, home, "Checkout: owned by")
    finally:
        await serve.stop(clean=False)
    assert sorted(await on_timeline(postgres.url)) == sorted(stamps)
    assert len(await incidents(postgres.url)) == 1


async def test_an_event_whose_capture_fails_after_its_claim_is_still_captured_once(
    tmp_path: Path, slack: FakeSlack, postgres: PrivatePostgres
) -> None:
    """The event's id is claimed (committed), then the database goes away while the reaction
    is being captured (the bot is reading the message from Slack): the capture fails. Slack's
    retry of that event must not be dropped as a duplicate of a delivery that stored nothing;
    and a duplicate that comes while the first is still at work must not run it twice."""
    env, _, _ = workspace(tmp_path, postgres.url, slack)
    serve = Serve(env, tmp_path)
    await serve.start()
    try:
        async with SlackRequester(serve.url, SIGNING_SECRET, fake=slack) as requester:
            home = slack.add_channel("ops")
            declared = await requester.slash_command(
                "/incident", "declare sev2 Checkout is down", user_id=ANN, channel_id=home
            )
            assert declared.status == 200, declared

            async def synced() -> bool:
                found = await incidents(postgres.url)
                return bool(found) and all(done for _, done in found)

            await poll(synced, within=30)
            [(incident, _)] = await incidents(postgres.url)
            stamp = slack.add_message(incident.channel_id, "the cache is cold", user=ANN)
            pinned = reaction(incident.channel_id, stamp)
            # Reading the message takes Slack 3 s: time enough to stop the database meanwhile.
            slack.fail("conversations.history", delay=3)
            reads = len(slack.calls("conversations.history"))

            assert (await requester.event(pinned, event_id="Ev0LOST1")).status == 200
            await eventually(lambda: len(slack.calls("conversations.history")) > reads, within=10)
            # A duplicate while the first is at work: taken, and not run a second time.
            duplicate = await requester.event(pinned, event_id="Ev0LOST1", retry_num=1)
            assert duplicate.status == 200
            await asyncio.sleep(0.5)
            assert len(slack.calls("conversations.history")) == reads + 1

            await postgres.stop()  # the claim is stored; the capture will fail
            await asyncio.sleep(4)
            await postgres.start()
            # Slack's next retry of the event.
            retried = await requester.event(pinned, event_id="Ev0LOST1", retry_num=2)
            assert retried.status in (200, 503), retried

            async def captured() -> bool:
                return await on_timeline(postgres.url) == [stamp]

            await poll(captured, within=40)
            await asyncio.sleep(2)  # nothing more comes of the retries
            assert await on_timeline(postgres.url) == [stamp]
            confirmed = [
                c for c in slack.calls("reactions.add") if c.status == 200 and c.response["ok"]
            ]
            assert len(confirmed) == 1, confirmed
    finally:
        await serve.stop(clean=False)

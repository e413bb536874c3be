"""Two `switchboard serve` replicas behind one address (a round-robin proxy), sharing
PostgreSQL: declares, re-sent commands, Slack's retries of events landing on the other
replica, and both schedulers running; every user-visible effect happens once."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from tests.conftest import POSTGRES_URL, SIGNING_SECRET
from tests.faults.conftest import ANN, BEN, doubled, incidents
from tests.faults.processes import Serve, workspace
from tests.faults.test_database import on_timeline, reaction
from tests.faults.test_kill import poll

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="replicas share PostgreSQL")


async def round_robin(backends: list[str]) -> AsyncIterator[str]:
    """A proxy on loopback sending each request to the next backend in turn."""
    turn = itertools.cycle(backends)
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with session.post(next(turn), data=await request.read(), headers=headers) as out:
            body = await out.read()
            return web.Response(status=out.status, body=body, content_type=out.content_type)

    app = web.Application()
    app.router.add_post("/slack/events", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    finally:
        await runner.cleanup()
        await session.close()


async def test_two_replicas_behind_one_address_do_everything_once(
    tmp_path: Path, database_url: str, slack: FakeSlack
) -> None:
    env, announce, home = workspace(tmp_path, database_url, slack)
    replicas = [Serve(env, tmp_path, "a"), Serve(env, tmp_path, "b")]
    for replica in replicas:  # the second finds the database migrated and the catalog there
        await replica.start()
    try:
        proxy = round_robin([r.url for r in replicas])
        url = await anext(proxy)
        async with SlackRequester(url, SIGNING_SECRET, fake=slack) as requester:
            for n in range(3):
                # Sent twice with one trigger_id, as a re-sent command is: the two replicas
                # each get one and must make one incident of them.
                trigger = slack.new_trigger_id()
                for _ in range(2):
                    response = await requester.slash_command(
                        "/incident",
                        f"declare sev2 service:checkout Outage {n}",
                        user_id=ANN,
                        channel_id=home,
                        trigger_id=trigger,
                    )
                    assert response.status == 200

            async def synced() -> bool:
                found = await incidents(database_url)
                return len(found) == 3 and all(done for _, done in found)

            await poll(synced, within=40)
            first = (await incidents(database_url))[0][0]
            stamps = [slack.add_message(first.channel_id, f"step {n}", user=BEN) for n in range(6)]
            for n, ts in enumerate(stamps):
                event = reaction(first.channel_id, ts)
                # Slack's retry of each lands on the other replica.
                for retry in (None, 1):
                    response = await requester.event(event, event_id=f"Ev0RR{n}", retry_num=retry)
                    assert response.status == 200
            response = await requester.slash_command(
                "/incident", "status INC-1 identified", user_id=ANN, channel_id=home
            )
            assert response.status == 200

            async def captured() -> bool:
                return sorted(await on_timeline(database_url)) == sorted(stamps)

            await poll(captured, within=30)
            await poll(synced, within=30)
        await proxy.aclose()
    finally:
        for replica in replicas:
            await replica.stop()
    found = [incident for incident, _ in await incidents(database_url)]
    assert len(found) == 3
    assert len([c for c in slack.channels.values() if c.name.startswith("inc-")]) == 3
    assert len(slack.messages(announce)) == 3
    for incident in found:
        assert doubled(slack, incident.channel_id) == []
    confirmed = [m for m in slack.messages(first.channel_id) if m.ts in stamps and m.reactions]
    assert len(confirmed) == len(stamps)
    assert all(m.reactions.get("white_check_mark") == [slack.team.bot_user_id] for m in confirmed)
    assert sorted(await on_timeline(database_url)) == sorted(stamps)

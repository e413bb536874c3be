"""A slash command whose listener does not acknowledge it within Bolt's 3 s: Bolt answers 404
(as for a command nobody listens to). The person is told the bot is busy, in an ephemeral
answer (a 200: Slack shows only a generic failure for anything else); a command the bot does
not have is still refused with 400. (`watch_listeners` is one of
what `edge.middleware.install` puts in place.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp

from switchboard.bot.platform.slack_gateway import make_client
from switchboard.edge.middleware import watch_listeners
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, behind_the_edge, eventually


async def sluggish(ack: AsyncAck) -> None:
    await asyncio.sleep(3.5)  # past Bolt's ack time-out
    await ack("too late")


@pytest.fixture
async def requester(slack: FakeSlack) -> AsyncIterator[SlackRequester]:
    app = AsyncApp(client=make_client(BOT_TOKEN, slack.base_url), signing_secret=SIGNING_SECRET)
    app.command("/incident")(sluggish)  # /owner is acknowledged by the edge itself
    watch_listeners(app)
    async with behind_the_edge(app, slack) as client:
        yield client


async def test_a_command_not_acknowledged_in_time_is_answered_busy(
    requester: SlackRequester,
) -> None:
    response = await requester.slash_command(
        "/incident", "list", user_id="U0001ALICE", channel_id="C0001GENRL"
    )
    assert response.status == 200, response
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert "busy" in answer["text"] and "try again in a minute" in answer["text"]


async def test_a_command_the_bot_does_not_have_is_refused(requester: SlackRequester) -> None:
    response = await requester.slash_command("/nope", "x", user_id="U1", channel_id="C1")
    assert response.status == 400
    assert response.json() == {"error": "unhandled request"}


async def test_a_lookup_is_acknowledged_by_the_edge_before_its_listener_runs(
    slack: FakeSlack,
) -> None:
    # The edge acknowledges /owner itself (empty) and dispatches it to Bolt behind the ack:
    # the listener here acknowledges only after the 200 has come.
    go = asyncio.Event()

    async def answers_later(ack: AsyncAck, respond: Any) -> None:
        await go.wait()
        await ack()
        await respond(text="Payments API: owned by Payments")

    app = AsyncApp(client=make_client(BOT_TOKEN, slack.base_url), signing_secret=SIGNING_SECRET)
    app.command("/owner")(answers_later)
    watch_listeners(app)
    async with behind_the_edge(app, slack) as requester:
        url = slack.new_response_url(channel_id="C0001GENRL", user_id="U0001ALICE")
        response = await requester.slash_command(
            "/owner", "payments", user_id="U0001ALICE", channel_id="C0001GENRL", response_url=url
        )
        assert (response.status, response.body) == (200, "")
        go.set()
        (posted,) = await eventually(lambda: slack.response_posts(url))
        assert posted["text"] == "Payments API: owned by Payments"


async def test_a_malformed_lookup_is_still_refused(requester: SlackRequester) -> None:
    response = await requester.slash_command("/owner", "payments", user_id="", channel_id="C1")
    assert response.status == 400

"""A lookup slower than Slack's 3 s: the person is told it is coming, then gets the answer
in place by the response URL; a lookup that fails says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from slack_bolt.async_app import AsyncApp

from switchboard.bot.slack_gateway import make_client
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.handlers.lookup import SLOW, register_lookup
from switchboard.handlers.web import SlackEdge, build_web_app
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, eventually


async def slow_answer(text: str) -> str:
    await asyncio.sleep(0.3)
    if text == "broken":
        raise RuntimeError("the catalog is gone")
    return f"answer for {text}"


def render(result: str, shared_by: str = "") -> dict[str, Any]:
    return {"text": result}


@pytest.fixture
async def requester(slack: FakeSlack) -> AsyncIterator[SlackRequester]:
    app = AsyncApp(client=make_client(BOT_TOKEN, slack.base_url), signing_secret=SIGNING_SECRET)
    register_lookup(
        app,
        name="/slowpoke",
        answer=slow_answer,
        answer_ref=slow_answer,
        render=render,
        pick_action="slowpoke_pick",
        share_action="slowpoke_share",
        unavailable="Cannot look that up right now.",
        answer_within=0.05,
    )
    server = TestServer(build_web_app(SlackEdge(app, SIGNING_SECRET), lambda: _true()))
    await server.start_server()
    async with SlackRequester(
        str(server.make_url("/slack/events")), SIGNING_SECRET, fake=slack
    ) as client:
        yield client
    await server.close()


async def _true() -> bool:
    return True


async def test_a_slow_answer_is_announced_then_sent(
    requester: SlackRequester, slack: FakeSlack
) -> None:
    url = slack.new_response_url(channel_id="C0GENERAL", user_id="U0001ALICE")
    response = await requester.slash_command(
        "/slowpoke", "ledger", user_id="U0001ALICE", channel_id="C0GENERAL", response_url=url
    )
    assert response.json() == {"text": SLOW, "response_type": "ephemeral"}
    (later,) = await eventually(lambda: slack.response_posts(url))
    assert later["text"] == "answer for ledger"
    assert later["response_type"] == "ephemeral" and later["replace_original"] is True


async def test_a_slow_lookup_that_fails_says_so(
    requester: SlackRequester, slack: FakeSlack
) -> None:
    url = slack.new_response_url(channel_id="C0GENERAL", user_id="U0001ALICE")
    await requester.slash_command(
        "/slowpoke", "broken", user_id="U0001ALICE", channel_id="C0GENERAL", response_url=url
    )
    (later,) = await eventually(lambda: slack.response_posts(url))
    assert later["text"] == "Cannot look that up right now."

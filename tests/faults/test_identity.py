"""Slack's API down when a freshly started bot gets its first requests. Bolt asks `auth.test`
who the bot is on the first request, and when Slack fails it tells the person "your
installation with this app is no longer available. Please reinstall" (or, on a time-out,
nothing within Slack's 3 s). The bot must answer what it can meanwhile, keep the events, and
work as usual once Slack is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.platform.config import Config
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import AppResponse, SlackRequester
from switchboard.settings import Settings
from tests.conftest import SIGNING_SECRET, eventually

ALICE = "U0001ALICE"
HOME_OPENED = {"type": "app_home_opened", "user": ALICE, "channel": "D1", "tab": "home"}


@pytest.fixture
async def started_in_outage(
    request: pytest.FixtureRequest, settings: Settings, slack: FakeSlack
) -> AsyncIterator[tuple[Switchboard, SlackRequester]]:
    """A bot started while `auth.test` fails as the test's parameter says."""
    if request.param == "5xx":
        slack.fail("auth.test", status=503, times=10_000)
    else:  # Slack takes longer than the client waits
        slack.fail("auth.test", delay=12, times=10_000)
    async with serving(settings, slack) as started:
        yield started


@asynccontextmanager
async def serving(
    settings: Settings, slack: FakeSlack
) -> AsyncIterator[tuple[Switchboard, SlackRequester]]:
    """A bot freshly started and served over HTTP, and a requester signing for it."""
    switchboard = build(settings, Config())
    await prepare(switchboard)
    server = TestServer(switchboard.web, host="127.0.0.1")
    await server.start_server()
    try:
        async with SlackRequester(
            str(server.make_url("/slack/events")), SIGNING_SECRET, fake=slack
        ) as requester:
            yield switchboard, requester
    finally:
        await server.close()
        await switchboard.close()


async def timed_command(requester: SlackRequester, text: str) -> tuple[AppResponse, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    # What the person sees: the ack's message, or the answer to its response URL
    response = await requester.answer("/owner", text, user_id=ALICE, channel_id="C1", within=3)
    return response, loop.time() - started


def answer(response: AppResponse) -> dict[str, Any]:
    assert response.status == 200, response
    assert "reinstall" not in response.body.lower(), response.body
    assert "no longer available" not in response.body.lower(), response.body
    body = response.json()
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize("started_in_outage", ["5xx", "timeout"], indirect=True)
async def test_first_command_while_slack_api_is_down_is_answered_and_nothing_sticks(
    started_in_outage: tuple[Switchboard, SlackRequester], slack: FakeSlack
) -> None:
    _, requester = started_in_outage
    # /owner needs no Slack API call: it is answered, within Slack's 3 s, as usual.
    first, seconds = await timed_command(requester, "payments-api")
    assert seconds < 3, seconds
    assert answer(first)["text"] == "Payments API: owned by Payments"
    again, seconds = await timed_command(requester, "payments-api")
    assert seconds < 3 and answer(again)["text"] == "Payments API: owned by Payments"
    # An event that arrives meanwhile is taken, and kept until the bot knows who it is.
    assert (await requester.event(HOME_OPENED, event_id="Ev0OUTAGE1")).status == 200
    await asyncio.sleep(1.5)
    assert slack.calls("views.publish") == []

    slack.heal()
    # The event is handled, once, and the commands go on working.
    await eventually(lambda: slack.calls("views.publish"), within=20)
    later, _ = await timed_command(requester, "payments-api")
    assert answer(later)["text"] == "Payments API: owned by Payments"
    assert (await requester.event(HOME_OPENED, event_id="Ev0OUTAGE2")).status == 200
    await eventually(lambda: len(slack.calls("views.publish")) == 2, within=10)
    assert [c.status for c in slack.calls("auth.test")][-1] == 200


async def test_a_token_slack_refuses_is_said_as_it_is(settings: Settings, slack: FakeSlack) -> None:
    slack.fail("auth.test", error="invalid_auth", times=10_000)
    async with serving(settings, slack) as (_, requester):
        refused, seconds = await timed_command(requester, "payments-api")
        assert seconds < 3
        assert refused.status == 200
        text = refused.json()["text"]  # here reinstalling may well be the cure
        assert "Slack refuses my token (invalid_auth)" in text, text
        slack.heal()  # the token was put right (say, the app reinstalled)
        fixed, _ = await timed_command(requester, "payments-api")
        assert answer(fixed)["text"] == "Payments API: owned by Payments"

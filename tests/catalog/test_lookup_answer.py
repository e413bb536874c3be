"""A lookup command is acked before it looks anything up (Slack's 3 s never wait for the
database), and the person gets the answer through the response URL; a failed lookup says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp

from switchboard.bot.platform.slack_gateway import make_client
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.handlers.lookup import register_lookup
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, behind_the_edge, eventually


def render(result: str, shared_by: str = "") -> dict[str, Any]:
    return {"text": result}


@pytest.fixture
def gate() -> asyncio.Event:
    """The lookup answers only once the test opens this."""
    return asyncio.Event()


@pytest.fixture
def working() -> list[str]:
    """The lookups being answered right now."""
    return []


@pytest.fixture
async def requester(
    slack: FakeSlack, gate: asyncio.Event, working: list[str]
) -> AsyncIterator[SlackRequester]:
    async def gated_answer(text: str, viewer: str) -> str:
        working.append(text)
        await gate.wait()
        working.remove(text)
        if text == "broken":
            raise RuntimeError("the catalog is gone")
        return f"answer for {text}"

    app = AsyncApp(client=make_client(BOT_TOKEN, slack.base_url), signing_secret=SIGNING_SECRET)
    register_lookup(
        app,
        name="/slowpoke",
        answer=gated_answer,
        answer_ref=gated_answer,
        render=render,
        pick_action="slowpoke_pick",
        share_action="slowpoke_share",
        unavailable="Cannot look that up right now.",
        lane=asyncio.Semaphore(2),
    )
    async with behind_the_edge(app, slack) as client:
        yield client


async def test_the_ack_does_not_wait_for_the_answer(
    requester: SlackRequester, slack: FakeSlack, gate: asyncio.Event
) -> None:
    url = slack.new_response_url(channel_id="C0GENERAL", user_id="U0001ALICE")
    response = await requester.slash_command(
        "/slowpoke", "ledger", user_id="U0001ALICE", channel_id="C0GENERAL", response_url=url
    )
    assert (response.status, response.body) == (200, "")  # acked while the lookup waits
    assert slack.response_posts(url) == []
    gate.set()
    (later,) = await eventually(lambda: slack.response_posts(url))
    assert later == {"text": "answer for ledger", "response_type": "ephemeral"}


async def test_a_lookup_that_fails_says_so(
    requester: SlackRequester, slack: FakeSlack, gate: asyncio.Event
) -> None:
    gate.set()
    url = slack.new_response_url(channel_id="C0GENERAL", user_id="U0001ALICE")
    await requester.slash_command(
        "/slowpoke", "broken", user_id="U0001ALICE", channel_id="C0GENERAL", response_url=url
    )
    (later,) = await eventually(lambda: slack.response_posts(url))
    assert later["text"] == "Cannot look that up right now."


async def test_answers_are_worked_on_a_few_at_a_time_and_acks_never_wait(
    requester: SlackRequester, slack: FakeSlack, gate: asyncio.Event, working: list[str]
) -> None:
    urls = [slack.new_response_url(channel_id="C0GENERAL", user_id="U0001ALICE") for _ in "12345"]
    acks = [
        await requester.slash_command(
            "/slowpoke", f"q{n}", user_id="U0001ALICE", channel_id="C0GENERAL", response_url=url
        )
        for n, url in enumerate(urls)
    ]
    assert [(a.status, a.body) for a in acks] == [(200, "")] * 5
    await eventually(lambda: len(working) == 2)
    await asyncio.sleep(0.1)  # the other three stay queued behind the lane
    assert working == ["q0", "q1"]
    gate.set()
    for n, url in enumerate(urls):
        (answer,) = await eventually(lambda url=url: slack.response_posts(url))
        assert answer["text"] == f"answer for q{n}"

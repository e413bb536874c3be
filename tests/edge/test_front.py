"""`serve --front`: a front process acknowledges Slack at once and hands each request to the
bot behind it. What the person sees must not change: the same answers, the modal's field
errors, events handled once; and nothing is lost while the bot cannot be reached."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from switchboard.app import build, serving
from switchboard.bot.platform.config import Config
from switchboard.edge.front import UNAVAILABLE, Taken, run_front
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import Settings
from tests.conftest import SIGNING_SECRET, eventually

ALICE = "U0001ALICE"
HOME_OPENED = {"type": "app_home_opened", "user": ALICE, "channel": "D1", "tab": "home"}


@pytest.fixture
async def fronted(settings: Settings, slack: FakeSlack) -> AsyncIterator[SlackRequester]:
    """The bot served behind its front process; a requester signing for the front."""
    switchboard = build(settings, Config())
    try:
        async with (
            serving(switchboard, "127.0.0.1", 0, front=True) as served,
            SlackRequester(served.url, SIGNING_SECRET, fake=slack) as requester,
        ):
            yield requester
    finally:
        await switchboard.close()


async def test_a_command_is_acked_at_once_and_answered_as_without_a_front(
    fronted: SlackRequester, slack: FakeSlack
) -> None:
    answer = await fronted.answer("/owner", "gateway", user_id=ALICE, channel_id="C0GENERAL")
    assert answer.json()["text"] == "API gateway: owned by Platform"
    acked = await fronted.slash_command("/owner", "gateway", user_id=ALICE, channel_id="C1")
    assert (acked.status, acked.body) == (200, "")


async def test_what_the_bots_ack_says_reaches_the_person(
    fronted: SlackRequester, slack: FakeSlack
) -> None:
    answer = await fronted.answer(
        "/incident", "declare sev9 Search down", user_id=ALICE, channel_id="C0GENERAL"
    )
    assert "sev9" in answer.json()["text"]
    assert slack.calls("conversations.create") == []


async def test_a_modals_field_errors_come_back_through_the_front(
    fronted: SlackRequester, slack: FakeSlack
) -> None:
    await fronted.slash_command("/incident", "declare", user_id=ALICE, channel_id="C0GENERAL")
    (opened,) = await eventually(lambda: slack.calls("views.open"))
    values = {"title": {"value": {"type": "plain_text_input", "value": "  "}}}
    response = await fronted.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    assert response.json() == {
        "response_action": "errors",
        "errors": {"title": "Give the incident a title."},
    }


async def test_events_are_handled_once_and_bad_requests_refused(
    fronted: SlackRequester, slack: FakeSlack
) -> None:
    first = await fronted.event(HOME_OPENED, event_id="Ev0FRONT1")
    again = await fronted.event(HOME_OPENED, event_id="Ev0FRONT1", retry_num=1)
    assert (first.status, again.status) == (200, 200)
    await eventually(lambda: slack.calls("views.publish"))
    await asyncio.sleep(0.5)
    assert len(slack.calls("views.publish")) == 1
    forged = await fronted.event(HOME_OPENED, signature="v0=forged")
    unknown = await fronted.event({"type": "star_added", "user": ALICE})  # not subscribed
    assert (forged.status, unknown.status) == (401, 400)


async def test_health_and_metrics_are_the_bots_and_the_fronts(fronted: SlackRequester) -> None:
    status, health = await get(fronted, "/healthz")
    body = json.loads(health)
    assert (status, body["status"], body["database"]) == (200, "ok", True)
    assert body["sources"]["slack"]["configured"] is True  # the facts sources, as detail
    await fronted.event(HOME_OPENED, signature="v0=forged")  # turned away by the front
    # A command the bot answers in its ack, which the front passes on once the bot has
    # answered it, and so counted it. (An answer sent by a listener after its ack, as /owner's
    # is, may reach the person before the bot counts the request: Bolt notices the ack by
    # polling every 10 ms, while the listener goes on.)
    help = await fronted.answer("/incident", "help", user_id=ALICE, channel_id="C0001GENRL")
    assert "/incident declare" in help.json()["text"]
    status, metrics = await get(fronted, "/metrics")
    assert status == 200
    seen = {line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1] for line in metrics.splitlines()}
    assert (
        seen['switchboard_front_slack_requests_total{kind="unknown",outcome="unsigned"}'] == "1.0"
    )
    assert seen['switchboard_front_slack_requests_total{kind="command",outcome="ok"}'] == "1.0"
    assert seen['switchboard_slack_requests_total{kind="command",outcome="ok"}'] == "1.0"
    assert 'switchboard_slack_requests_total{kind="unknown",outcome="unsigned"}' not in seen


async def test_a_command_the_bot_refuses_as_malformed_is_said_so_not_an_outage(
    fronted: SlackRequester,
) -> None:
    """The front acks at once; the bot's 400 (here: a channel id of no shape Slack sends)
    reaches the person as what it is, not as "restarting or overloaded"."""
    refused = await fronted.answer("/incident", "help", user_id=ALICE, channel_id="C1")
    assert refused.json()["text"] == (
        "Switchboard could not read that command, so nothing was done."
    )


async def get(requester: SlackRequester, path: str) -> tuple[int, str]:
    base = requester.app_url.removesuffix("/slack/events")
    async with aiohttp.ClientSession() as http, http.get(base + path) as response:
        return response.status, await response.text()


# the front alone, with the bot away


class Bot:
    """A stand-in for the bot on its Unix socket: records what it is handed."""

    def __init__(self, path: str, statuses: list[int]) -> None:
        self.path, self.statuses = path, statuses
        self.handed: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def take(request: web.Request) -> web.Response:
            self.handed.append(json.loads(await request.read()))
            return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

        app = web.Application()
        app.router.add_post("/slack/events", take)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.UnixSite(self._runner, self.path).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def front_alone(
    tmp_path: Path, slack: FakeSlack
) -> AsyncIterator[tuple[SlackRequester, str]]:
    """A front whose bot is not there (yet): the requester, and the bot's socket path."""
    bot_socket = str(tmp_path / "bot.sock")
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/slack/events"
    taken = Taken(frozenset({"/owner"}), frozenset({"app_home_opened"}))
    task = asyncio.create_task(run_front(listener, bot_socket, SIGNING_SECRET, taken))
    try:
        async with SlackRequester(url, SIGNING_SECRET, fake=slack) as requester:
            yield requester, bot_socket
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        listener.close()


async def test_a_command_the_bot_cannot_take_is_answered_with_why(
    front_alone: tuple[SlackRequester, str],
) -> None:
    requester, _ = front_alone
    answer = await requester.answer("/owner", "gateway", user_id=ALICE, channel_id="C1")
    assert answer.json() == UNAVAILABLE
    assert (await get(requester, "/healthz"))[0] == 503


async def test_an_event_is_delivered_once_the_bot_takes_it(
    front_alone: tuple[SlackRequester, str],
) -> None:
    requester, bot_socket = front_alone
    response = await requester.event(HOME_OPENED, event_id="Ev0AWAY")
    assert (response.status, response.body) == (200, "")  # Slack will not send it again
    bot = Bot(bot_socket, statuses=[503])  # back, with its database still away at first
    await bot.start()
    try:
        handed = await eventually(lambda: len(bot.handed) == 2, within=15)
        assert handed and [h["event_id"] for h in bot.handed] == ["Ev0AWAY", "Ev0AWAY"]
        await asyncio.sleep(1.5)
        assert len(bot.handed) == 2  # taken the second time: not handed again
    finally:
        await bot.stop()


async def test_signed_bodies_the_front_cannot_read_get_400_from_the_front_itself(
    front_alone: tuple[SlackRequester, str],
) -> None:
    """Not UTF-8, or nested 100,000 levels deep (a RecursionError and a 500 before): the
    signature was fine, the body was not. The front answers without the bot (it is away)."""
    requester, _ = front_alone
    json_type = {"Content-Type": "application/json"}
    deep = b'{"type": "event_callback", "event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    deep_payload = b"payload=" + b"[" * 100_000 + b"]" * 100_000
    answers = [
        await requester.raw(b"text=\xff\xfe"),
        await requester.raw(b'{"type": "\xff"}', json_type),
        await requester.raw(deep, json_type),
        await requester.raw(deep_payload),
    ]
    assert [a.status for a in answers] == [400] * 4
    assert [a.json()["error"] for a in answers[:2]] == ["malformed body: not UTF-8"] * 2
    assert "nested deeper than 64 levels" in answers[2].json()["error"]
    forged = await requester.raw(b"text=\xff\xfe", signature="v0=" + "0" * 64)
    assert forged.status == 401

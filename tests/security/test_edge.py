"""The HTTP edge turns away what Slack did not send, or what we never handle: forged,
replayed, stale and unsigned requests get 401; oversized bodies, malformed bodies and
unknown kinds of payload get 400. Either way nothing is stored and nothing reaches Slack."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from switchboard.app import Switchboard
from switchboard.edge.screening import INTERACTION_TYPES
from switchboard.edge.web import SlackEdge, build_web_app
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.storage.tables import Incident, SlackEvent, TimelineEntry
from tests.conftest import SIGNING_SECRET

JSON = {"Content-Type": "application/json"}
DECLARE = {"command": "/incident", "text": "declare sev1 Forged outage", "user_id": "U1"}


async def stored(switchboard: Switchboard) -> dict[str, int]:
    """How many incidents, delivered events and timeline entries the database holds."""
    counts = {}
    async with switchboard.core.engine.connect() as conn:
        for table in (Incident, SlackEvent, TimelineEntry):
            count = await conn.scalar(select(func.count()).select_from(table))
            counts[table.__tablename__] = int(count or 0)
    return counts


async def assert_untouched(switchboard: Switchboard, slack: FakeSlack) -> None:
    await asyncio.sleep(0.3)  # events are handled after their ack: give them the time
    assert await stored(switchboard) == {"incident": 0, "slack_event": 0, "timeline_entry": 0}
    assert [c.method for c in slack.calls() if c.method != "auth.test"] == []


def form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


@dataclass
class MovableClock:
    """slack_sdk's Clock, on a time the test moves."""

    at: float

    def now(self) -> float:
        return self.at


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(time.time())


@pytest.fixture
async def edge_url(switchboard: Switchboard, clock: MovableClock) -> AsyncIterator[str]:
    """The same app, but with the signature check on a clock the test moves."""

    async def healthy() -> bool:
        return True

    web_app = build_web_app(SlackEdge(switchboard.bolt, SIGNING_SECRET, clock=clock), healthy)
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/slack/events"))
    await server.close()


async def test_a_request_replayed_after_five_minutes_gets_401(
    edge_url: str, clock: MovableClock, slack: FakeSlack
) -> None:
    async with SlackRequester(edge_url, SIGNING_SECRET, fake=slack, clock=lambda: clock.at) as r:
        hook = slack.new_response_url()
        body = form(
            {
                "command": "/owner",
                "text": "help",
                "user_id": "U0001ALICE",
                "channel_id": "C0001GENRL",
            }
            | {"response_url": hook}
        )
        headers = r.signer.headers(body)
        first = await r.raw(body, headers, signed=False)
        assert first.status == 200
        clock.at += 301
        replayed = await r.raw(body, headers, signed=False)
        assert (replayed.status, replayed.json()) == (401, {"error": "invalid request"})
        clock.at -= 700  # a timestamp from the future is as bad as a stale one
        early = await r.raw(body, headers, signed=False)
        assert early.status == 401


async def test_forged_stale_and_unsigned_declarations_get_401_and_store_nothing(
    requester: SlackRequester, switchboard: Switchboard, slack: FakeSlack
) -> None:
    body = form(DECLARE)
    now = int(time.time())
    other_secret = SlackRequester(requester.app_url, "not-the-secret")
    attempts = [
        await requester.raw(body, signature="v0=" + "0" * 64),  # forged
        await requester.raw(body, signature=other_secret.signer.signature(body, now)),
        await requester.raw(body, signature=requester.signer.signature(body + b"x", now)),
        await requester.raw(body, signature="v1=" + requester.signer.signature(body, now)[3:]),
        await requester.raw(body, timestamp=now - 301),  # stale, validly signed
        await requester.raw(body, timestamp="soon"),
        await requester.raw(body, signed=False),
        await requester.raw(body, {"X-Slack-Request-Timestamp": str(now)}, signed=False),
        await requester.raw(
            body, {"X-Slack-Signature": requester.signer.signature(body, now)}, signed=False
        ),
        await requester.event({"type": "app_home_opened", "user": "U1"}, signature="v0=00"),
        await requester.event({"type": "app_home_opened", "user": "U1"}, timestamp=now - 3600),
    ]
    await other_secret.close()
    assert [a.status for a in attempts] == [401] * len(attempts)
    await assert_untouched(switchboard, slack)


async def test_an_oversized_body_gets_400_and_is_not_read(
    requester: SlackRequester, switchboard: Switchboard, slack: FakeSlack
) -> None:
    huge = form(DECLARE | {"text": "declare " + "A" * 1_100_000})
    response = await requester.raw(huge)
    assert (response.status, response.json()) == (400, {"error": "body too large"})
    huge_event = json.dumps({"type": "event_callback", "padding": "x" * 1_100_000}).encode()
    assert (await requester.raw(huge_event, JSON)).status == 400
    await assert_untouched(switchboard, slack)


def event_callback(event: object) -> bytes:
    return json.dumps({"type": "event_callback", "event_id": "Ev0UNKNOWN", "event": event}).encode()


def interaction(kind: str, **fields: object) -> bytes:
    payload = {"type": kind, "user": {"id": "U1"}, "team": {"id": "T1"}} | fields
    return form({"payload": json.dumps(payload)})


async def test_unknown_kinds_of_payload_get_400_and_store_nothing(
    requester: SlackRequester, switchboard: Switchboard, slack: FakeSlack
) -> None:
    cases = {
        "event we do not subscribe to": (
            event_callback({"type": "channel_created", "channel": {"id": "C9"}}),
            JSON,
        ),
        "event without a type": (event_callback({"user": "U1"}), JSON),
        "event that is not an object": (event_callback("app_home_opened"), JSON),
        "unknown JSON type": (json.dumps({"type": "app_uninstalled_forever"}).encode(), JSON),
        "JSON without a type": (json.dumps({"event": {"type": "app_home_opened"}}).encode(), JSON),
        "malformed JSON": (b'{"type": "event_callback", ', JSON),
        "JSON that is a list": (b'[{"type": "event_callback"}]', JSON),
        "unknown interaction type": (interaction("workflow_step_edit"), None),
        "interaction without a type": (form({"payload": json.dumps({"user": {"id": "U1"}})}), None),
        "action nobody made": (
            interaction(
                "block_actions",
                actions=[{"action_id": "drop_tables", "value": "1"}],
                channel={"id": "C1"},
            ),
            None,
        ),
        "view nobody made": (
            interaction("view_submission", view={"callback_id": "steal", "state": {"values": {}}}),
            None,
        ),
        "malformed payload": (form({"payload": "{nope"}), None),
        "payload beside other fields": (form({"payload": "{}", "command": "/incident"}), None),
        "form without command": (form({"text": "declare sev1 Sneaky", "user_id": "U1"}), None),
        "command that is not a command": (form(DECLARE | {"command": "incident"}), None),
        "empty body": (b"", None),
    }
    for name, (body, headers) in cases.items():
        response = await requester.raw(body, headers)
        assert response.status == 400, f"{name}: {response.status} {response.body}"
        assert "error" in response.json(), name
    await assert_untouched(switchboard, slack)


async def test_what_slack_does_send_still_gets_through(
    requester: SlackRequester, slack: FakeSlack
) -> None:
    """The screening above lets every kind of request we handle pass."""
    assert (await requester.url_verification("abc")).json() == {"challenge": "abc"}
    ssl_check = await requester.raw(form({"ssl_check": "1", "token": "t"}))
    assert ssl_check.status == 200
    owner = await requester.slash_command(
        "/owner", "help", user_id="U0001ALICE", channel_id="C0001GENRL"
    )
    assert owner.status == 200
    home = await requester.event({"type": "app_home_opened", "user": "U0001ALICE", "tab": "home"})
    assert home.status == 200


FIELDS = [
    "type", "id", "value", "action_id", "block_id", "callback_id", "private_metadata",
    "state", "values", "channel", "message", "ts", "container", "user", "team", "view",
    "actions", "response_url", "trigger_id", "text", "enterprise", "channel_id",
]  # fmt: skip


def junk(rng: random.Random, depth: int = 0) -> object:
    """Some JSON value: what a payload's field might hold when it is not what we expect."""
    kinds = ["none", "number", "str", "list", "dict"] if depth < 3 else ["none", "str"]
    kind = rng.choice(kinds)
    if kind == "none":
        return None
    if kind == "number":
        return rng.choice([0, -1, 2**63, 1.5, True])
    if kind == "str":
        return rng.choice(["", "x", "<!channel>", "C1", "U1", "V1", "é" * 50])
    if kind == "list":
        return [junk(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(FIELDS): junk(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def odd_interaction(rng: random.Random) -> dict[str, object]:
    """An interaction whose envelope (who, where, which view or action) has fields of any
    shape, aimed at no listener of ours: Slack never sends these, but a signed one must
    still get a 400, not a 500 and a traceback."""
    kind = rng.choice([*sorted(INTERACTION_TYPES), "shortcut", "message_action", "nope"])
    payload: dict[str, object] = {"type": kind}
    for name in ("user", "team", "channel", "container", "message", "enterprise", "view"):
        if rng.random() < 0.5:
            payload[name] = junk(rng)
    if rng.random() < 0.7:
        action = {"action_id": "nobody_listens", "block_id": "b", "value": junk(rng)}
        payload["actions"] = rng.choice([[action], [], junk(rng)])
    if rng.random() < 0.3:
        payload["view"] = {"type": "modal", "id": "V1", "callback_id": "nobody_listens"}
    return payload


async def test_odd_interactions_get_400_and_no_traceback(
    requester: SlackRequester,
    switchboard: Switchboard,
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rng = random.Random(7)
    for _ in range(150):
        payload = odd_interaction(rng)
        response = await requester.raw(form({"payload": json.dumps(payload)}))
        assert response.status == 400, f"{response.status} for {payload}"
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    await assert_untouched(switchboard, slack)

"""The HTTP edge: signatures always checked, bodies parsed despite Bolt's "payload" bug,
retried events handled once, and /healthz telling whether the database answers."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text

from switchboard.app import Switchboard, build
from switchboard.bot.platform.config import Config
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import Settings
from switchboard.storage.tables import SlackEvent
from tests.conftest import eventually

HOME_OPENED = {"type": "app_home_opened", "user": "U0001ALICE", "channel": "D1", "tab": "home"}


async def stored_events(switchboard: Switchboard) -> int:
    async with switchboard.core.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(SlackEvent)) or 0)


async def test_forged_stale_and_unsigned_requests_get_401_and_change_nothing(
    requester: SlackRequester, switchboard: Switchboard, slack: FakeSlack
) -> None:
    body = urlencode({"command": "/owner", "text": "auth"}).encode()
    forged = await requester.raw(body, signature="v0=" + "0" * 64)
    stale = await requester.slash_command(
        "/owner",
        "auth",
        user_id="U0001ALICE",
        channel_id="C0001GENRL",
        timestamp=int(time.time()) - 301,
    )
    unsigned = await requester.raw(body, signed=False)
    stale_event = await requester.event(HOME_OPENED, timestamp=int(time.time()) - 600)
    for response in (forged, stale, unsigned, stale_event):
        assert response.status == 401
        assert response.json() == {"error": "invalid request"}
    assert await stored_events(switchboard) == 0
    assert slack.calls("views.publish") == []


async def test_url_verification_answers_the_challenge(requester: SlackRequester) -> None:
    response = await requester.url_verification(
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    )
    assert response.status == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_retried_event_runs_its_listener_once(
    requester: SlackRequester, slack: FakeSlack, switchboard: Switchboard
) -> None:
    first = await requester.event(HOME_OPENED, event_id="Ev0HOME1")
    assert first.status == 200
    await eventually(lambda: slack.calls("views.publish"))
    for retry in (1, 2, 3):
        again = await requester.event(HOME_OPENED, event_id="Ev0HOME1", retry_num=retry)
        assert again.status == 200
    other = await requester.event(HOME_OPENED, event_id="Ev0HOME2")
    assert other.status == 200
    await eventually(lambda: len(slack.calls("views.publish")) == 2)
    assert len(slack.calls("views.publish")) == 2
    assert await stored_events(switchboard) == 2


async def test_home_tab_shows_the_catalog(requester: SlackRequester, slack: FakeSlack) -> None:
    await requester.event(HOME_OPENED)
    await eventually(lambda: slack.home("U0001ALICE"))
    home = slack.home("U0001ALICE")
    assert home is not None
    texts = [b["text"]["text"] for b in home.payload["blocks"] if b["type"] == "section"]
    assert "The catalog knows *9* services and other components, *3* teams and *7* people." in texts


async def test_incident_with_the_word_payload_reaches_its_listener(
    requester: SlackRequester,
) -> None:
    response = await requester.slash_command(
        "/incident", "declare payload API down", user_id="U0001ALICE", channel_id="C0001GENRL"
    )
    assert response.status == 200
    assert response.json()["text"] == "Declaring your incident…"


JSON_TYPE = {"Content-Type": "application/json"}


async def test_malformed_bodies_get_400(requester: SlackRequester) -> None:
    bad_json = await requester.raw(b"{not json", {"Content-Type": "application/json"})
    bad_payload = await requester.raw(b"payload=%7Bnope")
    assert (bad_json.status, bad_payload.status) == (400, 400)


async def test_a_signed_body_that_is_not_utf8_gets_400_and_a_forged_one_401(
    requester: SlackRequester,
) -> None:
    """The signature is over the bytes: a signed body that is not UTF-8 is a bad body (400,
    as the README says), not a bad signature; a forged one is still a bad signature."""
    for body, headers in ((b"text=\xff\xfe", None), (b'{"type": "\xff"}', JSON_TYPE)):
        signed = await requester.raw(body, headers)
        assert (signed.status, signed.json()) == (400, {"error": "malformed body: not UTF-8"})
        forged = await requester.raw(body, headers, signature="v0=" + "0" * 64)
        assert (forged.status, forged.json()) == (401, {"error": "invalid request"})


async def test_oversized_body_gets_400(requester: SlackRequester) -> None:
    response = await requester.raw(b"text=" + b"a" * 300_000)
    assert (response.status, response.json()) == (400, {"error": "body too large"})


async def test_healthz_reports_the_database(app_url: str, settings: Settings) -> None:
    health = app_url.replace("/slack/events", "/healthz")
    async with aiohttp.ClientSession() as http, http.get(health) as ok:
        body = await ok.json()
        assert (ok.status, body["status"], body["database"]) == (200, "ok", True)
    nowhere = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:9/gone"}
    )
    broken = build(nowhere, Config())
    async with TestClient(TestServer(broken.web)) as client:
        down = await client.get("/healthz")
        assert down.status == 503
        assert await down.json() == {"status": "degraded", "database": False}
    await broken.close()


async def test_events_are_refused_for_a_while_after_the_database_failed(
    requester: SlackRequester, switchboard: Switchboard, slack: FakeSlack
) -> None:
    async with switchboard.core.engine.begin() as conn:  # the database loses the table it needs
        await conn.execute(text("DROP TABLE slack_event"))
    first = await requester.event(HOME_OPENED, event_id="Ev0DOWN1")
    assert first.status == 200  # acknowledged on receipt, before the failure was known
    await eventually(lambda: not switchboard.core.seen_events.accepting())
    second = await requester.event(HOME_OPENED, event_id="Ev0DOWN2")
    assert (second.status, second.json()) == (503, {"error": "try again later"})
    assert slack.calls("views.publish") == []
    commands_still_work = await requester.slash_command(
        "/owner", "auth", user_id="U0001ALICE", channel_id="C0001GENRL"
    )
    assert commands_still_work.status == 200


async def test_a_body_nested_deeper_than_slack_nests_gets_400_and_one_log_line(
    requester: SlackRequester, caplog: pytest.LogCaptureFixture
) -> None:
    """100,000 levels deep, the JSON decoder raised RecursionError (a 500 and a traceback);
    a few hundred levels passed it and broke what walks the body after it."""
    for depth in (100_000, 900, 65):
        nested = "[" * depth + "]" * depth
        event = (
            f'{{"type": "event_callback", "event": {{"type": "app_home_opened", "x": {nested}}}}}'
        )
        response = await requester.raw(event.encode(), JSON_TYPE)
        assert response.status == 400, depth
        assert response.json() == {"error": "malformed body: nested deeper than 64 levels"}
        payload = await requester.raw(b"payload=" + nested.encode())  # brackets need no %
        assert payload.status == 400, depth
    refusals = [r for r in caplog.records if r.name == "switchboard.edge.web"]
    assert len(refusals) == 6 and not any(r.exc_info for r in caplog.records)

"""The signer and the requester: Slack's signature, and requests a real Bolt app accepts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from switchboard.fakes.slack import FakeSlack, SlackRequester, SlackSigner

SECRET = "test-signing-secret"

# Slack's published example (docs "Verifying requests from Slack"), CONTRACT 1.1.
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TIMESTAMP = 1531420618
VECTOR_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

DECLARE_MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


def test_signer_reproduces_slacks_published_example() -> None:
    signer = SlackSigner(VECTOR_SECRET)
    assert signer.signature(VECTOR_BODY, VECTOR_TIMESTAMP) == VECTOR_SIGNATURE


@settings(max_examples=30, deadline=None)
@given(body=st.text(max_size=200), timestamp=st.integers(min_value=0, max_value=2**32))
def test_signer_agrees_with_the_sdk_verifier(body: str, timestamp: int) -> None:
    # Slack bodies are UTF-8 text (the SDK verifier decodes them), so generate text.
    expected = SignatureVerifier(SECRET).generate_signature(timestamp=str(timestamp), body=body)
    assert SlackSigner(SECRET).signature(body.encode(), timestamp) == expected


def test_signed_headers_pass_verification_now_and_fail_when_stale() -> None:
    body = b'{"type":"event_callback"}'
    fresh = SlackSigner(SECRET).headers(body)
    stale = SlackSigner(SECRET).headers(body, timestamp=int(time.time()) - 301)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, fresh)
    assert not verifier.is_valid_request(body, stale)


# A real Bolt app on loopback, its Web API client pointed at the fake.


@pytest.fixture
async def bolt(slack: FakeSlack) -> AsyncIterator[tuple[SlackRequester, dict[str, Any]]]:
    seen: dict[str, Any] = {"mentions": []}
    app = AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url=slack.base_url),
        signing_secret=SECRET,
        process_before_response=True,  # answer after the listener: no background tasks to await
    )

    @app.command("/incident")
    async def incident(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        seen["command"] = command
        await client.views_open(trigger_id=command["trigger_id"], view=DECLARE_MODAL)
        await respond(text=f"Declared: {command['text']}", response_type="in_channel")

    @app.event("app_mention")
    async def mention(event: dict[str, Any], body: dict[str, Any], request: Any) -> None:
        retry = request.headers.get("x-slack-retry-num", [None])[0]
        seen["mentions"].append((body["event_id"], event["text"], retry))

    @app.action("ack")
    async def acknowledge(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        seen["action"] = body
        await respond(text="Acknowledged by <@" + body["user"]["id"] + ">", replace_original=True)

    @app.view("declare")
    async def declare(ack: AsyncAck, view: dict[str, Any]) -> None:
        title = view["state"]["values"]["title"]["value"]["value"]
        if len(title) < 5:
            await ack(response_action="errors", errors={"title": "too short"})
        else:
            await ack()

    runner = web.AppRunner(app.web_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    async with SlackRequester(url, SECRET, fake=slack) as requester:
        yield requester, seen
    await runner.cleanup()


async def test_slash_command_reaches_bolt_with_every_field(
    slack: FakeSlack, bolt: tuple[SlackRequester, dict[str, Any]]
) -> None:
    requester, seen = bolt
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-1", members=[alice])

    response = await requester.slash_command(
        "/incident", "API down & payments", user_id=alice, channel_id=channel
    )

    assert response.status == 200
    command = seen["command"]
    assert command["text"] == "API down & payments"
    assert command["channel_name"] == "inc-1"
    assert command["user_name"] == "alice"
    assert command["team_domain"] == "switchboard-test"
    assert command["is_enterprise_install"] == "false"
    assert [v.payload["callback_id"] for v in slack.views.values()] == ["declare"]
    assert [m.text for m in slack.messages(channel)] == ["Declared: API down & payments"]


async def test_event_and_its_retry_are_both_delivered(
    slack: FakeSlack, bolt: tuple[SlackRequester, dict[str, Any]]
) -> None:
    requester, seen = bolt
    mention = {
        "type": "app_mention",
        "user": slack.add_user("alice"),
        "text": "hi",
        "channel": "C1",
    }

    first = await requester.event(mention, event_id="Ev0001")
    retry = await requester.event(mention, event_id="Ev0001", retry_num=1)

    assert (first.status, retry.status) == (200, 200)
    assert seen["mentions"] == [("Ev0001", "hi", None), ("Ev0001", "hi", "1")]


async def test_block_action_on_a_message_replaces_it(
    slack: FakeSlack, bolt: tuple[SlackRequester, dict[str, Any]]
) -> None:
    requester, seen = bolt
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-1", members=[alice])
    ts = slack.add_message(channel, "Page acknowledged?", user=alice)

    response = await requester.block_actions(
        [{"action_id": "ack", "block_id": "page", "type": "button", "value": "yes"}],
        user_id=alice,
        channel_id=channel,
        message=ts,
    )

    assert response.status == 200
    assert seen["action"]["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    assert slack.channel(channel).message(ts).text == f"Acknowledged by <@{alice}>"


async def test_view_submission_gets_field_errors_back(
    slack: FakeSlack, bolt: tuple[SlackRequester, dict[str, Any]]
) -> None:
    requester, _ = bolt
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    opened = await client.views_open(trigger_id=slack.new_trigger_id(), view=DECLARE_MODAL)
    value = {"title": {"value": {"type": "plain_text_input", "value": "API"}}}

    response = await requester.view_submission(
        opened["view"]["id"], user_id=slack.add_user("alice"), values=value
    )

    assert response.status == 200
    assert response.json() == {"response_action": "errors", "errors": {"title": "too short"}}


async def test_stale_forged_and_unsigned_requests_are_refused(
    bolt: tuple[SlackRequester, dict[str, Any]],
) -> None:
    requester, seen = bolt
    stale = await requester.slash_command(
        "/incident", "x", user_id="U1", channel_id="C1", timestamp=int(time.time()) - 301
    )
    forged = await requester.slash_command(
        "/incident", "x", user_id="U1", channel_id="C1", signature="v0=" + "0" * 64
    )
    unsigned = await requester.raw(b"command=%2Fincident&text=x", signed=False)

    assert [r.status for r in (stale, forged, unsigned)] == [401, 401, 401]
    assert "command" not in seen


async def test_url_verification_is_answered(bolt: tuple[SlackRequester, dict[str, Any]]) -> None:
    requester, _ = bolt
    response = await requester.url_verification("abc123")
    assert response.json() == {"challenge": "abc123"}

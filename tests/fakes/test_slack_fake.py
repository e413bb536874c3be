"""The fake Slack Web API, driven through the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from switchboard.fakes.clock import ManualClock
from switchboard.fakes.slack import FakeSlack
from tests.conftest import eventually


async def error(call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    """The response of a call that must fail (as slack_sdk raises it)."""
    with pytest.raises(SlackApiError) as raised:
        await call
    response: AsyncSlackResponse = raised.value.response
    return response


async def code(call: Awaitable[AsyncSlackResponse]) -> str:
    """The error code of a call that must fail."""
    return str((await error(call))["error"])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(title: str = "Declare", **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": []} | extra


INPUT_BLOCK = {
    "type": "input",
    "block_id": "title",
    "label": {"type": "plain_text", "text": "Title"},
    "element": {"type": "plain_text_input", "action_id": "value"},
}


# transport and auth


async def test_auth_test_names_the_bot_and_its_scopes(client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["user_id"] == "U0SWITCHBOT"
    assert response["bot_id"] == "B0SWITCH01"
    assert response["team_id"] == "T0SWITCH01"
    assert response["url"] == "https://switchboard-test.slack.com/"
    assert "chat:write" in response.headers["x-oauth-scopes"]


async def test_missing_or_bad_token_is_refused_with_http_200(slack: FakeSlack) -> None:
    missing = await error(AsyncWebClient(base_url=slack.base_url).auth_test())
    bad = await error(AsyncWebClient(token="not-a-token", base_url=slack.base_url).auth_test())
    assert (missing.status_code, missing["error"]) == (200, "not_authed")
    assert (bad.status_code, bad["error"]) == (200, "invalid_auth")


async def test_token_as_form_field_and_unknown_args_are_accepted(slack: FakeSlack) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            slack.base_url + "auth.test", data={"token": "xoxb-form", "team_id": "T999"}
        ) as response,
    ):
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert (await response.json())["ok"] is True
    assert slack.calls("auth.test")[0].args == {"team_id": "T999"}


async def test_unknown_method(client: AsyncWebClient) -> None:
    assert await code(client.api_call("chat.teleport")) == "unknown_method"


async def test_missing_required_args_get_slacks_own_answers(client: AsyncWebClient) -> None:
    no_channel = await error(client.api_call("chat.postMessage", json={"text": "hi"}))
    no_user = await error(client.api_call("users.info", params={}))
    no_topic = await error(client.api_call("conversations.setTopic", params={"channel": "C1"}))
    assert no_channel["error"] == "channel_not_found"
    assert no_user["error"] == "user_not_found"
    assert no_topic["error"] == "invalid_arguments"
    assert no_topic["response_metadata"]["messages"] == ["[ERROR] missing required field: topic"]


# messages


async def test_post_update_and_read_a_thread(slack: FakeSlack, client: AsyncWebClient) -> None:
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-1", members=[alice])
    parent = await client.chat_postMessage(channel=channel, text="Incident declared")
    ts = parent["ts"]
    reply = await client.chat_postMessage(channel=channel, text="Paged oncall", thread_ts=ts)
    slack.add_message(channel, "on it", user=alice, thread_ts=ts)
    await client.chat_update(channel=channel, ts=ts, text="Incident declared: API down")

    history = await client.conversations_history(channel=channel)
    replies = await client.conversations_replies(channel=channel, ts=ts)
    link = await client.chat_getPermalink(channel=channel, message_ts=reply["ts"])

    [top] = history["messages"]
    assert top["text"] == "Incident declared: API down"
    assert top["edited"]["user"] == "U0SWITCHBOT"
    assert (top["reply_count"], top["reply_users"]) == (2, ["U0SWITCHBOT", alice])
    assert [m["text"] for m in replies["messages"]] == [
        "Incident declared: API down",
        "Paged oncall",
        "on it",
    ]
    assert link["permalink"] == (
        f"https://switchboard-test.slack.com/archives/{channel}/p{reply['ts'].replace('.', '')}"
        f"?thread_ts={ts}&cid={channel}"
    )


async def test_ts_is_a_monotonic_string_even_when_time_stands_still(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    channel = slack.add_channel("ops")
    first = (await client.chat_postMessage(channel=channel, text="a"))["ts"]
    second = (await client.chat_postMessage(channel=channel, text="b"))["ts"]
    assert first == "1700000000.000000"
    assert second == "1700000000.000001"


async def test_history_pages_and_finds_one_message_by_ts(
    slack: FakeSlack, client: AsyncWebClient, clock: ManualClock
) -> None:
    channel = slack.add_channel("ops")
    stamps = []
    for n in range(5):
        clock.advance(1)
        stamps.append((await client.chat_postMessage(channel=channel, text=f"m{n}"))["ts"])

    texts, cursor = [], None
    while True:
        page = await client.conversations_history(channel=channel, limit=2, cursor=cursor)
        texts += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not page["has_more"]:
            break
    # The reaction_added pattern: fetch exactly the reacted message.
    one = await client.conversations_history(
        channel=channel, latest=stamps[2], inclusive=True, limit=1
    )
    window = await client.conversations_history(channel=channel, oldest=stamps[1], latest=stamps[3])

    assert texts == ["m4", "m3", "m2", "m1", "m0"]
    assert [m["text"] for m in one["messages"]] == ["m2"]
    assert [m["text"] for m in window["messages"]] == ["m2"]
    assert (
        await code(client.conversations_history(channel=channel, cursor="junk")) == "invalid_cursor"
    )


async def test_bot_must_be_a_member_and_the_channel_open(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    outside = slack.add_channel("random", bot_member=False)
    secret = slack.add_channel("secret", is_private=True, bot_member=False)
    closed = slack.add_channel("old")
    await client.conversations_archive(channel=closed)

    assert await code(client.chat_postMessage(channel=outside, text="x")) == "not_in_channel"
    assert await code(client.conversations_history(channel=outside)) == "not_in_channel"
    assert await code(client.chat_postMessage(channel=secret, text="x")) == "channel_not_found"
    assert await code(client.chat_postMessage(channel=closed, text="x")) == "is_archived"
    assert await code(client.conversations_archive(channel=closed)) == "already_archived"
    assert await code(client.chat_postMessage(channel="C404", text="x")) == "channel_not_found"


async def test_message_text_rules(slack: FakeSlack, client: AsyncWebClient) -> None:
    channel = slack.add_channel("ops")
    posted = await client.chat_postMessage(channel=channel, text="short")

    empty = await error(client.api_call("chat.postMessage", json={"channel": channel, "text": ""}))
    huge = await error(client.chat_postMessage(channel=channel, text="x" * 40_001))
    long_edit = await error(client.chat_update(channel=channel, ts=posted["ts"], text="x" * 4001))
    assert (empty["error"], huge["error"], long_edit["error"]) == (
        "no_text",
        "msg_too_long",
        "msg_too_long",
    )


async def test_posting_to_a_user_opens_a_dm(slack: FakeSlack, client: AsyncWebClient) -> None:
    bob = slack.add_user("bob")
    posted = await client.chat_postMessage(channel=bob, text="You have 2 open follow-ups")
    assert posted["channel"].startswith("D")
    assert posted["channel"] == slack.dm(bob).id
    assert [m.text for m in slack.messages(posted["channel"])] == ["You have 2 open follow-ups"]
    assert await code(client.conversations_info(channel=bob)) == "channel_not_found"


async def test_ephemerals_are_recorded_per_channel_and_user(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    channel = slack.add_channel("ops", members=[alice])

    await client.chat_postEphemeral(channel=channel, user=alice, text="only you")
    stranger = await error(client.chat_postEphemeral(channel=channel, user=bob, text="x"))

    assert [e.text for e in slack.ephemerals(channel, alice)] == ["only you"]
    assert slack.messages(channel) == []
    assert stranger["error"] == "user_not_in_channel"


# Block Kit limits


async def test_block_kit_limits_on_messages(slack: FakeSlack, client: AsyncWebClient) -> None:
    channel = slack.add_channel("digest")
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    too_many, long_section, long_header = [
        await error(client.chat_postMessage(channel=channel, text="digest", blocks=blocks))
        for blocks in ([section("x")] * 51, [section("x" * 3001)], [header])
    ]

    assert too_many["error"] == "invalid_blocks"
    assert too_many["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    assert long_section["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert long_header["error"] == "invalid_blocks"
    ok = await client.chat_postMessage(channel=channel, text="fits", blocks=[section("x")] * 50)
    assert len(ok["message"]["blocks"]) == 50


async def test_attachments_with_blocks_are_kept_and_held_to_the_limits(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    channel = slack.add_channel("incidents")
    bar = [{"color": "#d1242f", "blocks": [section("SEV1")]}]
    posted = await client.chat_postMessage(channel=channel, text="INC-1", attachments=bar)
    assert posted["message"]["attachments"] == bar
    await client.chat_update(channel=channel, ts=posted["ts"], text="INC-1 (resolved)")
    assert slack.messages(channel)[0].to_json("T1")["attachments"] == bar  # kept when omitted

    too_long = [{"color": "#d1242f", "blocks": [section("x" * 3001)]}]
    refused = await error(client.chat_postMessage(channel=channel, text="x", attachments=too_long))
    assert refused["error"] == "invalid_blocks"
    assert refused["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/attachments/0/blocks/0/text/text]"
    ]
    many = [{"text": "x"}] * 101
    too_many = await error(client.chat_postMessage(channel=channel, text="x", attachments=many))
    assert too_many["error"] == "too_many_attachments"


# conversations


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Inc 42", "invalid_name_specials"),
        ("inc-" + "x" * 77, "invalid_name_maxlength"),
        ("", "invalid_name_required"),
        ("--", "invalid_name_punctuation"),
        ("ops", "name_taken"),
    ],
)
async def test_channel_name_rules(
    slack: FakeSlack, client: AsyncWebClient, name: str, expected: str
) -> None:
    slack.add_channel("ops")
    assert await code(client.conversations_create(name=name)) == expected


async def test_created_channel_has_the_bot_as_member(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    public = await client.conversations_create(name="inc-2024-07-01_api")
    private = await client.conversations_create(name="inc-secret", is_private=True)
    assert public["channel"]["id"].startswith("C")
    assert private["channel"]["id"].startswith("G")
    assert public["channel"]["is_member"] is True
    found = slack.channel_by_name("inc-2024-07-01_api")
    assert found is not None and found.members == ["U0SWITCHBOT"]


async def test_invite_reports_each_failure_and_invites_nobody(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    channel = slack.add_channel("inc-1", members=[alice])

    failed = await error(
        client.conversations_invite(channel=channel, users=[bob, alice, "U404", "U0SWITCHBOT"])
    )
    assert failed["error"] == "already_in_channel"
    assert failed["errors"] == [
        {"user": alice, "ok": False, "error": "already_in_channel"},
        {"user": "U404", "ok": False, "error": "user_not_found"},
        {"user": "U0SWITCHBOT", "ok": False, "error": "cant_invite_self"},
    ]
    assert bob not in slack.channel(channel).members

    forced = await client.conversations_invite(channel=channel, users=[bob, "U404"], force=True)
    assert bob in slack.channel(channel).members
    assert forced["errors"] == [{"user": "U404", "ok": False, "error": "user_not_found"}]


async def test_topic_purpose_and_join(slack: FakeSlack, client: AsyncWebClient) -> None:
    channel = slack.add_channel("inc-1")
    lobby = slack.add_channel("lobby", bot_member=False)
    secret = slack.add_channel("secret", is_private=True, bot_member=False)

    await client.conversations_setTopic(channel=channel, topic="SEV1: API down")
    await client.conversations_setPurpose(channel=channel, purpose="Incident #1")
    too_long = await error(client.conversations_setTopic(channel=channel, topic="x" * 251))
    await client.conversations_join(channel=lobby)
    info = await client.conversations_info(channel=channel)

    assert info["channel"]["topic"]["value"] == "SEV1: API down"
    assert info["channel"]["purpose"]["value"] == "Incident #1"
    assert too_long["error"] == "too_long"
    assert "U0SWITCHBOT" in slack.channel(lobby).members
    assert await code(client.conversations_join(channel=secret)) == "channel_not_found"


# people


async def test_users_and_usergroups(slack: FakeSlack, client: AsyncWebClient) -> None:
    alice = slack.add_user(
        "alice", real_name="Alice A", email="Alice@Example.com", tz="Europe/Paris"
    )
    group = slack.add_usergroup("team-payments", [alice])

    info = await client.users_info(user=alice)
    by_email = await client.users_lookupByEmail(email="alice@example.com")
    members = await client.usergroups_users_list(usergroup=group)
    groups = await client.usergroups_list(include_users=True)

    assert info["user"]["real_name"] == "Alice A"
    assert info["user"]["tz"] == "Europe/Paris"
    assert by_email["user"]["id"] == alice
    assert members["users"] == [alice]
    assert [(g["handle"], g["users"]) for g in groups["usergroups"]] == [("team-payments", [alice])]
    assert await code(client.users_lookupByEmail(email="x@y.z")) == "users_not_found"
    assert await code(client.usergroups_users_list(usergroup="S404")) == "no_such_subteam"


# views


async def test_trigger_ids_are_single_use_and_expire(
    slack: FakeSlack, client: AsyncWebClient, clock: ManualClock
) -> None:
    trigger = slack.new_trigger_id()
    opened = await client.views_open(trigger_id=trigger, view=modal())
    stale = slack.new_trigger_id()
    clock.advance(3.1)

    assert opened["view"]["id"].startswith("V")
    assert await code(client.views_open(trigger_id=trigger, view=modal())) == "exchanged_trigger_id"
    assert await code(client.views_open(trigger_id=stale, view=modal())) == "expired_trigger_id"
    assert await code(client.views_open(trigger_id="1.2.3", view=modal())) == "invalid_trigger_id"


async def test_malformed_modals_are_refused(slack: FakeSlack, client: AsyncWebClient) -> None:
    no_submit = await error(
        client.views_open(trigger_id=slack.new_trigger_id(), view=modal(blocks=[INPUT_BLOCK]))
    )
    long_title = await error(
        client.views_open(
            trigger_id=slack.new_trigger_id(), view=modal("Declare a new incident now")
        )
    )
    assert no_submit["error"] == "invalid_arguments"
    assert no_submit["response_metadata"]["messages"] == [
        "[ERROR] must provide a submit property when using input blocks [json-pointer:/view]"
    ]
    assert long_title["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


async def test_views_update_and_push(slack: FakeSlack, client: AsyncWebClient) -> None:
    submit = {"type": "plain_text", "text": "Declare"}
    opened = await client.views_open(
        trigger_id=slack.new_trigger_id(),
        view=modal(blocks=[INPUT_BLOCK], submit=submit, external_id="declare-1"),
    )
    view = opened["view"]

    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 2"))
    conflict = await error(
        client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 3"))
    )
    by_external = await client.views_update(external_id="declare-1", view=modal("Step 3"))
    missing = await error(client.views_update(view_id="V404", view=modal()))
    for title in ("Two", "Three"):
        await client.views_push(trigger_id=slack.new_trigger_id(view["id"]), view=modal(title))
    full = await error(
        client.views_push(trigger_id=slack.new_trigger_id(view["id"]), view=modal("Four"))
    )

    assert updated["view"]["title"]["text"] == "Step 2"
    assert conflict["error"] == "hash_conflict"
    assert by_external["view"]["id"] == view["id"]
    assert missing["error"] == "not_found"
    assert full["error"] == "push_limit_reached"
    assert [v.payload["title"]["text"] for v in slack.stack(view["id"])] == [
        "Step 3",
        "Two",
        "Three",
    ]


async def test_home_tab_publish(slack: FakeSlack, client: AsyncWebClient) -> None:
    alice = slack.add_user("alice")
    home = {"type": "home", "blocks": [section("Your incidents")]}
    first = await client.views_publish(user_id=alice, view=home)
    again = await client.views_publish(user_id=alice, view=home | {"blocks": [section("None")]})
    too_big = await error(
        client.views_publish(user_id=alice, view=home | {"blocks": [section("x")] * 101})
    )

    published = slack.home(alice)
    assert published is not None and published.payload["blocks"] == [section("None")]
    assert first["view"]["id"] == again["view"]["id"]
    assert too_big["error"] == "invalid_arguments"


# pins, bookmarks, reactions


async def test_pins_bookmarks_and_reactions(slack: FakeSlack, client: AsyncWebClient) -> None:
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-1", members=[alice])
    ts = slack.add_message(channel, "root cause: bad deploy", user=alice)
    slack.add_reaction(channel, ts, "stopwatch", user=alice)

    await client.pins_add(channel=channel, timestamp=ts)
    await client.bookmarks_add(channel_id=channel, title="Runbook", type="link", link="https://rb")
    await client.reactions_add(channel=channel, timestamp=ts, name="eyes")
    got = await client.reactions_get(channel=channel, timestamp=ts)

    assert await code(client.pins_add(channel=channel, timestamp=ts)) == "already_pinned"
    assert (
        await code(client.bookmarks_add(channel_id=channel, title="x", type="link", link="ftp://x"))
        == "invalid_link"
    )
    assert (
        await code(client.reactions_add(channel=channel, timestamp=ts, name="eyes"))
        == "already_reacted"
    )
    assert got["message"]["reactions"] == [
        {"name": "stopwatch", "users": [alice], "count": 1},
        {"name": "eyes", "users": ["U0SWITCHBOT"], "count": 1},
    ]
    assert slack.channel(channel).pins == [ts]
    assert [b.title for b in slack.channel(channel).bookmarks] == ["Runbook"]


async def test_reactions_remove_takes_off_the_apps_own_reaction(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-1", members=[alice])
    ts = slack.add_message(channel, "rolled back", user=alice)
    slack.add_reaction(channel, ts, "pushpin", user=alice)
    await client.reactions_add(channel=channel, timestamp=ts, name="white_check_mark")

    await client.reactions_remove(channel=channel, timestamp=ts, name="white_check_mark")

    assert slack.channel(channel).message(ts).reactions == {"pushpin": [alice]}
    again = client.reactions_remove(channel=channel, timestamp=ts, name="white_check_mark")
    assert await code(again) == "no_reaction"
    assert await code(client.reactions_remove(channel=channel, timestamp=ts, name="pushpin")) == (
        "no_reaction"  # someone else's: the app cannot take it off
    )


# files and canvases


async def test_upload_flow_shares_the_file(slack: FakeSlack, client: AsyncWebClient) -> None:
    channel = slack.add_channel("inc-1")
    uploaded = await client.files_upload_v2(
        channel=channel,
        content="# Postmortem\n",
        filename="postmortem.md",
        title="Postmortem",
        initial_comment="Draft attached",
    )
    file = slack.files[uploaded["file"]["id"]]
    [message] = slack.messages(channel)

    assert file.content == b"# Postmortem\n"
    assert file.title == "Postmortem"
    assert message.text == "Draft attached"
    assert message.extra["files"][0]["id"] == file.id


async def test_complete_upload_needs_the_bytes(client: AsyncWebClient) -> None:
    ticket = await client.files_getUploadURLExternal(filename="x.txt", length=3)
    missing = await error(client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}]))
    assert missing["error"] == "file_not_found"


async def test_canvas_create(slack: FakeSlack, client: AsyncWebClient) -> None:
    content = {"type": "markdown", "markdown": "# Postmortem"}
    created = await client.canvases_create(title="PM", document_content=content)
    assert slack.canvases[created["canvas_id"]].markdown == "# Postmortem"


# rate limits and faults


async def test_429_is_retried_by_the_sdk_retry_handler(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    slack.fail("auth.test", ratelimit_retry_after=0)

    assert (await client.auth_test())["ok"] is True
    assert [c.status for c in slack.calls("auth.test")] == [429, 200]


async def test_injected_500_then_recovery(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("users.info", status=500)
    slack.fail("users.info", error="fatal_error")
    alice = slack.add_user("alice")

    crashed = await error(client.users_info(user=alice))
    failed = await error(client.users_info(user=alice))
    recovered = await client.users_info(user=alice)

    assert crashed.status_code == 500
    assert (failed.status_code, failed["error"]) == (200, "fatal_error")
    assert recovered["user"]["id"] == alice


async def test_heal_drops_the_faults_still_queued(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("auth.test", status=503, times=100)
    slack.fail("users.info", status=500, times=100)
    alice = slack.add_user("alice")
    assert (await error(client.auth_test())).status_code == 503

    slack.heal("auth.test")
    assert (await client.auth_test())["ok"] is True
    assert (await error(client.users_info(user=alice))).status_code == 500
    slack.heal()
    assert (await client.users_info(user=alice))["user"]["id"] == alice


async def test_injected_delay(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("auth.test", delay=0.1)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.1


async def test_a_held_call_waits_for_its_release_and_takes_effect_though_its_caller_left(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    ops = slack.add_channel("ops")
    hold = slack.hold("chat.postMessage")
    gave_up = AsyncWebClient(token=client.token, base_url=slack.base_url, timeout=1)
    with pytest.raises(TimeoutError):
        await gave_up.chat_postMessage(channel=ops, text="late")
    assert (hold.waiting, slack.messages(ops)) == (1, [])
    await client.chat_postMessage(channel=ops, text="not held")  # only the next call was
    hold.release()
    await eventually(lambda: hold.through == 1)
    assert [m.text for m in slack.messages(ops)] == ["not held", "late"]


async def test_channel_post_limit(
    slack: FakeSlack, client: AsyncWebClient, clock: ManualClock
) -> None:
    slack.limit_channel_posts(per_second=1.0)
    ops, dev = slack.add_channel("ops"), slack.add_channel("dev")
    await client.chat_postMessage(channel=ops, text="1")
    limited = await error(client.chat_postMessage(channel=ops, text="2"))
    await client.chat_postMessage(channel=dev, text="elsewhere")
    clock.advance(1)
    await client.chat_postMessage(channel=ops, text="3")

    assert (limited.status_code, limited["error"]) == (429, "ratelimited")
    assert limited.headers["Retry-After"] == "1"
    assert [m.text for m in slack.messages(ops)] == ["1", "3"]


async def test_method_tier_limit(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.limit("conversations.history", per_minute=1)
    channel = slack.add_channel("ops")
    await client.conversations_history(channel=channel)
    limited = await error(client.conversations_history(channel=channel))
    assert limited.headers["Retry-After"] == "60"


# response_url


async def test_response_url_holds_blocks_to_the_message_limits(slack: FakeSlack) -> None:
    alice = slack.add_user("alice")
    channel = slack.add_channel("ops", members=[alice])
    url = slack.new_response_url(channel_id=channel, user_id=alice)
    too_many = [{"type": "divider"}] * 51

    refused = await AsyncWebhookClient(url).send(text="long", blocks=too_many)

    assert refused.status_code == 400
    assert '"invalid_blocks"' in refused.body
    assert slack.response_posts(url) == []
    assert slack.ephemerals(channel, alice) == []


async def test_a_response_url_of_a_button_in_an_ephemeral_replaces_it(slack: FakeSlack) -> None:
    alice = slack.add_user("alice")
    channel = slack.add_channel("ops", members=[alice])
    first = slack.new_response_url(channel_id=channel, user_id=alice)
    await AsyncWebhookClient(first).send(text="Did you mean payments-api?")
    (shown,) = slack.ephemerals(channel, alice)
    clicked = slack.new_response_url(
        channel_id=channel, user_id=alice, message_ts=shown.ts, kind="actions"
    )

    await AsyncWebhookClient(clicked).send(text="Payments API", replace_original=True)

    assert [e.text for e in slack.ephemerals(channel, alice)] == ["Payments API"]
    assert slack.messages(channel) == []


async def test_response_url_records_posts_and_shows_them(slack: FakeSlack) -> None:
    alice = slack.add_user("alice")
    channel = slack.add_channel("ops", members=[alice])
    url = slack.new_response_url(channel_id=channel, user_id=alice)
    hook = AsyncWebhookClient(url)

    first = await hook.send(text="Only you can see this")
    await hook.send(text="Incident declared", response_type="in_channel")
    for _ in range(3):
        await hook.send(text="again")
    used_up = await hook.send(text="one too many")

    assert first.status_code == 200
    assert used_up.status_code == 404
    assert len(slack.response_posts(url)) == 5
    assert [e.text for e in slack.ephemerals(channel, alice)] == ["Only you can see this"] + [
        "again"
    ] * 3
    assert [m.text for m in slack.messages(channel)] == ["Incident declared"]


async def test_a_modal_remembers_its_trigger_and_calls_report_changes(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    changes: list[int] = []
    slack.on_change.append(lambda: changes.append(1))
    trigger = slack.new_trigger_id()

    opened = await client.views_open(trigger_id=trigger, view=modal())

    assert slack.view(opened["view"]["id"]).trigger_id == trigger  # whose screen it is on
    assert changes == [1]

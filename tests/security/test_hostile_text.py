"""Hostile text through the running bot, as a user types it: an incident declared, updated,
noted, followed up, listed, reminded about, nagged about, resolved (its postmortem drafted)
and looked up, all with mentions, entities, huge and odd text. Everything the bot then said
anywhere (messages, updates, ephemeral answers, views, acks, response_url answers) is
within Block Kit's limits and pings nobody; nothing failed with a traceback."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from switchboard.bot.platform.jobs import Run
from switchboard.fakes.slack.signer import AppResponse
from tests.incidents.conftest import ALICE, BOB, DAVE, World, eventually
from tests.security.slack_checks import SMUGGLED, message_problems, view_problems

MENTIONS = " ".join(SMUGGLED) + " & <b>bold</b> &amp; `code` *star* _it_ ~s~ \u202e\u0000é🚒"
HUGE = ("<!channel> & " * 300)[:3900]  # what fits in a slash command's text
MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
VIEW_METHODS = ("views.open", "views.update", "views.push", "views.publish")


def problems_in(world: World, answers: list[AppResponse]) -> list[str]:
    problems = []
    for call in world.slack.calls():
        if call.method in MESSAGE_METHODS:
            problems += [f"{call.method}: {p}" for p in message_problems(_decoded(call.args))]
        elif call.method in VIEW_METHODS:
            view = _decoded(call.args).get("view")
            problems += [f"{call.method}: {p}" for p in view_problems(view)]
        # Looking up the people and channels a message names may fail; saying things may not.
        said = call.method in MESSAGE_METHODS + VIEW_METHODS or call.method.startswith("files.")
        if said and call.response.get("ok") is False:
            problems.append(f"{call.method} refused: {call.response.get('error')}")
    for hook in world.slack.hooks.values():
        problems += [f"response_url: {p}" for p in hook.posts for p in message_problems(p)]
    for answer in answers:
        body = answer.json() if answer.body else {}
        if "response_action" not in body:
            problems += [f"ack: {p}" for p in message_problems(body)]
    return problems


def _decoded(args: dict[str, Any]) -> dict[str, Any]:
    """Web API arguments as the bot sent them: blocks and views may come JSON-encoded."""
    return {
        k: json.loads(v) if k in ("blocks", "view") and isinstance(v, str) else v
        for k, v in args.items()
    }


@pytest.mark.parametrize("hostile", [MENTIONS, HUGE], ids=["mentions", "huge"])
async def test_hostile_text_everywhere(
    world: World, hostile: str, caplog: pytest.LogCaptureFixture
) -> None:
    one_line = " ".join(hostile.split())
    answers = [await world.incident(f"declare sev2 service:checkout {one_line}")]
    row = await world.settled()
    in_channel = [
        f"update {hostile}",
        f"note {hostile}",
        f"followup {one_line} <@{BOB}> due:2020-01-01",
        f"followup {one_line} team:shop",
        f"assign commander <@{BOB}>",
        "timeline",
        "followups",
        "postmortem",
        f"page {one_line}",
        f"status {one_line}",
    ]
    for text in in_channel:
        answers.append(await world.incident(text, channel=row.channel_id))
    # A message people put on the timeline, with Slack's own markup (a mention, a link) too.
    pinned = world.slack.add_message(
        row.channel_id, f"{hostile} <@{BOB}> <https://ok.example|ok>", user=ALICE
    )
    world.slack.add_reaction(row.channel_id, pinned, "pushpin", user=ALICE)
    event = {"type": "reaction_added", "user": ALICE, "reaction": "pushpin", "item_user": ALICE}
    item = {"type": "message", "channel": row.channel_id, "ts": pinned}
    await world.requester.event(event | {"item": item, "event_ts": pinned})
    await eventually(lambda: world.slack.calls("reactions.add"))
    answers.append(await world.incident("timeline", channel=row.channel_id))
    # Another incident, declared from the form, with a description.
    answers.append(await world.incident("declare", user=DAVE))
    opened = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": one_line[:150]}},
        "description": {"value": {"type": "plain_text_input", "value": hostile}},
    }
    answers.append(
        await world.requester.view_submission(
            opened[-1].response["view"]["id"], user_id=DAVE, values=values
        )
    )
    await world.settled(2)
    for text in ("list", "followups team:shop", f"followups {one_line}", f"bogus {one_line}"):
        answers.append(await world.incident(text, user=DAVE))
    for command in ("/owner", "/scorecard"):
        for text in (one_line, f"team:{one_line}", hostile):
            answers.append(
                await world.requester.slash_command(
                    command, text, user_id=DAVE, channel_id=world.elsewhere
                )
            )
    for user in (ALICE, DAVE):
        await world.requester.event({"type": "app_home_opened", "user": user, "tab": "home"})
        await eventually(lambda user=user: world.slack.home(user))
    world.clock.advance(hours=3)
    await world.sb.incidents.reminders.run()
    world.clock.now = world.clock.now.replace(hour=12) + timedelta(days=1)
    await world.sb.teams.followup_nags.run(Run(manual=True))
    answers.append(await world.incident("resolve", channel=row.channel_id))
    await world.until(lambda incident: incident.resolved_at is not None)
    await eventually(lambda: any(f.content for f in world.slack.files.values()))

    said = [m.text for c in world.slack.channels.values() for m in world.slack.messages(c.id)]
    assert any("no status update" in t for t in said)  # the reminder
    assert any(t.startswith(":alarm_clock:") for t in said)  # the nags
    assert [a.status for a in answers] == [200] * len(answers)
    assert problems_in(world, answers) == []
    drafts = [f.content.decode() for f in world.slack.files.values() if f.content]
    assert len(drafts) == 2  # asked for, then on resolve
    for draft in drafts:  # the title stays on its one line
        assert draft.startswith("# ") and one_line[:40] in draft.splitlines()[0]
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []

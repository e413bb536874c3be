"""The catch-up: whoever joins an incident channel gets, once and only them, what has happened
so far, built from the stored record; `/incident catchup` shows the same on demand."""

from __future__ import annotations

import asyncio
from typing import Any

from switchboard.edge.web import SlackEdge
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, CAROL, DAVE, World
from tests.incidents.test_authorization import private_incident

BOT = "U0SWITCHBOT"


async def declared(world: World) -> Any:
    await world.incident("declare sev2 service:checkout Checkout errors")
    return await world.settled()


async def handled(world: World) -> None:
    """Every event the edge took is handled, its listener to the end: an event is acked
    before its listener runs, so only this says that nothing more will come of it."""
    (edge,) = {
        route.handler.__self__
        for route in world.sb.web.router.routes()
        if isinstance(getattr(route.handler, "__self__", None), SlackEdge)
    }
    while edge._background:  # the edge's own tasks, one per event (no public accessor)
        await asyncio.gather(*list(edge._background))


async def join(world: World, channel: str, user: str, **event: Any) -> None:
    """`user` joins `channel` in Slack, and Slack tells the bot (signed, over HTTP)."""
    members = world.slack.channel(channel).members
    if user not in members:
        members.append(user)
    body = {"type": "member_joined_channel", "user": user, "channel": channel}
    response = await world.requester.event(
        body | {"channel_type": "C", "team": "T0001", "inviter": ALICE}, **event
    )
    assert response.status == 200


async def catchup_of(world: World, channel: str, user: str) -> str:
    """The one catch-up `user` was shown in `channel` (once every listener is done)."""
    (shown,) = await eventually(lambda: world.slack.ephemerals(channel, user))
    await handled(world)
    assert len(world.slack.ephemerals(channel, user)) == 1
    return str(shown.text)


async def test_just_declared(world: World) -> None:
    row = await declared(world)
    world.clock.advance(minutes=12)
    await join(world, row.channel_id, BOB)
    text = await catchup_of(world, row.channel_id, BOB)
    assert text.startswith("*Catching up on INC-1: Checkout errors*\n")
    assert "Severity *SEV2* · status *investigating*" in text
    assert f"Declared 12 min ago by <@{ALICE}>." in text
    assert "*Roles* nobody yet: no commander assigned" in text
    assert "*Latest status update* none yet" in text
    assert "Incident declared." in text
    assert "*Open follow-ups* none" in text
    assert "Resolved" not in text and "Closed" not in text
    assert "deploy" not in text.lower()  # no deploy data yet: no line, nothing invented


async def with_commander_update_and_notes(world: World) -> Any:
    row = await declared(world)
    channel = row.channel_id
    await world.incident(f"assign commander <@{BOB}|bob>", channel=channel)
    await world.settled()
    for n in range(1, 7):
        world.clock.advance(minutes=1)
        await world.incident(f"note Note number {n}", channel=channel)
    await world.incident("update Rolled back <!channel> & watching", channel=channel)
    await world.settled()
    await world.incident("followup Add a circuit breaker", user=BOB, channel=channel)
    return await world.settled()


async def test_with_a_commander_an_update_and_a_follow_up(world: World) -> None:
    row = await with_commander_update_and_notes(world)
    await join(world, row.channel_id, CAROL)
    text = await catchup_of(world, row.channel_id, CAROL)
    assert f"*Roles* commander: <@{BOB}>" in text
    assert "Rolled back &lt;!channel&gt; &amp; watching" in text  # escaped, never a ping
    assert "<!channel>" not in text
    latest = text.split("*Latest on the timeline*\n")[1].split("*Open follow-ups*")[0]
    assert latest.count("\n• ") + latest.startswith("• ") == 5  # the last five only
    assert "Note number 6" in latest and "Note number 2" not in latest
    assert "*Open follow-ups* (1)\n• Add a circuit breaker (team shop)" in text


async def test_resolved(world: World) -> None:
    row = await declared(world)
    world.clock.advance(minutes=40)
    await world.incident("resolve", channel=row.channel_id)
    row = await world.until(lambda i: i.resolved_at is not None)
    await join(world, row.channel_id, CAROL)
    text = await catchup_of(world, row.channel_id, CAROL)
    assert "status *resolved*" in text
    assert "Resolved after 40 min." in text
    assert "Closed" not in text


async def test_closed(world: World) -> None:
    row = await declared(world)
    await world.incident(f"assign commander <@{ALICE}|alice>", channel=row.channel_id)
    await world.settled()
    await world.incident("resolve", channel=row.channel_id)
    await world.until(lambda i: i.resolved_at is not None)
    await world.incident("close", channel=row.channel_id)
    row = await world.until(lambda i: i.closed_at is not None)
    await join(world, row.channel_id, DAVE)
    text = await catchup_of(world, row.channel_id, DAVE)
    assert "status *closed*" in text
    assert "Closed: the record is complete." in text


async def test_once_per_person_per_incident(world: World) -> None:
    """A retried event, the same join sent again, and a rejoin after leaving: one catch-up."""
    row = await declared(world)
    channel = row.channel_id
    await join(world, channel, BOB, event_id="EvJOIN1")
    await catchup_of(world, channel, BOB)
    await join(world, channel, BOB, event_id="EvJOIN1", retry_num=1)
    await join(world, channel, BOB, event_id="EvJOIN2")  # a duplicate under a new id
    world.slack.channel(channel).members.remove(BOB)
    await join(world, channel, BOB, event_id="EvJOIN3")  # left, and came back
    await handled(world)
    assert len(world.slack.ephemerals(channel, BOB)) == 1
    await join(world, channel, CAROL)  # someone else still gets theirs
    await catchup_of(world, channel, CAROL)


async def test_nothing_for_the_bot_the_declarer_or_other_channels(world: World) -> None:
    row = await declared(world)
    await join(world, row.channel_id, BOT)
    await join(world, row.channel_id, ALICE)  # declared it, and was there from the start
    await join(world, world.elsewhere, BOB)  # no incident's channel
    await handled(world)
    assert world.slack.calls("chat.postEphemeral") == []


async def test_a_private_incident_only_for_its_participants(world: World) -> None:
    row = await private_incident(world)
    channel = row.channel_id
    await join(world, channel, DAVE)  # in the channel, no participant: no catch-up
    await handled(world)
    assert world.slack.ephemerals(channel, DAVE) == []
    refused = await world.incident("catchup", user=DAVE, channel=channel)
    assert refused.json()["text"] == ("INC-1 is private: only its participants may catch up on it.")
    await world.incident(f"assign commander <@{BOB}|bob>", channel=channel)
    await world.settled()
    await join(world, channel, BOB)  # a participant now: theirs
    text = await catchup_of(world, channel, BOB)
    assert text.startswith("*Catching up on INC-1: Secret*")
    assert world.slack.ephemerals(channel, DAVE) == []


async def test_on_demand_in_the_channel_and_by_number(world: World) -> None:
    row = await with_commander_update_and_notes(world)
    here = await world.incident("catchup", user=DAVE, channel=row.channel_id)
    assert here.json()["response_type"] == "ephemeral"
    assert here.json()["text"].startswith("*Catching up on INC-1: Checkout errors*")
    assert "Rolled back" in here.json()["text"]
    named = await world.incident("catchup INC-1", user=DAVE)
    assert named.json()["text"] == here.json()["text"]
    nowhere = await world.incident("catchup", user=DAVE)
    assert nowhere.json()["text"].startswith("This is not an incident channel.")
    assert world.slack.calls("chat.postEphemeral") == []  # on demand: the answer itself


async def test_a_catch_up_slack_refused_is_sent_on_the_next_join(world: World) -> None:
    """Slack refused the post (they were not in the channel after all): the claim is given
    back, and their next join brings the catch-up, still only once."""
    row = await declared(world)
    channel = row.channel_id
    body = {"type": "member_joined_channel", "user": CAROL, "channel": channel}
    await world.requester.event(body)  # Slack says so, but the fake has no CAROL in there
    await handled(world)
    assert world.slack.ephemerals(channel, CAROL) == []
    (refused,) = world.slack.calls("chat.postEphemeral")
    assert refused.response["error"] == "user_not_in_channel"
    await join(world, channel, CAROL)
    assert (await catchup_of(world, channel, CAROL)).startswith("*Catching up on INC-1")


async def test_long_texts_are_cut_and_nothing_is_lost(world: World) -> None:
    """Long notes and a long update are cut (never inside an entity), and the follow-ups
    still show: the catch-up stays one readable message."""
    row = await declared(world)
    channel = row.channel_id
    for _ in range(6):
        await world.incident("note " + "<&> " * 700, channel=channel)
    await world.incident("update " + "& " * 1400, channel=channel)
    await world.incident("followup Add a circuit breaker", user=BOB, channel=channel)
    await world.settled()
    await join(world, channel, CAROL)
    text = await catchup_of(world, channel, CAROL)
    assert len(text) <= 8000
    assert "*Open follow-ups* (1)\n• Add a circuit breaker" in text
    assert "<&>" not in text
    assert all(part.endswith(("&lt;", "&amp;", "&gt;", " ")) for part in text.split("…")[:-1])

"""The timeline: reactions put messages on it once, edits and deletions follow, notes and
backfills add to it, and `/incident timeline` reads it back in pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from switchboard.bot.platform.config import Config, IncidentsConfig
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, CAROL, World, eventually_async


@pytest.fixture
def config() -> Config:
    incidents = IncidentsConfig(timeline_emojis=("pushpin", "memo"))
    return Config(timezone="Europe/Berlin", incidents=incidents)


async def incident_channel(world: World) -> Any:
    await world.incident("declare sev2 Checkout errors")
    return await world.settled()


def reacted(
    world: World, channel: str, ts: str, user: str, emoji: str = "pushpin", **extra: Any
) -> Any:
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": emoji,
        "item_user": BOB,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": ts,
    }
    return world.requester.event(event, **extra)


def unreacted(world: World, channel: str, ts: str, user: str, emoji: str = "pushpin") -> Any:
    event = {
        "type": "reaction_removed",
        "user": user,
        "reaction": emoji,
        "item_user": BOB,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": ts,
    }
    return world.requester.event(event)


def ephemeral(answer: dict[str, Any]) -> dict[str, Any]:
    """An ephemeral answer as the message a button click carries back."""
    return {"type": "message", "ts": "1700000000.000100", **answer}


async def entries(world: World, count: int | None = None) -> list[Any]:
    """The captured entries (not lifecycle), once there are `count` of them."""

    async def found() -> tuple[list[Any]] | None:
        moments = [
            m for m in await world.sb.incidents.timeline.moments(1) if m.source != "lifecycle"
        ]
        return (moments,) if count is None or len(moments) == count else None

    (result,) = await eventually_async(found)
    return list(result)


async def test_a_reaction_puts_the_message_on_the_timeline_once(world: World) -> None:
    row = await incident_channel(world)
    link = "<https://grafana.example.com/d/1|the dashboard>"
    text = f"<@{BOB}> restarted the pods, see {link} &amp; <!here>"
    ts = world.slack.add_message(row.channel_id, text, user=BOB)
    first = await reacted(world, row.channel_id, ts, ALICE, event_id="Ev0PIN1")
    assert first.status == 200
    (entry,) = await entries(world, 1)
    assert (
        entry.text
        == "@bob restarted the pods, see the dashboard (https://grafana.example.com/d/1) & @here"
    )
    assert entry.author == BOB
    assert entry.at.timestamp() == pytest.approx(float(ts), abs=1e-6)
    assert entry.permalink.endswith(ts.replace(".", ""))
    message = world.slack.channel(row.channel_id).message(ts)
    await eventually(lambda: "white_check_mark" in str(message.reactions))
    # Slack's retry of the same event, and a second person reacting: still one entry.
    await reacted(world, row.channel_id, ts, ALICE, event_id="Ev0PIN1", retry_num=1)
    await reacted(world, row.channel_id, ts, CAROL, event_id="Ev0PIN2")
    await eventually_async(lambda: _reactors(world, [ALICE, CAROL]))
    assert len(await entries(world)) == 1


async def _reactors(world: World, expected: list[str]) -> bool:
    from switchboard.storage import timeline_store

    async with world.sb.catalog.reader._sessions() as session:
        found = await timeline_store.entries(session, 1)
    return [sorted(e.reactors) for e in found] == [sorted(expected)]


async def test_unreacting_removes_it_when_nobody_else_has_it(world: World) -> None:
    row = await incident_channel(world)
    ts = world.slack.add_message(row.channel_id, "DB failover started", user=BOB)
    await reacted(world, row.channel_id, ts, ALICE)
    await reacted(world, row.channel_id, ts, CAROL)
    await eventually_async(lambda: _reactors(world, [ALICE, CAROL]))
    await unreacted(world, row.channel_id, ts, ALICE)
    await eventually_async(lambda: _reactors(world, [CAROL]))
    await unreacted(world, row.channel_id, ts, CAROL)
    await entries(world, 0)


async def test_the_confirmation_goes_with_the_last_timeline_emoji(world: World) -> None:
    """The bot's ✅ says "on the timeline": it stays while anyone keeps a timeline emoji on
    the message (Alice's other one, Carol's pin), and goes with the last."""
    row = await incident_channel(world)
    ts = world.slack.add_message(row.channel_id, "DB failover started", user=BOB)
    message = world.slack.channel(row.channel_id).message(ts)

    async def react(user: str, emoji: str = "pushpin") -> None:
        world.slack.add_reaction(row.channel_id, ts, emoji, user=user)
        await reacted(world, row.channel_id, ts, user, emoji=emoji)

    async def take_off(user: str, emoji: str = "pushpin") -> None:  # Slack, then its event
        message.reactions[emoji].remove(user)
        message.reactions = {name: users for name, users in message.reactions.items() if users}
        await unreacted(world, row.channel_id, ts, user, emoji=emoji)

    await react(ALICE)
    await eventually(lambda: message.reactions.get("white_check_mark") == ["U0SWITCHBOT"])
    await react(ALICE, "memo")
    await react(CAROL)
    await eventually_async(lambda: _reactors(world, [ALICE, CAROL]))
    await take_off(ALICE)  # her :memo: still keeps it
    await take_off(CAROL)
    await eventually_async(lambda: _reactors(world, [ALICE]))
    assert "white_check_mark" in message.reactions
    await take_off(ALICE, "memo")
    await eventually(lambda: "white_check_mark" not in message.reactions)
    assert message.reactions == {}
    await entries(world, 0)


async def test_edits_and_deletions_follow_the_message(world: World) -> None:
    row = await incident_channel(world)
    ts = world.slack.add_message(row.channel_id, "Rolled back v41", user=BOB)
    await reacted(world, row.channel_id, ts, ALICE)
    await entries(world, 1)
    changed = {
        "type": "message",
        "subtype": "message_changed",
        "channel": row.channel_id,
        "message": {"type": "message", "user": BOB, "text": "Rolled back to v40", "ts": ts},
        "previous_message": {"type": "message", "text": "Rolled back v41", "ts": ts},
    }
    await world.requester.event(changed)
    await eventually_async(lambda: _texts(world, ["Rolled back to v40"]))
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": row.channel_id,
        "deleted_ts": ts,
        "ts": "1.000001",
    }
    await world.requester.event(deleted)
    (entry,) = await eventually_async(lambda: _deleted(world))
    assert entry.text == "Rolled back to v40"  # kept, and marked


async def _texts(world: World, expected: list[str]) -> bool:
    return [e.text for e in await entries(world)] == expected


async def _deleted(world: World) -> list[Any] | None:
    found = await entries(world)
    return found if found and all(e.deleted for e in found) else None


async def test_thread_replies_and_other_emojis(world: World) -> None:
    row = await incident_channel(world)
    parent = world.slack.add_message(row.channel_id, "Investigating the queue", user=BOB)
    reply = world.slack.add_message(row.channel_id, "Queue drained", user=CAROL, thread_ts=parent)
    await reacted(world, row.channel_id, parent, ALICE, emoji="thumbsup")
    await reacted(world, row.channel_id, reply, ALICE)
    (entry,) = await entries(world, 1)
    assert (entry.text, entry.author) == ("Queue drained", CAROL)


async def test_reactions_outside_incident_channels_are_ignored(world: World) -> None:
    await incident_channel(world)
    ts = world.slack.add_message(world.elsewhere, "Lunch?", user=BOB)
    response = await reacted(world, world.elsewhere, ts, ALICE)
    assert response.status == 200
    await world.incident("note INC-1 flush")  # something to wait for
    found = await entries(world, 1)
    assert [e.source for e in found] == ["note"]
    assert world.slack.channel(world.elsewhere).message(ts).reactions == {}


async def test_a_long_message_is_kept_whole_and_shortened_in_slack(world: World) -> None:
    row = await incident_channel(world)
    long = "x" * 9000
    ts = world.slack.add_message(row.channel_id, long, user=BOB)
    await reacted(world, row.channel_id, ts, ALICE)
    (entry,) = await entries(world, 1)
    assert entry.text == long
    listing = await world.incident("timeline", channel=row.channel_id)
    sections = [b["text"]["text"] for b in listing.json()["blocks"] if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections)
    assert any(s.endswith("…") or "…" in s for s in sections)


async def test_notes_backfills_and_the_listing(world: World) -> None:
    row = await incident_channel(world)
    answer = await world.incident(
        "note Customer support informed <!channel>", user=BOB, channel=row.channel_id
    )
    assert answer.json()["text"] == "Added to the timeline of INC-1."
    assert (
        f"<@{BOB}> added a note to the timeline: Customer support informed &lt;!channel&gt;"
        in world.texts(row.channel_id)
    )
    listing = (await world.incident("timeline", channel=row.channel_id)).json()
    assert listing["blocks"][0]["text"]["text"] == "Timeline of INC-1"
    lines = [b["text"]["text"] for b in listing["blocks"] if b["type"] == "section"]
    when = row.declared_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert lines[0].startswith(f"*{when:%Y-%m-%d %H:%M} CET* <@{ALICE}> Incident declared.")
    assert lines[-1].endswith("Customer support informed &lt;!channel&gt;")
    add = next(e for e in listing["blocks"][-1]["elements"] if e["action_id"] == "timeline_add")
    await world.requester.block_actions(
        [add], user_id=BOB, channel_id=row.channel_id, message=ephemeral(listing)
    )
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    earlier = when - timedelta(minutes=10)
    values = {
        "date": {"value": {"type": "datepicker", "selected_date": f"{earlier:%Y-%m-%d}"}},
        "time": {"value": {"type": "timepicker", "selected_time": f"{earlier:%H:%M}"}},
        "text": {"value": {"type": "plain_text_input", "value": "First alert fired"}},
    }
    response = await world.requester.view_submission(
        opened.response["view"]["id"], user_id=BOB, values=values
    )
    assert response.body == ""
    found = await entries(world, 2)
    assert [e.text for e in found] == ["First alert fired", "Customer support informed <!channel>"]


async def test_the_listing_is_paged(world: World) -> None:
    row = await incident_channel(world)
    for n in range(45):
        await world.incident(f"note step {n}", channel=row.channel_id)
    first = (await world.incident("timeline", channel=row.channel_id)).json()
    assert first["blocks"][0]["text"]["text"] == "Timeline of INC-1 (1/3)"
    assert len(first["blocks"]) <= 50
    nav = next(e for e in first["blocks"][-1]["elements"] if e["action_id"] == "timeline_page:next")
    url = world.slack.new_response_url(channel_id=row.channel_id, user_id=ALICE)
    await world.requester.block_actions(
        [nav],
        user_id=ALICE,
        channel_id=row.channel_id,
        message=ephemeral(first),
        response_url=url,
    )
    (second,) = await eventually(lambda: world.slack.response_posts(url))
    assert second["blocks"][0]["text"]["text"] == "Timeline of INC-1 (2/3)"
    third = (await world.incident("timeline 3", channel=row.channel_id)).json()
    assert len([b for b in third["blocks"] if b["type"] == "section"]) == 46 - 40


async def test_a_follow_up_from_a_timeline_entry(world: World) -> None:
    row = await incident_channel(world)
    ts = world.slack.add_message(row.channel_id, "Certificate expired on the edge", user=BOB)
    await reacted(world, row.channel_id, ts, ALICE)
    (entry,) = await entries(world, 1)
    listing = (await world.incident("timeline", channel=row.channel_id)).json()
    captured = next(b for b in listing["blocks"] if "Certificate expired" in str(b))
    button = captured["accessory"]
    assert (button["text"]["text"], button["value"]) == ("Follow up", f"1:{entry.entry_id}")
    await world.requester.block_actions(
        [button], user_id=ALICE, channel_id=row.channel_id, message=ephemeral(listing)
    )
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {"text": {"value": {"type": "plain_text_input", "value": "Alert on expiry"}}}
    response = await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    assert response.body == ""
    followups = await eventually_async(lambda: _followups(world))
    assert [(f.text, f.timeline_entry_id) for f in followups] == [
        ("Alert on expiry", entry.entry_id)
    ]


async def _followups(world: World) -> list[Any]:
    from sqlmodel import select

    from switchboard.storage.tables import FollowUp

    async with world.sb.catalog.reader._sessions() as session:
        return list(await session.scalars(select(FollowUp)))


async def test_a_message_the_bot_cannot_read_gets_a_note(world: World) -> None:
    row = await incident_channel(world)
    await reacted(world, row.channel_id, "1234567890.000100", ALICE)  # no such message
    note = "I could not read that message, so it is not on the timeline."
    await eventually(lambda: note in world.texts(row.channel_id))
    assert await entries(world, 0) == []

"""The announcement channel (`#incidents`): found and joined once, not for every incident,
and found again (joined, or said to be missing) when it changed under the bot."""

from __future__ import annotations

from tests.incidents.conftest import World


def announced(world: World, number: int) -> list[str]:
    """The texts in #incidents about incident `number`."""
    return [t for t in world.texts(world.incidents_channel) if f"INC-{number}:" in t]


async def test_the_announcement_channel_is_looked_up_and_joined_once(world: World) -> None:
    for number in (1, 2, 3):
        await world.incident(f"declare sev2 service:checkout Outage {number}")
        await world.settled(number)
        assert len(announced(world, number)) == 1
    assert len(world.slack.calls("conversations.list")) == 1
    assert len(world.slack.calls("conversations.join")) == 1


async def test_removed_from_the_announcement_channel_the_bot_joins_it_again(
    world: World,
) -> None:
    await world.incident("declare sev2 service:checkout First")
    await world.settled(1)
    world.slack.channel(world.incidents_channel).members.remove(world.slack.team.bot_user_id)
    await world.incident("declare sev2 service:checkout Second")
    await world.retry(2)  # its first post found the bot gone from the channel
    row = await world.settled(2)
    assert announced(world, 2) == [announced(world, 2)[0]]
    assert world.slack.messages(world.incidents_channel)[-1].ts == row.announce_ts
    assert len(world.slack.calls("conversations.join")) == 2


async def test_an_archived_announcement_channel_is_said_in_the_incident_channel(
    world: World,
) -> None:
    await world.incident("declare sev2 service:checkout First")
    await world.settled(1)
    world.slack.channel(world.incidents_channel).archived = True
    await world.incident("declare sev2 service:checkout Second")
    await world.retry(2)
    row = await world.settled(2)
    assert announced(world, 2) == []
    assert row.announce_channel_id == "-"
    said = [t for t in world.texts(row.channel_id) if t.startswith("I could not announce")]
    assert said == [
        "I could not announce this incident: there is no channel `incidents` that I can post in."
    ], said

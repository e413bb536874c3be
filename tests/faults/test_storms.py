"""Slack storms (5xx beyond the client's own retries, rate limits, slow answers) during a
declare and during reaction capture: nothing lost, nothing doubled, the declarer told that
Slack is behind. (Digests and nags through 429s: tests/teams/test_delivery.py.)"""

from __future__ import annotations

from collections import Counter

from tests.conftest import eventually
from tests.faults.conftest import doubled
from tests.incidents.conftest import ALICE, BOB, CAROL, World, config, eventually_async, world
from tests.incidents.test_timeline import incident_channel, reacted

__all__ = ["config", "world"]  # the fixtures, from tests/incidents


async def test_a_storm_during_declare_loses_nothing_doubles_nothing_and_says_so(
    world: World,
) -> None:
    slack = world.slack
    # A running bot: Bolt has checked its token (auth.test) before the storm begins.
    assert (await world.listing()).status == 200
    slack.fail("*", status=503, times=6)  # every call, beyond the client's two retries
    response = await world.incident("declare sev1 service:checkout Checkout is down")
    assert response.status == 200
    told = await eventually(
        lambda: [e.text for e in slack.ephemerals(world.elsewhere, ALICE) if "INC-1" in e.text]
    )
    assert "stored" in told[0] and "will follow" in told[0], told
    # The storm goes on in other shapes while the scheduler retries.
    slack.fail("chat.postMessage", ratelimit_retry_after=1, times=5)
    slack.fail("conversations.invite", status=500, times=3)
    slack.fail("conversations.setTopic", error="internal_error", times=1)
    for _ in range(10):  # what the scheduler does, until Slack is in line
        await world.retry()
        if await world.sb.incidents.sync.run(1):
            break
    row = await world.settled()
    assert [c.name for c in slack.channels.values() if c.name.startswith("inc-")] == [
        row.channel_name
    ]
    assert len(slack.messages(world.incidents_channel)) == 1
    assert doubled(slack, row.channel_id) == []
    assert [m.ts for m in slack.messages(row.channel_id) if m.ts == row.card_ts] == [row.card_ts]
    assert ALICE in slack.channel(row.channel_id).members
    assert len(world.pagerduty.incidents) == 1


async def test_reactions_in_a_storm_are_captured_once_each(world: World) -> None:
    row = await incident_channel(world)
    slack = world.slack
    stamps = [slack.add_message(row.channel_id, f"step {n}", user=BOB) for n in range(6)]
    # Reading the messages and confirming them fail for a while: 5xx beyond the client's
    # retries, then rate limits; every event is also delivered twice (Slack's retries).
    slack.fail("conversations.history", status=502, times=9)
    slack.fail("reactions.add", ratelimit_retry_after=1, times=3)
    for n, ts in enumerate(stamps):
        for retry in (None, 1):
            user = (ALICE, CAROL)[n % 2]
            response = await reacted(
                world, row.channel_id, ts, user, event_id=f"Ev0ST{n}", retry_num=retry
            )
            assert response.status == 200

    async def captured() -> list[str]:
        moments = [
            m for m in await world.sb.incidents.timeline.moments(1) if m.source != "lifecycle"
        ]
        return [m.text for m in moments] if len(moments) >= len(stamps) else []

    texts = await eventually_async(captured, within=40)
    assert Counter(texts) == Counter(f"step {n}" for n in range(len(stamps)))
    confirmed = lambda: all(  # noqa: E731
        slack.channel(row.channel_id).message(ts).reactions.get("white_check_mark") for ts in stamps
    )
    await eventually(confirmed, within=40)

"""A Slack that hangs. Every outside call gives up within OUTSIDE_CALL_TIMEOUT; a post that
got no answer may still appear in Slack, so it is looked for (once the lease it was sent
under has run out) before it is sent again. Nothing is posted twice, and the incident's
Slack side is completed once Slack answers again.

The app's timeout here is two seconds, and the tests move the app's clock for the leases (of
120 s and more): what a scheduler would do minutes apart happens at once."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.incidents.sync_posting import METADATA_TYPE
from switchboard.bot.platform.config import Config, IncidentsConfig
from switchboard.bot.platform.delivery import Key, Outgoing
from switchboard.bot.platform.outside_calls import CallLimits
from switchboard.fakes.slack.server import FakeSlack
from switchboard.settings import Settings
from tests.conftest import eventually
from tests.faults.conftest import doubled
from tests.incidents.conftest import ALICE, Clock, World, config, world

__all__ = ["config", "world"]  # the fixtures, from tests/incidents

TIMEOUT = 2.0  # seconds: OUTSIDE_CALL_TIMEOUT of these tests' apps
# How long, at most, the bot takes to give a hung call up (its attempts, and time to spare
# on a loaded machine).
GIVEN_UP_WITHIN = CallLimits(TIMEOUT).deadline + 5


@pytest.fixture
def outside_call_timeout() -> float:
    return TIMEOUT


def posted_as(world: World, channel: str, key: str) -> list[str]:
    """The ts of every message in `channel` the sync posted as `key` (its metadata)."""
    wanted = {"event_type": METADATA_TYPE, "event_payload": {"key": key}}
    return [m.ts for m in world.slack.messages(channel) if m.extra.get("metadata") == wanted]


def triggers(world: World) -> int:
    """The trigger events PagerDuty took (a retried one lands on the alert it opened)."""
    events = [e for i in world.pagerduty.incidents.values() for e in i.events]
    return sum(e["event_action"] == "trigger" for e in events)


async def test_a_hung_card_post_is_given_up_in_time_and_the_card_and_page_come_once(
    world: World,
) -> None:
    slack = world.slack
    assert (await world.listing()).status == 200  # Bolt knows who it is before Slack hangs
    # The incident's first two posts (its card and its announcement) get no answer.
    hold = slack.hold("chat.postMessage", times=2)
    response = await world.incident("declare sev1 service:checkout Checkout is down")
    assert response.status == 200
    # The declarer hears within the timeout that Slack is behind, not when Slack answers.
    told = await eventually(
        lambda: [e.text for e in slack.ephemerals(world.elsewhere, ALICE) if "INC-1" in e.text],
        within=GIVEN_UP_WITHIN,
    )
    assert "is declared" in told[0] and "keep retrying" in told[0], told
    assert hold.waiting == 2  # Slack still has both, and may yet post them

    # The scheduler's next run: the posts are in doubt until their lease has run out, so
    # it neither posts them again nor looks for them yet.
    world.clock.advance(seconds=world.sb.core.config.incidents.retry_seconds)
    assert not await world.sb.incidents.sync.run(1)
    assert (len(slack.calls("chat.postMessage")), hold.waiting) == (2, 2)

    hold.release()  # Slack makes the posts it held
    await eventually(lambda: hold.through == 2)
    world.clock.advance(seconds=world.sb.core.config.incidents.lease_seconds)
    for _ in range(5):  # what the scheduler does, until Slack is in line
        if await world.sb.incidents.sync.run(1):
            break
    row = await world.settled()
    assert posted_as(world, row.channel_id, "card:1") == [row.card_ts]
    assert posted_as(world, world.incidents_channel, "announce:1") == [row.announce_ts]
    assert len(slack.messages(world.incidents_channel)) == 1
    paged = [t for t in world.texts(row.channel_id) if t.startswith("Paged the on-call")]
    assert len(paged) == 1, paged
    assert triggers(world) == 1
    assert doubled(slack, row.channel_id) == []


@pytest.mark.parametrize("outside_call_timeout", [60.0])
@pytest.mark.parametrize("config", [Config(incidents=IncidentsConfig(lease_seconds=4))])
async def test_a_post_made_under_a_short_lease_ends_before_the_lease_does(world: World) -> None:
    """Whatever the timeout and the lease are set to: here a post may take half the lease."""
    slack = world.slack
    assert (await world.listing()).status == 200
    hold = slack.hold("chat.postMessage", times=2)
    await world.incident("declare sev1 service:checkout Checkout is down")
    told = await eventually(
        lambda: [e.text for e in slack.ephemerals(world.elsewhere, ALICE) if "INC-1" in e.text],
        within=2 + 5,  # half the lease, not the minute of the timeout
    )
    assert "keep retrying" in told[0], told
    assert not await world.sb.incidents.sync.run(1)  # in doubt until the lease ends
    hold.release()
    await eventually(lambda: hold.through == 2)
    world.clock.advance(seconds=5)  # past the lease
    for _ in range(5):
        if await world.sb.incidents.sync.run(1):
            break
    row = await world.settled()
    assert posted_as(world, row.channel_id, "card:1") == [row.card_ts]
    assert len(slack.messages(world.incidents_channel)) == 1


async def test_a_page_that_hangs_is_given_up_in_time_and_paged_once(world: World) -> None:
    world.pagerduty.fail("/v2/enqueue", delay=TIMEOUT * 3)
    await world.incident("declare sev1 service:checkout Checkout is down")
    told = await eventually(
        lambda: [e.text for e in world.slack.ephemerals(world.elsewhere, ALICE)],
        within=GIVEN_UP_WITHIN,
    )
    assert "is declared" in told[0], told
    row = await world.settled()
    failed = [t for t in world.texts(row.channel_id) if t.startswith("Paging the on-call")]
    assert len(failed) == 1 and f"did not answer within {TIMEOUT:g} s" in failed[0], failed
    for _ in range(5):  # the page is retried after its backoff
        world.clock.advance(seconds=3600)
        if "Paged the on-call" in " ".join(world.texts(row.channel_id)):
            break
        await world.sb.incidents.sync.run(1)
    paged = [t for t in world.texts(row.channel_id) if t.startswith("Paged the on-call")]
    assert len(paged) == 1, paged
    assert triggers(world) == 1


async def test_a_hung_nag_is_looked_for_after_the_lease_and_sent_once(
    settings: Settings, slack: FakeSlack
) -> None:
    clock = Clock()
    quick = settings.model_copy(update={"outside_call_timeout": TIMEOUT})
    sb = build(quick, Config(), clock)
    await prepare(sb)
    try:
        await _hung_nag(sb, slack, clock)
    finally:
        await sb.close()


async def _hung_nag(sb: Switchboard, slack: FakeSlack, clock: Clock) -> None:
    channel = slack.add_channel("team-shop")
    nag = [Outgoing(Key("nag", "shop", "2026-01-05"), channel, "3 follow-ups are overdue")]
    hold = slack.hold("chat.postMessage")
    async with asyncio.timeout(GIVEN_UP_WITHIN):
        first = await sb.core.deps.delivery.deliver(nag)
    # Not sent again in the same run: the post may yet appear.
    assert [error for _, error in first.failed] == ["in doubt: timeout"], first
    assert (len(slack.calls("chat.postMessage")), slack.messages(channel)) == (1, [])
    hold.release()
    await eventually(lambda: hold.through == 1)
    # Before the lease has run out the claim is still held; after it, a run looks first.
    assert (await sb.core.deps.delivery.deliver(nag)).taken == [nag[0].key]
    clock.advance(seconds=sb.core.config.delivery.lease_seconds + 1)
    assert (await sb.core.deps.delivery.deliver(nag)).recovered == [nag[0].key]
    assert [m.text for m in slack.messages(channel)] == ["3 follow-ups are overdue"]

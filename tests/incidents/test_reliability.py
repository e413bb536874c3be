"""Slack failing in the middle of things, restarts and replicas: the stored incident stays
the truth, Slack is brought in line once it answers, and nothing happens twice."""

from __future__ import annotations

import pytest

from switchboard.app import build
from switchboard.bot.platform.config import Config
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, World, eventually_async


def incident_channels(world: World) -> list[str]:
    return [c.name for c in world.slack.channels.values() if c.name.startswith("inc-")]


async def test_slack_5xx_during_declare_loses_nothing_and_makes_one_channel(world: World) -> None:
    world.slack.fail("conversations.create", status=500, times=3)  # beyond the client's retries
    response = await world.incident("declare sev1 service:checkout Checkout down")
    assert response.json()["text"] == "Declaring your incident…"
    view = await eventually_async(lambda: world.sb.incidents.service.view(1))
    assert view.incident.title == "Checkout down"  # stored while Slack fails
    await world.retry()
    row = await world.settled()
    assert incident_channels(world) == [row.channel_name]
    assert len(world.slack.calls("conversations.create")) == 4
    assert len([m for m in world.slack.messages(row.channel_id) if m.ts == row.card_ts]) == 1
    assert len(world.pagerduty.incidents) == 1


async def test_rate_limits_in_the_middle_of_declare_post_the_card_once(world: World) -> None:
    world.slack.fail("chat.postMessage", ratelimit_retry_after=0, times=4)
    await world.incident("declare Checkout down")
    await world.retry()
    row = await world.settled()
    cards = [m for m in world.slack.messages(row.channel_id) if "INC-1: Checkout down" in m.text]
    assert len(cards) == 1
    assert len(world.slack.messages(world.incidents_channel)) == 1


async def test_a_channel_created_but_not_recorded_is_adopted(world: World) -> None:
    # As if an earlier attempt created the channel and died before storing its id.
    name = f"inc-{world.clock.now:%Y%m%d}-1-outage"
    world.slack.add_channel(name)
    await world.incident("declare Outage")
    row = await world.settled()
    assert row.channel_name == name
    assert incident_channels(world) == [name]


async def test_a_double_sent_slash_command_declares_once(world: World) -> None:
    trigger = world.slack.new_trigger_id()
    for _ in range(2):
        await world.requester.slash_command(
            "/incident",
            "declare Outage",
            user_id=ALICE,
            channel_id=world.elsewhere,
            trigger_id=trigger,
        )
    await world.settled()
    assert await world.sb.incidents.service.view(2) is None
    assert len(incident_channels(world)) == 1


async def test_reminders_survive_a_restart_and_are_sent_once(world: World) -> None:
    await world.incident("declare sev1 Checkout down")
    row = await world.settled()
    world.clock.advance(minutes=29)
    assert await world.sb.incidents.reminders.run() == 0
    world.clock.advance(minutes=2)
    # A new process on the same database (a restart, or a second replica).
    restarted = build(world.sb.core.settings, Config(), world.clock)
    try:
        assert await restarted.incidents.reminders.run() == 1
        assert await world.sb.incidents.reminders.run() == 0
    finally:
        await restarted.close()
    reminder = world.slack.messages(row.channel_id)[-1]
    assert reminder.text.startswith(f"<@{ALICE}>, no status update on INC-1 for 31 minutes")
    world.clock.advance(minutes=30)
    assert await world.sb.incidents.reminders.run() == 1  # the next interval
    await world.incident("update Mitigated", channel=row.channel_id)
    await world.settled()
    world.clock.advance(minutes=20)
    assert await world.sb.incidents.reminders.run() == 0  # the update restarted the clock


async def test_snooze_and_stop_reminders(world: World) -> None:
    await world.incident("declare sev1 Checkout down")
    row = await world.settled()
    world.clock.advance(minutes=31)
    await world.sb.incidents.reminders.run()
    reminder = world.slack.messages(row.channel_id)[-1]
    snooze = reminder.blocks[-1]["elements"][0]
    await world.requester.block_actions(
        [snooze], user_id=BOB, channel_id=row.channel_id, message=reminder.ts
    )
    await world.until(lambda incident: incident.reminders_snoozed_until is not None)
    world.clock.advance(minutes=29)
    assert await world.sb.incidents.reminders.run() == 0
    world.clock.advance(minutes=2)
    assert await world.sb.incidents.reminders.run() == 1
    stop = world.slack.messages(row.channel_id)[-1].blocks[-1]["elements"][1]
    await world.requester.block_actions(
        [stop], user_id=BOB, channel_id=row.channel_id, message=reminder.ts
    )
    await world.until(lambda incident: incident.reminders_off)
    world.clock.advance(hours=5)
    assert await world.sb.incidents.reminders.run() == 0
    assert f"<@{BOB}> turned status reminders off." in world.texts(row.channel_id)


async def test_resolved_incidents_are_not_reminded(world: World) -> None:
    await world.incident("declare sev1 Checkout down")
    row = await world.settled()
    await world.incident("resolve", channel=row.channel_id)
    await world.settled()
    world.clock.advance(hours=3)
    assert await world.sb.incidents.reminders.run() == 0


async def test_a_failing_pager_is_reported_and_retried(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.pagerduty.fail("trigger", status=500, times=1)
    await world.incident("declare sev1 service:checkout Checkout down")
    row = await world.settled()
    assert any(
        "Paging the on-call of *Checkout* through PagerDuty failed" in t
        and "I will keep trying" in t
        for t in world.texts(row.channel_id)
    )
    (logged,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("paging ")]
    assert logged == (
        f"paging pagerduty service PCHECKOUT for INC-1 (incident id {row.id}, page 1, "
        "attempt 1) failed: PagerDuty had a server error (500); will retry"
    )
    assert world.pagerduty.incidents == {}
    world.clock.advance(minutes=1)
    await world.retry()
    await world.settled()
    assert [i.status for i in world.pagerduty.incidents.values()] == ["triggered"]


async def test_a_page_without_a_routing_key_says_so_once(world: World) -> None:
    await world.incident("declare service:storefront Shop is slow")
    row = await world.settled()
    group = next(iter(world.slack.usergroups))
    assert any(f"<!subteam^{group}>" in t for t in world.texts(row.channel_id))


async def test_a_change_made_while_a_sync_is_at_work_reaches_the_card_without_the_scheduler(
    world: World,
) -> None:
    """A change whose own sync finds the incident's lease taken (another change's sync is
    still posting) is brought in by that sync when it ends, not `retry_seconds` later by the
    scheduler (which these tests never run): under load, two quick changes left the card
    a change behind for half a minute."""
    await world.incident("declare sev2 service:checkout Checkout errors")
    row = await world.settled()
    hold = world.slack.hold("chat.update")  # the first sync's card update hangs a while
    await world.incident("status identified", channel=row.channel_id)
    await eventually(lambda: hold.waiting == 1)
    await world.incident("severity sev1", channel=row.channel_id)  # its sync: lease taken
    hold.release()
    settled = await world.settled()
    assert (settled.status, settled.severity) == ("identified", "SEV1")
    (card,) = [m for m in world.slack.messages(row.channel_id) if m.ts == settled.card_ts]
    assert "SEV1" in str(card.blocks) and "identified" in str(card.blocks)

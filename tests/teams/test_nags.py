"""Follow-up nags: who hears of which overdue follow-ups, where, once a day; the Snooze
button; teams without a channel; private incidents; the time of day they start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard.bot.platform.config import Config, DeliveryConfig, NagsConfig
from switchboard.bot.platform.jobs import JobRefused, Run
from switchboard.bot.teams.followup_nags import SNOOZE_ACTION
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, DAVE, World

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def day(offset: int) -> str:
    return (MONDAY.date() + timedelta(days=offset)).isoformat()


def texts(blocks: list[dict[str, Any]]) -> str:
    return str(blocks)


async def with_followups(world: World) -> str:
    """An incident with overdue follow-ups for Bob, for team Shop (which has #shop) and for
    team Web (no channel in the catalog), and one of Shop's that is not due yet."""
    world.clock.now = MONDAY
    world.slack.add_channel("shop")
    await world.incident("declare sev2 service:checkout Checkout errors")
    row = await world.settled()
    for text in (
        f"Add alerts <@{BOB}> due:{day(-1)}",
        f"Add a breaker team:shop due:{day(-3)}",
        f"Retry card payments team:shop due:{day(+3)}",
        f"Fix the storefront team:web due:{day(-2)}",
    ):
        await world.incident(f"followup {text}", channel=row.channel_id)
    return str(row.channel_id)


def nags(world: World, channel: str) -> list[Any]:
    return [m for m in world.slack.messages(channel) if m.text.startswith(":alarm_clock:")]


async def test_overdue_followups_nag_their_owners_once_a_day(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await with_followups(world)
    said = await world.sb.teams.followup_nags.run(Run(manual=True))
    assert said.splitlines() == [
        "follow-up nags for 2026-03-02: 2 sent",
        "skipped team:group:default/web: the team has no Slack channel in the catalog",
    ]
    (to_bob,) = nags(world, world.slack.dm(BOB).id)
    assert to_bob.text == ":alarm_clock: 1 overdue follow-up"
    assert "Add alerts" in texts(to_bob.blocks) and "*overdue*" in texts(to_bob.blocks)
    (to_shop,) = nags(world, "shop")
    assert "Add a breaker" in texts(to_shop.blocks)
    assert "Retry card payments" not in texts(to_shop.blocks)  # not due yet
    snooze = to_shop.blocks[-1]["elements"][0]
    assert (snooze["action_id"], snooze["text"]["text"]) == (SNOOZE_ACTION, "Snooze 7 days")
    assert {
        e["action_id"] for b in to_shop.blocks if b["type"] == "actions" for e in b["elements"]
    } >= {"followup_done", "followup_wont_do"}

    again = await world.sb.teams.followup_nags.run(Run(manual=True))
    assert again.splitlines()[0] == "follow-up nags for 2026-03-02: 0 sent, 2 nagged earlier today"
    skipped_web = [r for r in caplog.records if "skipped team:group:default/web" in r.message]
    assert len(skipped_web) == 1  # said in every run's output, in the log once a day
    world.clock.advance(days=1)
    assert (await world.sb.teams.followup_nags.run(Run())).startswith(
        "follow-up nags for 2026-03-03: 2 sent"
    )
    assert len(nags(world, "shop")) == 2


async def test_snooze_stops_the_nags_about_those_followups(world: World) -> None:
    await with_followups(world)
    await world.sb.teams.followup_nags.run(Run(manual=True))
    (nag,) = nags(world, "shop")
    url = world.slack.new_response_url(
        channel_id=world.slack.channel("shop").id, user_id=ALICE, kind="actions"
    )
    await world.requester.block_actions(
        [nag.blocks[-1]["elements"][0]],
        user_id=ALICE,
        channel_id="shop",
        message=nag.ts,
        response_url=url,
    )
    (answer,) = await eventually(lambda: world.slack.response_posts(url))
    assert answer["text"] == f"<@{ALICE}> snoozed the nags about 1 follow-up(s) until 2026-03-09."
    assert answer["replace_original"] is True
    world.clock.advance(days=1)
    assert "1 sent" in await world.sb.teams.followup_nags.run(Run())  # Bob's only
    world.clock.advance(days=6)
    assert "2 sent" in await world.sb.teams.followup_nags.run(Run())
    assert len(nags(world, "shop")) == 2


async def test_one_team_only(world: World) -> None:
    await with_followups(world)
    said = await world.sb.teams.followup_nags.run(Run(team="shop", manual=True))
    assert said == "follow-up nags for 2026-03-02: 1 sent"
    assert nags(world, world.slack.dm(BOB).id) == []


@pytest.mark.parametrize(
    "config", [Config(delivery=DeliveryConfig(fallback_channel="nags"))], ids=["fallback"]
)
async def test_a_team_without_a_channel_is_nagged_in_the_fallback_channel(world: World) -> None:
    world.slack.add_channel("nags")
    await with_followups(world)
    assert "3 sent" in await world.sb.teams.followup_nags.run(Run(manual=True))
    (nag,) = nags(world, "nags")
    assert nag.text == (
        ":alarm_clock: 1 overdue follow-up"
        " (here because team *web* has no Slack channel in the catalog)"
    )


@pytest.mark.parametrize("config", [Config(nags=NagsConfig(followups_at="11:00"))], ids=["11"])
async def test_nags_wait_for_their_time_of_day(world: World) -> None:
    await with_followups(world)
    assert await world.sb.teams.followup_nags.run(Run()) == "not due: nags go out from 11:00"
    world.clock.advance(hours=1)
    assert "2 sent" in await world.sb.teams.followup_nags.run(Run())


async def private_followup_nagged_in_shop(world: World) -> Any:
    """A private incident of Alice's with an overdue follow-up of team Shop's, nagged in
    #shop; the nag."""
    world.clock.now = MONDAY
    world.slack.add_channel("shop")
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Leaked credentials"}},
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    secret = await world.settled()
    await world.incident(
        f"followup Rotate the keys team:shop due:{day(-1)}", channel=secret.channel_id
    )
    assert "1 sent" in await world.sb.teams.followup_nags.run(Run(manual=True))
    (nag,) = nags(world, "shop")
    return nag


async def test_private_incidents_are_counted_not_named_in_team_channels(world: World) -> None:
    nag = await private_followup_nagged_in_shop(world)
    assert "Rotate" not in texts(nag.blocks)
    assert "1 follow-up of private incidents." in texts(nag.blocks)
    assert nag.blocks[-1]["elements"][0]["value"]  # the snooze covers it all the same


async def test_a_private_incident_s_followups_are_snoozed_by_its_participants_only(
    world: World,
) -> None:
    """The Snooze button's value names follow-ups; whoever sends it may name any. Those of a
    private incident are snoozed by its participants only, as they are closed."""
    nag = await private_followup_nagged_in_shop(world)
    shop = world.slack.channel("shop").id

    async def snooze(user: str) -> str:
        url = world.slack.new_response_url(channel_id=shop, user_id=user, kind="actions")
        button = nag.blocks[-1]["elements"][0]
        await world.requester.block_actions(
            [button], user_id=user, channel_id="shop", message=nag.ts, response_url=url
        )
        (answer,) = await eventually(lambda: world.slack.response_posts(url))
        return str(answer["text"])

    assert await snooze(DAVE) == (
        f"<@{DAVE}> snoozed the nags about 0 follow-up(s) until 2026-03-09."
        " 1 follow-up(s) of private incidents are for their participants to snooze."
    )
    world.clock.advance(days=1)
    assert "1 sent" in await world.sb.teams.followup_nags.run(Run())  # still nagged
    assert await snooze(ALICE) == (
        f"<@{ALICE}> snoozed the nags about 1 follow-up(s) until 2026-03-10."
    )
    world.clock.advance(days=1)
    assert "0 sent" in await world.sb.teams.followup_nags.run(Run())


async def test_an_unknown_team_is_refused(world: World) -> None:
    with pytest.raises(JobRefused, match="no team called 'shpo' \\(did you mean shop"):
        await world.sb.teams.followup_nags.run(Run(team="shpo", manual=True))


@pytest.mark.parametrize("config", [Config(timezone="Pacific/Kiritimati")], ids=["UTC+14"])
async def test_the_day_is_the_configured_time_zones(world: World) -> None:
    await with_followups(world)  # Monday 10:00 UTC is Tuesday 00:00 in Kiritimati
    assert await world.sb.teams.followup_nags.run(Run()) == "not due: nags go out from 09:30"
    said = await world.sb.teams.followup_nags.run(Run(manual=True))
    assert said.startswith("follow-up nags for 2026-03-03: 2 sent")

"""The weekly digest's "How we are doing" and its chart, on the seeded month: the week to
Monday 2 Nov 09:00 (Berlin) against the four before, public incidents only; the chart is a
PNG in the team's channel, once, however many runs race for it."""

from __future__ import annotations

import asyncio

from switchboard.bot.platform.jobs import Run
from tests.incidents.conftest import World
from tests.insight.history import SECRET, seed
from tests.insight.test_stats_command import png_size


def doing(world: World, channel: str) -> list[str]:
    (digest,) = [m for m in world.slack.messages(channel) if m.text.startswith("Weekly digest")]
    texts = [b["text"]["text"] for b in digest.blocks or [] if b["type"] == "section"]
    start = texts.index("*How we are doing*")
    return texts[start + 1].splitlines()


async def test_how_we_are_doing_and_one_chart_beside_the_digest(world: World) -> None:
    shop = world.slack.add_channel("shop")
    await seed(world)
    first, second = await asyncio.gather(
        world.sb.teams.digest.run(Run()), world.sb.teams.digest.run(Run())
    )
    assert "1 chart shared" in first + second
    lines = doing(world, shop)
    # the week from 26 Oct 09:00 Berlin: INC-3 (checkout and search); the four weeks
    # before: INC-2 (a quarter a week). The private INC-4 (search) is in neither.
    assert lines[:5] == [
        "• Incidents: 1 this week (a week in the four before: 0.25)",
        "• Time to acknowledge: median 5 min (before: 40 min)",
        "• Time to resolve: median 4 h (before: 2 h)",
        # shop's deploys: none this week; d1, d2, d3 before, d1 followed by INC-2 and d3
        # failed
        "• Deploys: 0 this week (a week before: 0.75); change failure rate - (before: 67%)",
        # due this week: on 28 Oct on time, 29 Oct late, 31 Oct open
        "• Follow-ups done on time: 33% (before: -); 1 overdue",
    ]
    assert lines[5].startswith("• Ready, 28 days: SEV1/2 per service below Silver ")
    assert lines[-1] == "_Public incidents only (docs/insight.md)._"
    files = [f for f in world.slack.files.values() if f.channels]
    (chart,) = files
    assert chart.channels == [shop]
    assert png_size(chart.content or b"") == (800, 360)
    assert "week of 2026-10-26: 1 SEV2, median 4 h to resolve" in chart.alt_txt
    assert "week of 2026-09-14: 1 SEV2" in chart.alt_txt  # INC-1
    assert SECRET not in chart.alt_txt
    # the web team has no channel: no digest, no chart; run again: nothing more
    again = await world.sb.teams.digest.run(Run())
    assert "chart" not in again
    assert len([f for f in world.slack.files.values() if f.channels]) == 1


async def test_a_refused_chart_is_said_and_shared_by_the_next_run(world: World) -> None:
    shop = world.slack.add_channel("shop")
    await seed(world)
    world.slack.fail("files.completeUploadExternal", error="internal_error")
    said = await world.sb.teams.digest.run(Run())
    assert "1 sent, charts not shared: group:default/shop (internal_error)" in said
    assert not [f for f in world.slack.files.values() if f.channels]
    # the digest is not sent again; the chart, whose claim was given back, is
    assert "1 chart shared" in await world.sb.teams.digest.run(Run(manual=True))
    assert len([m for m in world.slack.messages(shop) if m.text.startswith("Weekly")]) == 1

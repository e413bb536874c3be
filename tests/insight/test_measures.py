"""Each measure on the seeded month (tests/insight/history.py), the expected values worked
out by hand in the comments, not by the code under test; and the pure definitions (median,
p90, DORA's bands) on small inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.bot.insight import measures
from switchboard.bot.insight.service import Asked, Insight
from tests.incidents.conftest import World
from tests.insight.history import CHECKOUT, SEARCH, STOREFRONT, seed

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


async def insight(world: World, public: bool, asked: Asked | None = None) -> Insight:
    await seed(world)
    service = world.sb.insight.service
    return await service.insight(await service.scope(asked or Asked()), public=public)


def test_median_and_p90_by_nearest_rank() -> None:
    # 1..10 minutes: median (5 + 6) / 2 = 5.5 min; p90 the 9th of 10 = 9 min
    found = measures.figure([n * MIN for n in range(10, 0, -1)])
    assert (found.count, found.median, found.p90) == (10, 5.5 * MIN, 9 * MIN)
    assert measures.figure([]) == measures.Figure(0, None, None)
    # one value: both are it
    assert measures.figure([HOUR]) == measures.Figure(1, HOUR, HOUR)


@pytest.mark.parametrize(
    ("per_day", "band"),
    [(3, "elite"), (1, "elite"), (0.5, "high"), (1 / 7, "high"), (0.1, "medium"), (0.01, "low")],
)
def test_deployment_frequency_bands(per_day: float, band: str) -> None:
    assert measures.frequency_band(per_day) == band


def test_duration_and_failure_bands() -> None:
    restore = (HOUR, timedelta(days=1), timedelta(days=7))
    assert measures.duration_band(59 * MIN, restore) == "elite"
    assert measures.duration_band(HOUR, restore) == "high"  # "less than one hour" is elite
    assert measures.duration_band(timedelta(days=3), restore) == "medium"
    assert measures.duration_band(timedelta(days=8), restore) == "low"
    assert measures.duration_band(None, restore) == ""
    assert [measures.failure_band(r) for r in (0.05, 0.06, 0.15, 0.16, None)] == [
        "elite",
        "high",
        "medium",
        "low",
        "",
    ]


async def test_response_seen_by_one_person_counts_the_private_incident(world: World) -> None:
    found = await insight(world, public=False)
    r = found.response
    # INC-2..5 in the window; INC-4 is private, counted in the totals
    assert (r.incidents, r.from_impact, found.private_counted) == (4, 1, 1)
    assert r.by_severity == {"SEV1": 1, "SEV2": 2, "SEV3": 1, "SEV4": 0}
    # acknowledged after 40 (from INC-2's impact start), 5, 20, 30 min: median 25, p90 40
    assert (r.to_acknowledge.median, r.to_acknowledge.p90) == (25 * MIN, 40 * MIN)
    # mitigated 1 h 30, 4 h (INC-3: resolved), 1 h: median 1 h 30, p90 4 h
    assert (r.to_mitigate.count, r.to_mitigate.median, r.to_mitigate.p90) == (3, 90 * MIN, 4 * HOUR)
    # resolved 2 h, 4 h, 1 h; INC-5 is open
    assert (r.to_resolve.count, r.to_resolve.median, r.to_resolve.p90) == (3, 2 * HOUR, 4 * HOUR)


async def test_a_public_surface_leaves_the_private_incident_out(world: World) -> None:
    found = await insight(world, public=True)
    r = found.response
    assert (r.incidents, found.private_counted) == (3, 0)
    # 5, 30, 40 min: median 30, p90 the 3rd of 3
    assert (r.to_acknowledge.median, r.to_acknowledge.p90) == (30 * MIN, 40 * MIN)
    assert (r.to_resolve.median, r.to_resolve.p90) == (3 * HOUR, 4 * HOUR)  # 2 h and 4 h


async def test_breakdowns_never_hold_the_private_incident(world: World) -> None:
    found = await insight(world, public=False)
    services = {line.name: (line.incidents, line.to_resolve.median) for line in found.by_service}
    # Search had INC-3 and the private INC-4: only INC-3 is under it
    assert services == {CHECKOUT: (2, 3 * HOUR), SEARCH: (1, 4 * HOUR), STOREFRONT: (1, None)}
    teams = {line.name: line.incidents for line in found.by_team}
    assert teams == {"group:default/shop": 2, "group:default/web": 1}
    # Berlin's weeks: INC-2 (Sat 23:30 UTC, Sun 01:30 there) in the week of 19 Oct; INC-5
    # (Sun 23:30 UTC, Mon 00:30 there) in the week of 2 Nov, not of 26 Oct
    weeks = [(line.name, line.incidents) for line in found.by_week]
    # every week the 30 days touch, from the one of Saturday 3 Oct
    assert weeks == [
        ("2026-09-28", 0),
        ("2026-10-05", 0),
        ("2026-10-12", 0),
        ("2026-10-19", 1),
        ("2026-10-26", 1),
        ("2026-11-02", 1),
    ]


async def test_standards_against_outcomes_use_the_level_held_when_declared(
    world: World,
) -> None:
    found = await insight(world, public=True)
    by_days = {s.days: s for s in found.standards}
    four_weeks = by_days[28]
    # 28 days from 5 Oct 12:00: checkout Bronze 20 days then Silver 8, search Gold 28,
    # storefront no level for its last 14. Below Silver: 14/28 + 20/28 = 34/28 services,
    # INC-2 (checkout, Bronze when declared, Silver today) = 1; at Silver or above:
    # 8/28 + 28/28 = 36/28, INC-3 on checkout (Silver) and search (Gold) = 2.
    assert four_weeks.split == "Silver" and four_weeks.enough
    assert four_weeks.below.incidents == 1 and four_weeks.above.incidents == 2
    assert four_weeks.below.services == pytest.approx(34 / 28)
    assert four_weeks.above.services == pytest.approx(36 / 28)
    assert four_weeks.ratio == pytest.approx((1 / (34 / 28)) / (2 / (36 / 28)))
    levels = {lv.level: lv.incidents for lv in four_weeks.levels}
    assert levels == {"": 0, "Bronze": 1, "Silver": 1, "Gold": 1}
    # 90 days from 4 Aug 12:00: INC-1 (Bronze) counts too; below (14 + 82) / 90 with 2,
    # above (8 + 90) / 90 with 2
    quarter = by_days[90]
    assert (quarter.below.incidents, quarter.above.incidents) == (2, 2)
    assert quarter.ratio == pytest.approx((2 / (96 / 90)) / (2 / (98 / 90)))


def test_too_few_to_compare() -> None:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    since = now - timedelta(days=28)
    history = [measures_row("a", since, "Bronze"), measures_row("b", since, "Gold")]
    found = measures.standards(
        "Ready", ("Bronze", "Silver", "Gold"), history, [], {"SEV1"}, since, now, (1, 1)
    )
    assert not found.enough and found.ratio is None  # no incident at all


def measures_row(service: str, at: datetime, level: str) -> measures.LevelRow:
    return measures.LevelRow("ready", service, at, level)


async def test_dora_from_pushed_and_github_deploys(world: World) -> None:
    d = (await insight(world, public=True)).dora
    # production and finished: d1, d2, d3 (failed), d4 (pushed; GitHub's copy not again),
    # d7 (GitHub only); staging d5 and in-progress d6 are not deploys here
    assert d.deploys == 5
    # four succeeded in 30 days: 4 / 30 a day, 0.93 a week: under once a week, medium
    assert (d.per_week, d.frequency_band) == (0.93, "medium")
    # lead times 24 h (d1: from its first commit), 2 h, 1 h; d7 has no commits
    assert (d.lead_time.count, d.lead_time.median, d.lead_time_band) == (3, 2 * HOUR, "elite")
    # d3 failed; d1 was followed by INC-2's impact an hour later: 2 of 5
    assert (d.change_failures, d.change_failure_rate, d.change_failure_band) == (2, 0.4, "low")
    # public incidents resolved: 2 h and 4 h
    assert (d.to_restore.median, d.to_restore_band) == (3 * HOUR, "high")


async def test_follow_through(world: World) -> None:
    f = (await insight(world, public=False)).follow_through
    # due in the window: on 28 Oct (closed 23:30 Berlin: on time), 29 Oct (closed 00:30
    # the 30th in Berlin, though the 29th in UTC: late), 31 Oct (open: overdue) and the
    # private incident's, won't do; the one due 10 Nov is not due yet
    assert (f.due, f.on_time, f.late, f.overdue, f.wont_do) == (4, 1, 1, 1, 1)
    assert f.on_time_rate == pytest.approx(1 / 3)
    # INC-2 came within 30 days of INC-1's resolve, INC-3 within 30 days of INC-2's, both
    # on checkout
    assert (f.repeats, f.repeat_services) == (2, [CHECKOUT])
    service = world.sb.insight.service
    public = (await service.insight(await service.scope(Asked()), public=True)).follow_through
    assert (public.due, public.wont_do) == (3, 0)


async def test_a_scope_narrows_every_measure(world: World) -> None:
    found = await insight(world, public=False, asked=Asked(days=30, service="search"))
    # search: INC-3, and the private INC-4 left out (asked for a service: attributed)
    assert (found.response.incidents, found.private_counted) == (1, 0)
    assert found.dora.deploys == 1 and found.dora.change_failures == 1  # d3 failed
    team = await world.sb.insight.service.insight(
        await world.sb.insight.service.scope(Asked(days=30, team="web", severity="sev3")),
        public=False,
    )
    assert team.response.incidents == 1 and team.scope.label == "team Web, SEV3 only"
    assert team.dora.deploys == 2  # storefront's d4 and d7

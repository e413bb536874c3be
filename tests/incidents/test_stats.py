"""Incident metrics (`StatsService`): exact counts, means and medians on a hand-built set of
incidents, the window, what is left out, and private incidents counted but never named nor
put under their services. `/incident stats` and `switchboard stats` answer with insight's
measures now: tests/insight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard.bot.incidents import stats
from switchboard.bot.incidents.service import DeclareRequest
from switchboard.bot.incidents.stats import Figure, ServiceCount, Stats, duration
from tests.incidents.conftest import ALICE, BOB, World

SECRET = "Card numbers in the logs"
EXPECTED: dict[str, Any] = {
    "days": 30,
    "declared": 4,
    "open_now": 3,
    "by_severity": {"SEV1": 1, "SEV2": 2, "SEV3": 0, "SEV4": 1},
    "by_service": [
        {"name": "Checkout", "ref": "component:default/checkout", "incidents": 2},
        {"name": "Search", "ref": "component:default/search", "incidents": 1},
        {"name": "(private)", "ref": "", "incidents": 1},
        {"name": "(no service)", "ref": "", "incidents": 1},
    ],
    "time_to_acknowledge": {
        "incidents": 3,
        "mean_seconds": 7 * 60,
        "median_seconds": 5 * 60,
        "mean": "7 min",
        "median": "5 min",
    },
    "time_to_resolve": {
        "incidents": 2,
        "mean_seconds": 94050,
        "median_seconds": 94050,
        "mean": "1 d 2 h 7 min 30 s",
        "median": "1 d 2 h 7 min 30 s",
    },
}


def test_durations_are_exact_and_keep_the_days() -> None:
    assert duration(timedelta(days=2, hours=3, minutes=4)) == "2 d 3 h 4 min"
    assert duration(timedelta(days=1, seconds=30)) == "1 d 30 s"
    assert duration(timedelta(minutes=59, seconds=59, microseconds=999)) == "59 min 59 s"
    assert duration(timedelta(0)) == "0 s"


def test_many_services_stay_within_block_kit_limits() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    many = [
        ServiceCount("service " + "x" * 300 + str(n), f"component:default/s{n}", 1)
        for n in range(80)
    ]
    no_figure = Figure(0, None, None)
    found = Stats(
        30, now - timedelta(days=30), now, 80, 0, {"SEV1": 80}, many, no_figure, no_figure
    )
    _, blocks = stats.blocks(found)
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert blocks[3]["text"]["text"].endswith("\n…and 55 more")


async def declare(
    world: World, title: str, severity: str, services: tuple[str, ...] = (), private: bool = False
) -> int:
    incident, _ = await world.sb.incidents.declare(
        DeclareRequest(
            request_key=f"test:{title}",
            actor=ALICE,
            title=title,
            severity=severity,
            services=tuple(await world.sb.incidents.resolve_services(services)),
            private=private,
        )
    )
    assert incident.id is not None
    return incident.id


async def change(world: World, incident_id: int, action: str, value: str = "") -> None:
    await world.sb.incidents.change(
        incident_id, BOB if action != "resolve" else ALICE, action, value
    )


@pytest.fixture
async def history(world: World) -> World:
    """Five incidents: one long ago and still open, then four in the last 30 days."""
    # Started so that the set ends just before the real now, for the command line's clock.
    world.clock.now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=42, hours=5)
    await declare(world, "Old and forgotten", "SEV3", ("checkout",))
    world.clock.advance(days=40)

    first = await declare(world, "Checkout down", "SEV1", ("checkout",))
    world.clock.advance(minutes=5)
    await change(world, first, "status", "identified")  # acknowledged after 5 min
    world.clock.advance(minutes=55)
    await change(world, first, "resolve")  # resolved after 1 h

    second = await declare(world, "Slow checkout and search", "SEV2", ("checkout", "search"))
    world.clock.advance(minutes=15)
    await change(world, second, "status", "identified")
    world.clock.advance(days=2, hours=3)
    await change(world, second, "resolve")  # after 2 d 3 h 15 min

    secret = await declare(world, SECRET, "SEV2", ("search",), private=True)
    world.clock.advance(minutes=1)
    await change(world, secret, "status", "identified")  # open, acknowledged after 1 min

    await declare(world, "Nobody looked", "SEV4")  # open, never acknowledged
    return world


async def test_the_numbers_are_exact(history: World) -> None:
    found = await history.sb.stats.stats()
    assert (found.declared, found.open_now) == (4, 3)
    assert found.by_severity == EXPECTED["by_severity"]
    assert [(s.name, s.incidents) for s in found.by_service] == [
        ("Checkout", 2),
        ("Search", 1),
        ("(private)", 1),
        ("(no service)", 1),
    ]
    assert found.to_acknowledge.incidents == 3
    assert found.to_acknowledge.mean == timedelta(minutes=7)
    assert found.to_acknowledge.median == timedelta(minutes=5)
    assert found.to_resolve.incidents == 2
    assert found.to_resolve.mean == found.to_resolve.median == timedelta(seconds=94050)
    assert found.since == history.clock.now - timedelta(days=30)
    # The window moves with the days asked for: the last 2 days hold the last two.
    recent = await history.sb.stats.stats(2)
    assert (recent.declared, recent.by_severity["SEV2"], recent.to_resolve.incidents) == (2, 1, 0)

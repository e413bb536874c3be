"""`/owner`'s health line: the service's open incidents and its incidents' overdue
follow-ups, private incidents counted only for those taking part in them, and the worst of
its live facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.bot.facts.freshness import FactView
from switchboard.bot.health import highlights, worst_fact
from tests.incidents.conftest import ALICE, DAVE, World
from tests.security.test_private import declare_private


async def health_line(world: World, user: str) -> str:
    answer: Any = await world.requester.answer(
        "/owner", "checkout", user_id=user, channel_id=world.elsewhere
    )
    blocks = answer.json()["blocks"]
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    (line,) = [t for t in texts if t.startswith(":stethoscope:")]
    return str(line)


async def test_open_incidents_and_overdue_followups_of_the_service(world: World) -> None:
    assert await health_line(world, DAVE) == (
        ":stethoscope: no open incidents · no overdue follow-ups"
    )
    await world.incident("declare sev2 service:checkout Checkout errors")
    row = await world.settled()
    due = (world.clock.now + timedelta(days=1)).date().isoformat()
    await world.incident(f"followup Add retries team:shop due:{due}", channel=row.channel_id)
    assert await health_line(world, DAVE) == (
        ":stethoscope: 1 open incident · no overdue follow-ups"
    )
    world.clock.advance(days=3)
    assert await health_line(world, DAVE) == ":stethoscope: 1 open incident · 1 overdue follow-up"
    await world.incident("status resolved", channel=row.channel_id)
    await world.settled()
    assert await health_line(world, DAVE) == (
        ":stethoscope: no open incidents · 1 overdue follow-up"
    )


async def test_a_private_incident_counts_only_for_its_participants(world: World) -> None:
    await declare_private(world)
    assert await health_line(world, ALICE) == (
        ":stethoscope: 1 open incident · no overdue follow-ups"
    )
    assert await health_line(world, DAVE) == (
        ":stethoscope: no open incidents · no overdue follow-ups"
    )
    shared = await world.sb.catalog.reader.answer_ref("component:default/checkout", "")
    assert shared.health == ":stethoscope: no open incidents · no overdue follow-ups"  # type: ignore[union-attr]


def test_the_worst_fact_is_a_failing_source_else_the_stalest() -> None:
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)

    def fact(key: str, source: str, age_hours: float, stale: bool, error: str = "") -> FactView:
        age = timedelta(hours=age_hours)
        return FactView("component:default/x", key, source, 1, now - age, age, stale, error)

    fresh = fact("git.open_prs", "github", 0.1, False)
    old = fact("sonar.coverage", "sonarqube", 30, True)
    older = fact("git.default_branch", "github", 50, True)
    failing = fact("oncall.now", "pagerduty", 0.5, True, "401 <!channel> unauthorized")
    assert worst_fact([fresh]) == ""
    assert worst_fact([fresh, old, older]) == ":hourglass: GitHub last heard 2 days ago"
    assert worst_fact([old, failing]) == (
        ":warning: PagerDuty failing (401 &lt;!channel&gt; unauthorized)"
    )


def test_coverage_and_vulnerabilities_when_the_sources_said() -> None:
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)

    def fact(key: str, value: object) -> FactView:
        return FactView("component:default/x", key, "github", value, now, timedelta(0), False, "")

    assert highlights([]) == []
    assert highlights(
        [fact("sonarqube.coverage", 81.5), fact("git.vulnerabilities", {"CRITICAL": 1, "HIGH": 2})]
    ) == ["coverage 81.5%", "1 critical, 2 high vulnerabilities"]
    assert highlights([fact("git.vulnerabilities", {"CRITICAL": 0, "HIGH": 0, "LOW": 4})]) == [
        "no critical or high vulnerabilities"
    ]

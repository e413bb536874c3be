"""How long evaluating a 25-rule scorecard over 50,000 services takes, against just loading
those services from the database in the same run.

Builds the catalog in a throwaway SQLite file with `catalog_store.apply_import`, with
incidents and follow-ups on a few percent of the services, then times, best of `--runs`:
loading the service rows into entities (the baseline), loading the incident facts (two
queries), and `evaluate`. The aim: evaluation at most 2x the loading.

    python bench/scorecards.py [--services 50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

from switchboard.bot.catalog.model import DEPENDS_ON, Entity, Link, OnCall, Relation
from switchboard.bot.catalog.rows import from_row, to_record
from switchboard.bot.scorecards.evaluate import evaluate, lookback_days
from switchboard.bot.scorecards.model import (
    DependenciesDeclared,
    Exemption,
    FieldPresent,
    IncidentCount,
    LifecycleIn,
    LinkExists,
    MeanTimeToResolve,
    NoOldUnresolvedIncidents,
    NoOverdueFollowUps,
    Rule,
    Scorecard,
    TagAbsent,
    TagPresent,
    TierAtMost,
    TierIn,
    Unsupported,
)
from switchboard.storage import catalog_store, db, scorecard_facts
from switchboard.storage.tables import CatalogEntity

T = TypeVar("T")
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
TODAY = NOW.date()
TEAMS = 200
LINK_TYPES = ("runbook", "repo", "docs", "dashboard", "logs")


def catalog(size: int, rng: random.Random) -> list[Entity]:
    teams = [Entity(kind="group", name=f"team-{n}", type="team") for n in range(TEAMS)]
    services = []
    for n in range(size):
        services.append(
            Entity(
                kind="component",
                name=f"service-{n}",
                type="service",
                description="A service." if rng.random() < 0.9 else "",
                owners=[teams[n % TEAMS].ref] if rng.random() < 0.95 else [],
                tier=n % 4 + 1,
                lifecycle=rng.choice(("production", "production", "beta")),
                tags=rng.sample(("java", "python", "go", "pci", "deprecated", "public"), 2),
                links=[
                    Link(t, f"https://example.com/{t}/{n}")
                    for t in LINK_TYPES
                    if rng.random() < 0.7
                ],
                oncall=[OnCall("pagerduty", "service", f"P{n}")] if rng.random() < 0.8 else [],
                slack_channels=[f"#svc-{n}"] if rng.random() < 0.6 else [],
                relations=[
                    Relation(DEPENDS_ON, f"component:default/service-{rng.randrange(size)}")
                    for _ in range(rng.randrange(3))
                ],
                source_file="bench.yaml",
            )
        )
    return teams + services


def scorecard() -> Scorecard:
    rules = [
        ("owner", "Bronze", FieldPresent("owner")),
        ("description", "Bronze", FieldPresent("description")),
        ("repo", "Bronze", FieldPresent("repo")),
        ("tier", "Bronze", TierIn((1, 2, 3, 4))),
        ("lifecycle", "Bronze", LifecycleIn(("production", "beta"))),
        ("sev", "Bronze", NoOldUnresolvedIncidents(7)),
        ("not-deprecated", "Bronze", TagAbsent("deprecated")),
        ("oncall", "Silver", FieldPresent("oncall")),
        ("runbook", "Silver", FieldPresent("runbook")),
        ("dashboard", "Silver", LinkExists("dashboard")),
        ("dependencies", "Silver", DependenciesDeclared()),
        ("followups", "Silver", NoOverdueFollowUps("service")),
        ("team-followups", "Silver", NoOverdueFollowUps("team")),
        ("sev3", "Silver", NoOldUnresolvedIncidents(30, ("SEV3",))),
        ("mttr", "Silver", MeanTimeToResolve(90, 8)),
        ("slack", "Gold", FieldPresent("slack_channel")),
        ("docs", "Gold", FieldPresent("docs")),
        ("logs", "Gold", LinkExists("logs")),
        ("critical", "Gold", TierAtMost(2)),
        ("few-incidents", "Gold", IncidentCount(30, 3)),
        ("fast", "Gold", MeanTimeToResolve(30, 4)),
        ("few-majors", "Gold", IncidentCount(90, 2, ("SEV1", "SEV2"))),
        ("owned-publicly", "", TagPresent("public")),
        ("slo", "", Unsupported('custom("slos") != null', "unsupported: CQL")),
        ("no-pci", "", TagAbsent("pci")),
    ]
    exemptions = tuple(
        Exemption("runbook", f"component:default/service-{n}", "bench", TODAY)
        for n in range(0, 50_000, 100)
    )
    return Scorecard(
        "bench",
        "Bench",
        ("Bronze", "Silver", "Gold"),
        tuple(Rule(i, i, check, 1 + n % 3, level) for n, (i, level, check) in enumerate(rules)),
        exemptions=exemptions,
    )


async def build(sessions: async_sessionmaker[AsyncSession], entities: list[Entity]) -> None:
    rng = random.Random(11)
    services = [e.ref for e in entities if e.kind == "component"]
    incidents, links, followups = [], [], []
    for number, ref in enumerate(rng.sample(services, len(services) // 20), start=1):
        declared = NOW - timedelta(days=rng.randrange(120), hours=rng.randrange(24))
        resolved = declared + timedelta(hours=rng.randrange(1, 30)) if rng.random() < 0.9 else None
        incidents.append(
            _incident(number, declared, resolved, rng.choice(("SEV1", "SEV2", "SEV3")))
        )
        links.append({"incident_id": number, "entity_ref": ref, "name": ref})
        due = TODAY + timedelta(days=rng.randrange(-20, 20))
        followups.append(_followup(number, due, f"group:default/team-{number % TEAMS}"))
    tables = SQLModel.metadata.tables
    async with sessions() as session, session.begin():
        await catalog_store.apply_import(session, [to_record(e) for e in entities], set(), [])
        for table, rows in (
            ("incident", incidents),
            ("incident_service", links),
            ("followup", followups),
        ):
            await session.execute(insert(tables[table]), rows)


def _incident(
    number: int, declared: datetime, resolved: datetime | None, severity: str
) -> dict[str, Any]:
    return {
        "id": number,
        "number": number,
        "request_key": f"bench-{number}",
        "title": f"Incident {number}",
        "description": "",
        "severity": severity,
        "status": "resolved" if resolved else "investigating",
        "private": False,
        "security": False,
        "declared_by": "U1",
        "declared_at": declared,
        "resolved_at": resolved,
        "last_update_at": declared,
        "reminders_off": False,
        "version": 1,
        "topic_version": 0,
        "card_version": 0,
        "announce_version": 0,
        "steps_done": [],
    }


def _followup(incident_id: int, due: date, team: str) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "text": "fix it",
        "owner_user": "",
        "owner_team": team,
        "due": due,
        "state": "open",
        "created_by": "U1",
        "created_at": NOW,
        "closed_by": "",
    }


async def load_services(sessions: async_sessionmaker[AsyncSession]) -> list[Entity]:
    """The baseline: the service rows, as the entities `evaluate` takes."""
    async with sessions() as session:
        rows = await session.scalars(
            select(CatalogEntity).where(catalog_store.ENTITY.c.kind == "component")
        )
        return [from_row(row) for row in rows]


async def load_facts(
    sessions: async_sessionmaker[AsyncSession], days: int
) -> scorecard_facts.Facts:
    async with sessions() as session:
        since = datetime.combine(TODAY - timedelta(days=days), datetime.min.time(), UTC)
        return await scorecard_facts.load(session, since, TODAY)


async def timed_async(run: Callable[[], Any], runs: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        value = await run()
        best = min(best, time.perf_counter() - started)
    return best, value


def timed(run: Callable[[], T], runs: int) -> tuple[float, T]:
    best, value = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - started)
    assert value is not None
    return best, value


async def bench(path: Path, size: int, runs: int) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    await db.upgrade(engine)
    sessions = db.session_factory(engine)
    await build(sessions, catalog(size, random.Random(7)))
    card = scorecard()
    load_time, services = await timed_async(lambda: load_services(sessions), runs)
    facts_time, facts = await timed_async(lambda: load_facts(sessions, lookback_days([card])), runs)
    eval_time, results = timed(lambda: evaluate(card, services, facts, TODAY), runs)
    await engine.dispose()
    levels: dict[str | None, int] = {}
    for result in results:
        levels[result.level] = levels.get(result.level, 0) + 1
    ratio = eval_time / load_time
    print(f"scorecards: {len(services)} services, {len(card.rules)} rules (best of {runs})")
    print(f"  load service rows    {load_time * 1e3:9.1f} ms   (baseline)")
    print(f"  load incident facts  {facts_time * 1e3:9.1f} ms   ({len(facts.services)} services)")
    print(f"  evaluate             {eval_time * 1e3:9.1f} ms   levels {levels}")
    verdict = "meets" if ratio <= 2 else "misses"
    print(f"  evaluate / load {ratio:.2f}x; {verdict} the aim of 2x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(bench(Path(folder) / "bench.db", args.services, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

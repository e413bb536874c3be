"""Insight at scale: every team's measures for a weekly digest, against the plain SQL that
fetches the same rows, in the same run; and one chart's render time, against an empty Agg
figure saved as PNG.

A SQLite database gets `--incidents` incidents over the last year (each on one service,
a tenth private, most resolved), `--deploys` production deploys with a commit each, follow-ups
and scorecard history, for `--teams` teams owning five services each. Then, in one process:

- the baseline: the five SELECTs `storage/insight_store.py` runs for the digest (incidents
  of the last 90 days with their services, deploys of the last 35, follow-ups, scorecard
  history, the catalog), as raw SQL, rows fetched and nothing built of them;
- `InsightService.for_teams(all teams)`: the same reads, then each team's week, the four
  before, its standards lines and its chart's numbers (what the digest asks for);
- one 12-week chart drawn to PNG (median of 20) beside an empty Agg figure saved as PNG.

Aims: the digest's insight within 2x of the plain reads; a chart within 100 ms.

    python bench/insight.py [--incidents 100000] [--deploys 500000] [--teams 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sqlalchemy import insert, text

from switchboard.bot.insight import chart
from switchboard.bot.insight.service import InsightService
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.deps import Deps
from switchboard.storage import db
from switchboard.storage.facts_tables import Deploy
from switchboard.storage.tables import (
    CatalogEntity,
    FollowUp,
    Incident,
    IncidentServiceLink,
    ScorecardChange,
)

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SERVICES_PER_TEAM = 5
CHUNK = 5000
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


class Scorecards:
    """The one scorecard the history is of (what `ScorecardService.scorecards` hands out)."""

    def __call__(self) -> list[object]:
        from switchboard.bot.scorecards.model import Scorecard

        return [Scorecard("ready", "Ready", ("Bronze", "Silver", "Gold"), ())]


async def seed(url: str, incidents: int, deploys: int, teams: int) -> None:
    engine = db.create_engine(url)
    await db.upgrade(engine)
    rng = random.Random(17)
    services = [f"component:default/svc-{n}" for n in range(teams * SERVICES_PER_TEAM)]
    async with engine.begin() as conn:
        entities = [
            _entity(f"group:default/team-{t}", "group", f"team-{t}", []) for t in range(teams)
        ]
        entities += [
            _entity(ref, "component", ref.rsplit("/", 1)[1], [f"group:default/team-{n // 5}"])
            for n, ref in enumerate(services)
        ]
        await _insert(conn, CatalogEntity, entities)
        rows, links, followups = [], [], []
        for n in range(incidents):
            declared = NOW - timedelta(minutes=rng.randrange(365 * 24 * 60))
            resolved = declared + timedelta(minutes=rng.randrange(10, 3000))
            rows.append(
                {
                    "id": n + 1,
                    "number": n + 1,
                    "request_key": f"bench:{n}",
                    "title": f"Incident {n}",
                    "description": "",
                    "severity": rng.choice(SEVERITIES),
                    "status": "resolved",
                    "private": n % 10 == 0,
                    "security": False,
                    "declared_by": "U0BENCH",
                    "declared_at": declared,
                    "acknowledged_at": declared + timedelta(minutes=rng.randrange(1, 60)),
                    "resolved_at": resolved if rng.random() < 0.95 else None,
                    "last_update_at": declared,
                    "reminders_off": False,
                    "channel_id": "",
                    "channel_name": "",
                    "card_ts": "",
                    "announce_channel_id": "",
                    "announce_ts": "",
                    "version": 1,
                    "topic_version": 0,
                    "card_version": 0,
                    "announce_version": 0,
                    "steps_done": [],
                }
            )
            links.append({"incident_id": n + 1, "entity_ref": rng.choice(services), "name": ""})
            if n % 4 == 0:
                followups.append(
                    {
                        "incident_id": n + 1,
                        "text": "fix it",
                        "owner_user": "",
                        "owner_team": "",
                        "due": (declared + timedelta(days=14)).date(),
                        "state": rng.choice(("open", "done", "done")),
                        "created_by": "U0BENCH",
                        "created_at": declared,
                        "closed_by": "",
                        "closed_at": resolved,
                    }
                )
        await _insert(conn, Incident, rows)
        await _insert(conn, IncidentServiceLink, links)
        await _insert(conn, FollowUp, followups)
        deploy_rows = []
        for n in range(deploys):
            finished = NOW - timedelta(minutes=rng.randrange(120 * 24 * 60))
            authored = finished - timedelta(minutes=rng.randrange(30, 5000))
            deploy_rows.append(
                {
                    "entity": rng.choice(services),
                    "environment": "production",
                    "sha": f"{n:040x}",
                    "status": "success" if rng.random() < 0.9 else "failure",
                    "started_at": finished - timedelta(minutes=5),
                    "finished_at": finished,
                    "author": "",
                    "commits": [{"sha": f"{n:040x}", "authored_at": authored.isoformat()}],
                    "reported_by": "push:ci",
                    "received_at": finished,
                }
            )
        await _insert(conn, Deploy, deploy_rows)
        history = []
        for ref in services:
            for months in (10, 5, 1):
                level = rng.choice(("", "Bronze", "Silver", "Gold"))
                history.append(
                    {
                        "scorecard": "ready",
                        "service": ref,
                        "at": NOW - timedelta(days=30 * months),
                        "level": level,
                        "failing": [],
                        "withheld": [],
                    }
                )
        await _insert(conn, ScorecardChange, history)
    await engine.dispose()


def _entity(ref: str, kind: str, name: str, owners: list[str]) -> dict[str, object]:
    return {
        "ref": ref,
        "kind": kind,
        "namespace": "default",
        "name": name,
        "type": "",
        "title": "",
        "description": "",
        "lifecycle": "",
        "system": "",
        "domain": "",
        "slack_usergroup": "",
        "slack_user_id": "",
        "email": "",
        "tags": [],
        "aliases": [],
        "links": [],
        "oncall": [],
        "slack_channels": [],
        "owners": owners,
        "relations": [],
        "source_file": "bench",
        "source_line": 0,
        "content_hash": "",
    }


async def _insert(conn: object, table: type, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await conn.execute(insert(table), rows[start : start + CHUNK])  # type: ignore[attr-defined]


# what is timed

PLAIN = (
    "SELECT i.*, s.entity_ref FROM incident i LEFT JOIN incident_service s "
    "ON s.incident_id = i.id WHERE i.declared_at > :earliest AND i.declared_at <= :until",
    "SELECT * FROM deploy WHERE finished_at > :deploys AND finished_at <= :until "
    "AND status IN ('success', 'failure', 'rolled_back')",
    "SELECT f.*, i.private FROM followup f JOIN incident i ON i.id = f.incident_id "
    "WHERE f.due IS NOT NULL",
    "SELECT scorecard, service, at, level FROM scorecard_change WHERE at <= :until",
    "SELECT ref, name, title, kind, owners FROM catalog_entity "
    "WHERE kind IN ('component', 'group')",
)


async def plain_reads(url: str) -> float:
    engine = db.create_engine(url)
    # what the digest reads: incidents from 90 days back (standards), deploys from 35 (the
    # week and the four before it)
    window = {
        "earliest": NOW - timedelta(days=90),
        "deploys": NOW - timedelta(days=35),
        "until": NOW,
    }
    start = time.perf_counter()
    async with engine.connect() as conn:
        for query in PLAIN:
            (await conn.execute(text(query), window)).fetchall()
    took = time.perf_counter() - start
    await engine.dispose()
    return took


async def digest_insight(url: str, teams: int) -> tuple[float, int]:
    engine = db.create_engine(url)
    deps = Deps(db.session_factory(engine), Config(), None, None, lambda: NOW)  # type: ignore[arg-type]
    service = InsightService(deps, None, Scorecards())  # type: ignore[arg-type]
    refs = [f"group:default/team-{t}" for t in range(teams)]
    start = time.perf_counter()
    found = await service.for_teams(refs, NOW)
    took = time.perf_counter() - start
    await engine.dispose()
    charted = sum(1 for team in found.values() if not team.chart.empty)
    return took, charted


def chart_times(rounds: int = 20) -> tuple[float, float]:
    from switchboard.bot.insight.service import ChartData

    weeks = [str((NOW - timedelta(weeks=n)).date()) for n in range(11, -1, -1)]
    data = ChartData(
        "Incidents: team bench",
        weeks,
        {s: [(n * 7 + i) % 5 for n in range(12)] for i, s in enumerate(SEVERITIES)},
        [float(1 + n % 4) for n in range(12)],
    )
    colors = {s.name: s.color for s in Config().incidents.severities}

    def empty() -> bytes:
        figure = Figure(figsize=(chart.WIDTH, chart.HEIGHT), dpi=chart.DPI)
        FigureCanvasAgg(figure)
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()

    chart.draw(data, colors), empty()  # warm: fonts, caches
    drawn, blank = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        chart.draw(data, colors)
        drawn.append(time.perf_counter() - start)
        start = time.perf_counter()
        empty()
        blank.append(time.perf_counter() - start)
    return statistics.median(drawn), statistics.median(blank)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--deploys", type=int, default=500_000)
    parser.add_argument("--teams", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'insight.db'}"
        start = time.perf_counter()
        await seed(url, args.incidents, args.deploys, args.teams)
        print(
            f"seeded {args.incidents} incidents, {args.deploys} deploys, {args.teams} teams "
            f"in {time.perf_counter() - start:.1f} s"
        )
        plain = await plain_reads(url)
        ours, charted = await digest_insight(url, args.teams)
        plain_again = await plain_reads(url)  # the cache warm for both: the better of two
        plain = min(plain, plain_again)
        print(f"plain SQL reads of the same rows: {plain * 1000:.0f} ms")
        print(f"insight for every team's digest: {ours * 1000:.0f} ms ({charted} teams charted)")
        print(f"ratio: {ours / plain:.2f}x the plain reads (aim: 2x at most)")
    drawn, blank = chart_times()
    print(
        f"one chart: {drawn * 1000:.1f} ms, an empty Agg figure to PNG: {blank * 1000:.1f} ms "
        f"({drawn / blank:.1f}x; aim: 100 ms at most)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

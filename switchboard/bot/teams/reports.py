"""What the team-wide jobs (scorecard nags, weekly digest, initiative reminders) share: their
dependencies, the catalog in outline, the teams that own something, and initiative progress
from stored results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.catalog.api import CatalogReader, Entity
from switchboard.bot.platform.deps import Deps
from switchboard.bot.scorecards.api import (
    Progress,
    Scorecard,
    ScorecardResults,
    ScorecardService,
    Standing,
    initiatives,
)
from switchboard.bot.teams.channels import SkipLog
from switchboard.storage import catalog_store

Standings = Mapping[tuple[str, str], Standing]  # by (scorecard id, service ref)


class TeamJob:
    """A scheduled job that tells teams about their services, through the ledger."""

    what = "team job"  # how its log lines start

    def __init__(
        self,
        deps: Deps,
        owner: CatalogReader,
        scorecards: ScorecardService,
        results: ScorecardResults,
    ) -> None:
        self._sessions = deps.sessions
        self._config = deps.config
        self._owner = owner
        self._scorecards = scorecards
        self._results = results
        self._delivery = deps.delivery
        self._clock = deps.clock
        self._skips = SkipLog(self.what)

    async def _evaluated(self) -> str:
        """Make sure the stored results are this moment's: the scorecards read and evaluated
        (a database never evaluated, or a run on its own, would otherwise read no results and
        tell teams that no scorecard applies). "" when evaluated; else why nothing could be."""
        await self._scorecards.ensure_loaded(self._config.scorecards.paths)
        if not self._scorecards.scorecards:
            return not_evaluated(self._scorecards.problems)
        await self._results.ensure_fresh(
            timedelta(minutes=self._config.scorecards.evaluate_minutes)
        )
        return ""

    def _local_now(self) -> datetime:
        return self._clock().astimezone(self._config.tz)

    @property
    def _from(self) -> time:
        """When the daily scorecard messages start (`nags.scorecards_at`)."""
        return time.fromisoformat(self._config.nags.scorecards_at)


def not_evaluated(problems: int) -> str:
    """Why no scorecard was evaluated, said plainly (never "no scorecard applies")."""
    if problems:
        return (
            f"no scorecard was evaluated: the scorecard files have {problems} error(s), "
            "which `switchboard scorecards check` shows"
        )
    return "no scorecard was evaluated: none is configured (`scorecards.paths`)"


async def load_catalog(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Entity]:
    """Every entity by ref, with names, owners, channels and what filters read.

    Each row brings its own copy of the strings that rows repeat (kind, namespace, type,
    lifecycle, owner refs, tags): kept once each, 50,000 services take 15 MB less while a
    team job runs."""
    entities: dict[str, Entity] = {}
    once: dict[str, str] = {}
    async with sessions() as session:
        async for rows in catalog_store.outlines(session):
            for r in rows:
                entity = Entity(
                    once.setdefault(r.kind, r.kind),
                    r.name,
                    once.setdefault(r.namespace, r.namespace),
                    type=once.setdefault(r.type, r.type),
                    title=r.title,
                    tier=r.tier,
                    lifecycle=once.setdefault(r.lifecycle, r.lifecycle),
                    tags=[once.setdefault(t, t) for t in r.tags],
                    owners=[once.setdefault(o, o) for o in r.owners],
                    slack_channels=r.slack_channels,
                )
                entities[entity.ref] = entity
    return entities


def teams_owning_something(entities: Mapping[str, Entity]) -> list[Entity]:
    owning = {owner for e in entities.values() for owner in e.owners}
    teams = (e for e in entities.values() if e.kind == "group" and e.ref in owning)
    return sorted(teams, key=lambda e: e.ref)


def team_progress(
    scorecards: Iterable[Scorecard],
    services: Iterable[Entity],
    standings: Standings,
    today: date,
) -> list[tuple[Scorecard, Progress]]:
    """Each initiative's progress over these services (those it covers; the initiatives
    covering none of them are left out)."""
    services = list(services)
    found = []
    for scorecard in scorecards:
        scored = [
            (
                s,
                initiatives.Standing(
                    s.ref,
                    stored.level or None,
                    frozenset(stored.failing),
                    frozenset(stored.withheld),
                ),
            )
            for s in services
            if (stored := standings.get((scorecard.id, s.ref)))
        ]
        for initiative in scorecard.initiatives:
            counted = initiatives.progress(initiative, scorecard, scored, today)
            if counted.total:
                found.append((scorecard, counted))
    return found

"""`/scorecard`: a live evaluation of the loaded scorecards for one service or for a team's
services, with the typed answers that `scorecards.messages` renders.

Scorecards are read from files (`scorecards.paths`) on start and on every catalog sync; a
reload with any `file:line` error keeps the scorecards the bot had. An answer loads only the
facts its rules need: none for catalog-only rules, else those of the services (and their
owning teams) being answered for.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.catalog.api import DEPENDS_ON, CatalogReader, Entity, from_row
from switchboard.bot.facts.api import FactView
from switchboard.bot.scorecards.cql.context import (
    DEPENDENTS,
    ONCALL,
    PUSHED,
    RECORDS,
    FactAge,
    FactTable,
)
from switchboard.bot.scorecards.evaluate import (
    Sources,
    applies,
    evaluate,
    lookback_days,
    reads_cql,
    reads_teams,
)
from switchboard.bot.scorecards.initiatives import Progress, Standing, in_scope, progress
from switchboard.bot.scorecards.loader import LoadResult, load_paths
from switchboard.bot.scorecards.model import (
    CqlRule,
    IncidentCount,
    MeanTimeToResolve,
    NoOldUnresolvedIncidents,
    NoOverdueFollowUps,
    Scorecard,
    ServiceResult,
)
from switchboard.storage import catalog_store, incident_store, scorecard_facts
from switchboard.storage.scorecard_facts import Facts

log = logging.getLogger(__name__)
# The stored live facts of these entity refs (the composition root gives the facts' own)
LiveLoader = Callable[[Sequence[str]], Awaitable[list[FactView]]]

_TEAM_PREFIX = re.compile(r"^team:\s*", re.IGNORECASE)
_REPO_PATH = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]{0,255}")
MAX_GITHUB_PATHS = 50  # paths rules ask GitHub about, besides its own
# code searches rules ask for: each costs one search per repository, at 10 a minute
MAX_GITHUB_SEARCHES = 10
_FACT_RULES = (NoOverdueFollowUps, NoOldUnresolvedIncidents, MeanTimeToResolve, IncidentCount)


@dataclass(slots=True)
class ScorecardResult:
    scorecard: Scorecard
    result: ServiceResult
    initiatives: list[Progress] = field(default_factory=list)  # those the service is in


@dataclass(slots=True)
class ServiceScores:
    """Every scorecard that applies to one service, evaluated now."""

    service: Entity
    results: list[ScorecardResult]


@dataclass(slots=True)
class TeamRow:
    service: Entity
    results: dict[str, ServiceResult]  # by scorecard id; only the scorecards that apply


@dataclass(slots=True)
class TeamScores:
    team: Entity
    scorecards: list[Scorecard]  # those that apply to at least one of its services
    rows: list[TeamRow]  # services some scorecard applies to
    uncovered: list[Entity]  # services no scorecard applies to
    # by scorecard id: its initiatives that cover any of the team's services
    initiatives: dict[str, list[Progress]] = field(default_factory=dict)


@dataclass(slots=True)
class Suggestions:
    query: str
    what: str  # "service" or "team"
    choices: list[Entity]


@dataclass(slots=True)
class NoScorecards:
    """No scorecard is loaded: none configured, or the files never loaded cleanly."""

    problems: int  # errors of the last reload


@dataclass(slots=True)
class Usage:
    pass


Answer = ServiceScores | TeamScores | Suggestions | NoScorecards | Usage


@dataclass(slots=True)
class _Loaded:
    scorecards: list[Scorecard] = field(default_factory=list)
    errors: int = 0


class ScorecardService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        owner: CatalogReader,
        clock: Callable[[], datetime],
        live: LiveLoader | None = None,
        configured: Collection[str] | None = None,
    ) -> None:
        """`configured`: the facts sources set up in this process (the facts' own names:
        "github", "sonarqube"...); None when not known, and rules needing a fact then say
        only what this service lacks."""
        self._live_loader = live
        self.configured = (
            None if configured is None else frozenset(cql_source(s) for s in configured)
        )
        self._sessions = sessions
        self._owner = owner
        self._clock = clock
        self._loaded = _Loaded()
        self._read = False  # whether the files were read at all by this process

    @property
    def scorecards(self) -> list[Scorecard]:
        return list(self._loaded.scorecards)

    def github_searches(self) -> list[str]:
        """The code searches the loaded scorecards' rules ask for (`git.codeSearch` with a
        literal query, checked when the rule was compiled): what the GitHub refresh searches
        for, as its code-search budget allows."""
        queries = {
            key.removeprefix("git.code_search:")
            for key in self._fact_keys()
            if key.startswith("git.code_search:")
        }
        return sorted(queries)[:MAX_GITHUB_SEARCHES]

    def _fact_keys(self) -> set[str]:
        return {
            key
            for scorecard in self._loaded.scorecards
            for rule in scorecard.rules
            if isinstance(rule.check, CqlRule)
            for key in rule.check.compiled.facts
        }

    def github_paths(self) -> list[str]:
        """The repository paths the loaded scorecards' rules ask about (`git.fileExists`
        with a literal path): what the GitHub refresh looks for besides its own."""
        keys = self._fact_keys()
        paths = [k.removeprefix("git.file:") for k in keys if k.startswith("git.file:")]
        # a scorecard file is hostile: plain repository paths only, and a bounded number
        wanted = [p for p in paths if _REPO_PATH.fullmatch(p) and ".." not in p.split("/")]
        return sorted(wanted)[:MAX_GITHUB_PATHS]

    @property
    def problems(self) -> int:
        """The errors of the last reload (0 when it loaded cleanly)."""
        return self._loaded.errors

    async def ensure_loaded(self, paths: Sequence[str]) -> None:
        """Read the scorecard files unless this process did already: a job run on its own
        (`switchboard jobs run`) never synced the catalog, which reads them."""
        if not self._read:
            await self.reload(paths)

    async def reload(self, paths: Sequence[str]) -> LoadResult:
        """Read the scorecard files again. With any error the previous scorecards stay, and
        each problem is logged as `file:line: message`."""
        self._read = True
        if not paths:
            self._loaded = _Loaded()
            return LoadResult()
        result = await asyncio.to_thread(load_paths, list(paths))
        for problem in result.warnings:
            log.warning("scorecards: %s", problem)
        for problem in result.errors:
            log.error("scorecards: %s", problem)
        if result.ok:
            self._loaded = _Loaded(list(result.scorecards))
            log.info("scorecards loaded: %d from %d file(s)", len(result.scorecards), len(paths))
        else:
            self._loaded.errors = len(result.errors)
            log.error(
                "scorecards: %d error(s); keeping the %d scorecard(s) loaded before",
                len(result.errors),
                len(self._loaded.scorecards),
            )
        return result

    async def answer(self, text: str, viewer: str = "") -> Answer:
        """`/scorecard` grammar: nothing or `help` for usage, `team:<name>`, or a service (a
        team's name typed without `team:` answers for the team). As `viewer` (a user id) may
        read it, who sees the detail of rules resting on private incidents they take part
        in; "" for an answer anyone may read."""
        return await self._seen_by(await self._answer(text), viewer)

    async def _answer(self, text: str) -> Answer:
        text = " ".join(text.split())
        if not text or text.casefold() in ("help", "?", "usage"):
            return Usage()
        if _TEAM_PREFIX.match(text):
            name = _TEAM_PREFIX.sub("", text)
            return await self.for_team(name) if name else Usage()
        return await self.for_service(text)

    async def for_service(self, text: str) -> Answer:
        if not self._loaded.scorecards:
            return NoScorecards(self._loaded.errors)
        found, close = await self._owner.find(text)
        if found is None:
            return Suggestions(text, "service", close)
        if found.kind == "group":
            return await self._team(found)
        return await self._service(found)

    async def for_team(self, name: str) -> Answer:
        if not self._loaded.scorecards:
            return NoScorecards(self._loaded.errors)
        found, close = await self._owner.find(f"team:{name}")
        if found is None:
            return Suggestions(name, "team", close)
        return await self._team(found)

    async def for_ref(self, ref: str, viewer: str = "") -> Answer:
        """The answer for one entity, as chosen from a button (as `answer` for `viewer`)."""
        return await self._seen_by(await self._for_ref(ref), viewer)

    async def _seen_by(self, answer: Answer, viewer: str) -> Answer:
        """A service's answer with the detail of the rules that rest on private incidents
        the viewer takes part in (in all of them); anyone else's keeps them withheld. Only
        a service's answer names rules: a team's counts them."""
        if not viewer or not isinstance(answer, ServiceScores):
            return answer
        private = frozenset(i for item in answer.results for i in item.result.private_incidents)
        if not private:
            return answer
        async with self._sessions() as session:
            insider_of = frozenset(await incident_store.taking_part(session, viewer, list(private)))
        for item in answer.results:
            item.result = item.result.seen_by(insider_of)
        return answer

    async def _for_ref(self, ref: str) -> Answer:
        if not self._loaded.scorecards:
            return NoScorecards(self._loaded.errors)
        async with self._sessions() as session:
            rows = await catalog_store.entities_by_ref(session, [ref])
        if not rows:
            return Suggestions(ref.partition("/")[2] or ref, "service", [])
        entity = from_row(rows[0])
        return await self._team(entity) if entity.kind == "group" else await self._service(entity)

    async def _service(self, service: Entity) -> ServiceScores:
        scorecards = [s for s in self._loaded.scorecards if applies(s.filter, service)]
        facts = await self._facts(scorecards, [service])
        teams = await self._teams(scorecards, [service])
        today = self._today()
        results: list[ScorecardResult] = []
        live = await self._sources(scorecards, [service], ages=True)
        for scorecard in scorecards:
            for result in evaluate(scorecard, [service], facts, today, teams, live):
                standing = [(service, Standing.of(result))]
                initiatives = [
                    progress(initiative, scorecard, standing, today)
                    for initiative in scorecard.initiatives
                    if in_scope(initiative, scorecard, service)
                ]
                results.append(ScorecardResult(scorecard, result, initiatives))
        return ServiceScores(service, results)

    async def _team(self, team: Entity) -> TeamScores:
        async with self._sessions() as session:
            owned = [from_row(row) for row in await catalog_store.owned_by(session, [team.ref])]
        loaded = self._loaded.scorecards
        scorecards = [s for s in loaded if any(applies(s.filter, e) for e in owned)]
        facts = await self._facts(scorecards, owned)
        teams = await self._teams(scorecards, owned)
        today = self._today()
        rows = {e.ref: TeamRow(e, {}) for e in owned}
        live = await self._sources(scorecards, owned)
        for scorecard in scorecards:
            for result in evaluate(scorecard, owned, facts, today, teams, live):
                rows[result.service].results[scorecard.id] = result
        covered = [row for row in rows.values() if row.results]
        uncovered = [row.service for row in rows.values() if not row.results]
        return TeamScores(
            team, scorecards, covered, uncovered, _initiatives(scorecards, covered, today)
        )

    async def _facts(
        self, scorecards: Sequence[Scorecard], services: Sequence[Entity] | None
    ) -> Facts:
        """The incident and follow-up facts of these services and their owners (of every
        service and team when None), and only when some rule reads them."""
        if not any(
            isinstance(r.check, _FACT_RULES)
            or (isinstance(r.check, CqlRule) and RECORDS in r.check.compiled.sources)
            for s in scorecards
            for r in s.rules
        ):
            return Facts()
        today = self._today()
        since = datetime.combine(today - timedelta(days=lookback_days(scorecards)), time(), UTC)
        refs = None if services is None else [s.ref for s in services]
        teams = None if services is None else sorted({o for s in services for o in s.owners})
        async with self._sessions() as session:
            return await scorecard_facts.load(session, since, today, refs, teams)

    async def _teams(
        self, scorecards: Sequence[Scorecard], services: Sequence[Entity] | None
    ) -> dict[str, Entity]:
        """The owning teams of these services (every team when None), by ref, and only when
        some rule reads them."""
        if not reads_teams(scorecards):
            return {}
        async with self._sessions() as session:
            if services is None:
                rows = await catalog_store.of_kinds(session, ["group"])
            else:
                owners = sorted({o for s in services for o in s.owners})
                rows = await catalog_store.entities_by_ref(session, owners)
        return {team.ref: team for team in map(from_row, rows) if team.kind == "group"}

    async def _sources(
        self,
        scorecards: Sequence[Scorecard],
        entities: Sequence[Entity],
        *,
        ages: bool = False,
        dependents: dict[str, list[str]] | None = None,
    ) -> Sources:
        """What CQL rules read of these entities besides their incident facts: the stored
        live facts (with their sources and ages when `ages`: one service's answer shows
        them), the sources configured here, and who depends on each (the whole catalog's
        index when given, else read for these entities, and only when a rule asks)."""
        if dependents is None and reads_cql(scorecards, DEPENDENTS):
            async with self._sessions() as session:
                refs = [e.ref for e in entities]
                dependents = await scorecard_facts.dependents(session, DEPENDS_ON, refs)
        live = await self._live(entities, ages) if self._live_loader is not None else None
        return Sources(live, self.configured, dependents)

    async def _live(self, entities: Sequence[Entity], ages: bool) -> FactTable:
        """The stored live facts of these entities (and which sources hold some for each),
        for the CQL rules that read git, sonarqube, on-call or custom facts."""
        assert self._live_loader is not None
        table = FactTable(about={} if ages else None)
        # the owning teams' too: an on-call held by the team is stored under its ref
        refs = {e.ref: None for e in entities} | {o: None for e in entities for o in e.owners}
        for fact in await self._live_loader(list(refs)):
            table.values[(fact.entity, fact.key)] = fact.value
            table.sources.setdefault(fact.entity, set()).add(cql_source(fact.source))
            if table.about is not None:
                table.about[(fact.entity, fact.key)] = FactAge(fact.source, fact.age, fact.stale)
        return table

    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()

    async def evaluate_all(self) -> list[ScorecardResult]:
        """Every entity on every scorecard that applies to it: the scheduled evaluation."""
        scorecards = self._loaded.scorecards
        if not scorecards:
            return []
        # A filter without kinds takes every kind.
        every_kind = any(not s.filter.kinds for s in scorecards)
        kinds = () if every_kind else {k for s in scorecards for k in s.filter.kinds}
        facts = await self._facts(scorecards, None)
        teams = await self._teams(scorecards, None)
        today = self._today()
        found: dict[str, list[ServiceResult]] = {s.id: [] for s in scorecards}
        dependents = None  # the whole catalog's reverse dependencies, read once
        if reads_cql(scorecards, DEPENDENTS):
            async with self._sessions() as session:
                dependents = await scorecard_facts.dependents(session, DEPENDS_ON)
        # A batch at a time: the whole catalog at once held the event loop for seconds.
        async with self._sessions() as session:
            async for rows in catalog_store.of_kinds_in_batches(session, kinds):
                entities = [from_row(row) for row in rows]
                live = await self._sources(scorecards, entities, dependents=dependents or {})
                for scorecard in scorecards:
                    found[scorecard.id] += evaluate(scorecard, entities, facts, today, teams, live)
        return [ScorecardResult(s, result) for s in scorecards for result in found[s.id]]


def cql_source(source: str) -> str:
    """The CQL name of a facts source: what `Context.configured` is asked about."""
    if source in ("pagerduty", "opsgenie", "slack"):
        return ONCALL
    return PUSHED if source.startswith("push:") else source


def _initiatives(
    scorecards: Sequence[Scorecard], rows: Sequence[TeamRow], today: date
) -> dict[str, list[Progress]]:
    """Each scorecard's initiatives over these services, leaving out those covering none."""
    found: dict[str, list[Progress]] = {}
    for scorecard in scorecards:
        standings = [
            (row.service, Standing.of(row.results[scorecard.id]))
            for row in rows
            if scorecard.id in row.results
        ]
        for initiative in scorecard.initiatives:
            if (counted := progress(initiative, scorecard, standings, today)).total:
                found.setdefault(scorecard.id, []).append(counted)
    return found

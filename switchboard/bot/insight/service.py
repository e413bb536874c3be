"""Insight for a scope (a window of days; everyone, a service, a team; a severity) and an
audience: the rows are read once, narrowed to what the audience may count, and handed to
`measures.py`. Every surface asks here.

Private incidents (docs/insight.md, "Private incidents"): a surface posted in a channel
(`public=True`: the digest, charts) leaves them out entirely and says "public incidents
only". An answer seen by one person counts them in the whole window's totals and response
times, when no service or team is asked for; every breakdown (service, team, week, scorecard
level, DORA, repeats) leaves them out, so none can be attributed or dated."""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from switchboard.bot.catalog.api import CatalogReader
from switchboard.bot.insight import measures
from switchboard.bot.insight.measures import (
    Dora,
    FollowThrough,
    Line,
    Response,
    Standards,
)
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.text import duration, safe
from switchboard.bot.scorecards.api import Scorecard
from switchboard.storage import insight_store
from switchboard.storage.insight_store import DeployFact, FollowUpRow, IncidentRow, LevelRow, Owned

DEFAULT_DAYS = 30
MAX_DAYS = 3660
STANDARD_WINDOWS = (28, 90)
CHART_WEEKS = 12
USAGE = (
    "`/incident stats [days] [service:<id>|team:<name>] [sev:<severity>]`, "
    "for example `/incident stats 90 team:payments sev:SEV1`."
)
_WORD = re.compile(r"^(service|team|sev):(.+)$", re.IGNORECASE)


class Unclear(Exception):
    """The scope asked for makes no sense; the message says why and how (mrkdwn, escaped)."""


@dataclass(frozen=True, slots=True)
class Asked:
    """What `/incident stats` (or the command line) asked for, as typed: not yet resolved."""

    days: int = DEFAULT_DAYS
    service: str = ""
    team: str = ""
    severity: str = ""


def parse_asked(text: str) -> Asked:
    """`[days] [service:<id>|team:<name>] [sev:<n>]`, in any order, each at most once."""
    days: int | None = None
    named: dict[str, str] = {}
    for word in text.split():
        match = _WORD.match(word)
        if word.isascii() and word.isdigit() and days is None:  # not "²": int() fails
            days = int(word)
            if not 1 <= days <= MAX_DAYS:
                raise Unclear(f"Look back 1 to {MAX_DAYS} days. Try {USAGE}")
        elif match and match.group(1).casefold() not in named:
            named[match.group(1).casefold()] = match.group(2)
        else:
            raise Unclear(f"I don't understand `{_code(word)}`. Try {USAGE}")
    if "service" in named and "team" in named:
        raise Unclear("Ask for a service or a team, not both.")
    return Asked(
        days or DEFAULT_DAYS, named.get("service", ""), named.get("team", ""), named.get("sev", "")
    )


@dataclass(frozen=True, slots=True)
class Scope:
    days: int
    since: datetime
    until: datetime
    service: str = ""  # ref
    team: str = ""  # ref
    severity: str = ""  # a configured severity name
    label: str = "everyone"  # what the scope is, for people

    @property
    def narrowed(self) -> bool:
        return bool(self.service or self.team)


@dataclass(frozen=True, slots=True)
class ChartData:
    """A chart's numbers: incidents by severity per week, and their median time to resolve."""

    title: str
    weeks: list[str]  # Mondays, ISO dates, oldest first
    counts: dict[str, list[int]]  # severity -> a count per week
    resolve_hours: list[float | None]  # median per week; None with nothing resolved

    @property
    def empty(self) -> bool:
        return not any(sum(c) for c in self.counts.values())


@dataclass(frozen=True, slots=True)
class Insight:
    scope: Scope
    public: bool
    private_counted: int  # private incidents in the totals (0 on a public surface)
    response: Response
    by_service: list[Line]
    by_team: list[Line]
    by_week: list[Line]
    standards: list[Standards]
    dora: Dora
    follow_through: FollowThrough
    names: dict[str, str] = field(default_factory=dict)  # ref -> name

    def name(self, ref: str) -> str:
        return self.names.get(ref, ref)


@dataclass(frozen=True, slots=True)
class TeamWeeks:
    week: Insight  # the last 7 days
    before: Insight  # the 28 days before them
    chart: ChartData  # the last 12 weeks


class InsightService:
    def __init__(
        self,
        deps: Deps,
        catalog: CatalogReader,
        scorecards: Callable[[], Sequence[Scorecard]],
    ) -> None:
        self._sessions = deps.sessions
        self._config = deps.config
        self._clock = deps.clock
        self._catalog = catalog
        self._scorecards = scorecards

    async def scope(self, asked: Asked) -> Scope:
        """The scope `asked` names, resolved in the catalog and the configuration."""
        until = self._clock()
        since = until - timedelta(days=asked.days)
        scope = Scope(asked.days, since, until)
        if asked.severity:
            severity = self._config.incidents.severity(asked.severity)
            if severity is None:
                names = ", ".join(f"`{s.name}`" for s in self._config.incidents.severities)
                raise Unclear(
                    f"`{_code(asked.severity)}` is not a severity. Choose one of {names}."
                )
            scope = replace(scope, severity=severity.name)
        if asked.service:
            entity, close = await self._catalog.find(asked.service)
            if entity is None or entity.kind == "group":
                raise Unclear(f"No service called `{_code(asked.service)}`." + _hint(close))
            scope = replace(scope, service=entity.ref, label=f"service {entity.display_name}")
        if asked.team:
            entity, close = await self._catalog.find(f"team:{asked.team}")
            if entity is None:
                raise Unclear(f"No team called `{_code(asked.team)}`." + _hint(close))
            scope = replace(scope, team=entity.ref, label=f"team {entity.display_name}")
        if scope.severity:
            scope = replace(scope, label=f"{scope.label}, {scope.severity} only")
        return scope

    async def insight(self, scope: Scope, *, public: bool) -> Insight:
        longest = scope.until - timedelta(days=max(STANDARD_WINDOWS))
        loaded = await self._load(
            _earliest(scope.since, longest), scope.until, deploys_since=scope.since
        )
        return self._compute(scope, loaded, public)

    async def for_teams(self, teams: Sequence[str], moment: datetime) -> dict[str, TeamWeeks]:
        """Each team's week to `moment` and the four weeks before it, and its chart's
        numbers (public incidents only): the digest's "How we are doing". One read for all
        teams."""
        week = timedelta(days=7)
        before = moment - 5 * week
        longest = moment - timedelta(days=max(STANDARD_WINDOWS))
        with _gc_paused():
            loaded = await self._load(_earliest(before, longest), moment, deploys_since=before)
            names = {o.ref: o.name for o in loaded.catalog}
            out = {}
            for team in teams:
                label = f"team {names.get(team, team)}"
                # the team's rows narrowed once, for its three scopes
                picked = loaded.picked(Scope(7, moment - week, moment, team=team))
                now = self._compute(
                    Scope(7, moment - week, moment, team=team, label=label),
                    loaded,
                    True,
                    picked,
                    brief=True,
                )
                then = self._compute(
                    Scope(28, before, moment - week, team=team, label=label),
                    loaded,
                    True,
                    picked,
                    brief=True,
                    standards=False,
                )
                chart = self._chart(
                    Scope(
                        7 * CHART_WEEKS, moment - CHART_WEEKS * week, moment, team=team, label=label
                    ),
                    loaded,
                    picked.incidents,
                )
                out[team] = TeamWeeks(now, then, chart)
        return out

    async def home_lines(self, user_id: str, days: int = 28, most: int = 5) -> list[str]:
        """The App Home's key numbers: each of the viewer's teams (at most `most`) over the
        last `days` days. A team's numbers leave private incidents out, as every breakdown."""
        async with self._sessions() as session:
            teams = (await insight_store.teams_of(session, user_id))[:most]
        if not teams:
            return []
        until = self._clock()
        since = until - timedelta(days=days)
        longest = until - timedelta(days=max(STANDARD_WINDOWS))
        loaded = await self._load(_earliest(since, longest), until, deploys_since=since)
        lines = []
        for team in teams:
            scope = Scope(days, since, until, team=team, label=loaded.names.get(team, team))
            lines.append(home_line(self._compute(scope, loaded, True)))
        return lines

    async def chart(self, scope: Scope, weeks: int = CHART_WEEKS) -> ChartData:
        """The last `weeks` weeks of public incidents in `scope`: for a channel."""
        since = scope.until - timedelta(weeks=weeks)
        loaded = await self._load(since, scope.until, deploys_since=scope.until)  # none needed
        return self._chart(replace(scope, days=7 * weeks, since=since), loaded)

    # computing

    def _compute(
        self,
        scope: Scope,
        loaded: _Loaded,
        public: bool,
        picked: _Picked | None = None,
        *,
        brief: bool = False,
        standards: bool = True,
    ) -> Insight:
        """`picked`: the scope's rows when already narrowed (they depend on its service or
        team and severity only). `brief`: no breakdowns (the digest shows none);
        `standards=False`: no standards lines either."""
        picked = picked or loaded.picked(scope)
        services, chosen = picked.services, picked.incidents
        window = [i for i in chosen if scope.since < i.declared_at <= scope.until]
        public_only = [i for i in window if not i.private]
        totals = public_only if public or scope.narrowed else window
        earlier_start = scope.since - measures.REPEAT_WITHIN
        earlier = [
            i for i in chosen if earlier_start < i.declared_at <= scope.since and not i.private
        ]
        severities = [s.name for s in self._config.incidents.severities]
        owners = loaded.owners
        deploys = [d for d in picked.deploys if scope.since < d.finished_at <= scope.until]
        followups = [f for f in picked.followups if not (public and f.private)]
        failure_window = timedelta(hours=self._config.insight.failure_window_hours)
        since_day, today = self._local(scope.since).date(), self._local(scope.until).date()
        return Insight(
            scope=scope,
            public=public,
            private_counted=len(totals) - len(public_only),
            response=measures.response(totals, severities),
            by_service=[]
            if brief
            else measures.breakdown(public_only, lambda i: i.services or ("(no service)",)),
            by_team=[] if brief else measures.breakdown(public_only, lambda i: _teams(i, owners)),
            by_week=[]
            if brief
            else measures.weeks(public_only, self._config.tz, scope.until, self._weeks(scope)),
            standards=self._standards(scope, [i for i in chosen if not i.private], loaded, services)
            if standards
            else [],
            dora=measures.dora(deploys, public_only, scope.since, scope.until, failure_window),
            follow_through=measures.follow_through(
                followups, public_only, earlier, since_day, today, self._config.tz
            ),
            names=loaded.names,
        )

    def _standards(
        self,
        scope: Scope,
        incidents: list[IncidentRow],
        loaded: _Loaded,
        services: set[str] | None,
    ) -> list[Standards]:
        serious = {s.name.upper() for s in self._config.incidents.severities[:2]}
        minimum = (self._config.insight.min_services, self._config.insight.min_incidents)
        out = []
        for card in self._scorecards():
            history = loaded.history_of(card.id, services)
            for days in STANDARD_WINDOWS:
                since = scope.until - timedelta(days=days)
                out.append(
                    measures.standards(
                        card.name,
                        card.levels,
                        history,
                        incidents,
                        serious,
                        since,
                        scope.until,
                        minimum,
                        services,
                    )
                )
        return out

    def _chart(
        self, scope: Scope, loaded: _Loaded, chosen: list[IncidentRow] | None = None
    ) -> ChartData:
        """`chosen`: the scope's incidents when already narrowed."""
        weeks = max(1, scope.days // 7)
        if chosen is None:
            chosen = loaded.narrowed(scope, loaded.services(scope))
        shown = [i for i in chosen if not i.private and scope.since < i.declared_at <= scope.until]
        tz = self._config.tz
        lines = measures.weeks(shown, tz, scope.until, weeks)
        counts = {s.name: [0] * weeks for s in self._config.incidents.severities}
        index = {line.name: n for n, line in enumerate(lines)}
        for incident in shown:
            n = index.get(str(measures.week_of(incident.declared_at, tz)))
            if n is not None:
                counts.setdefault(incident.severity, [0] * weeks)[n] += 1
        hours = [
            round(line.to_resolve.median.total_seconds() / 3600, 2)
            if line.to_resolve.median is not None
            else None
            for line in lines
        ]
        return ChartData(f"Incidents: {scope.label}", [line.name for line in lines], counts, hours)

    # reading

    async def _load(
        self, earliest: datetime, until: datetime, deploys_since: datetime | None = None
    ) -> _Loaded:
        """The rows from `earliest` to `until` (deploys from `deploys_since` when given:
        the most numerous rows, needed for the window only)."""
        async with self._sessions() as session:
            return _Loaded(
                incidents=await insight_store.incidents(session, earliest, until),
                followups=await insight_store.followups(
                    session, self._local(earliest).date(), self._local(until).date()
                ),
                deploys=await insight_store.deploys(
                    session, deploys_since or earliest, until, self._config.insight.environments
                ),
                history=await insight_store.levels(session, until),
                catalog=await insight_store.catalog(session),
            )

    def _weeks(self, scope: Scope) -> int:
        """The weeks (Monday to Sunday, configured time zone) the window touches."""
        tz = self._config.tz
        first, last = measures.week_of(scope.since, tz), measures.week_of(scope.until, tz)
        return (last - first).days // 7 + 1

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self._config.tz)


class _Loaded:
    """The rows of one read, and indexes over them built on first use: a digest narrows the
    same rows to each of thousands of teams."""

    def __init__(
        self,
        incidents: list[IncidentRow],
        followups: list[FollowUpRow],
        deploys: list[DeployFact],
        history: list[LevelRow],
        catalog: list[Owned],
    ) -> None:
        self.incidents, self.followups, self.deploys = incidents, followups, deploys
        self.history, self.catalog = history, catalog
        self.owners = {o.ref: o.owners for o in catalog}
        self.names = {o.ref: o.name for o in catalog}
        self._owned: dict[str, set[str]] = defaultdict(set)
        for entity in catalog:
            for owner in entity.owners:
                self._owned[owner].add(entity.ref)
        self._incidents_by = _index(incidents, lambda i: i.services)
        self._deploys_by = _index(deploys, lambda d: (d.entity,))
        self._followups_by = _index(followups, lambda f: (*f.services, f.owner_team))
        self._history_by = _index(history, lambda h: (f"{h.scorecard}\0{h.service}",))
        self._cards = _index(history, lambda h: (h.scorecard,))

    def picked(self, scope: Scope) -> _Picked:
        """The rows of the scope's service or team (and severity), whatever its window."""
        services = self.services(scope)
        return _Picked(
            services,
            self.narrowed(scope, services),
            self.deploys_of(services),
            self.followups_of(services, scope.team),
        )

    def services(self, scope: Scope) -> set[str] | None:
        """The refs a scope narrows to (a team: what it owns, and the team itself); None for
        everyone."""
        if scope.service:
            return {scope.service}
        if scope.team:
            return self._owned.get(scope.team, set()) | {scope.team}
        return None

    def narrowed(self, scope: Scope, services: set[str] | None) -> list[IncidentRow]:
        found = self.incidents if services is None else _union(self._incidents_by, services)
        return [i for i in found if not scope.severity or i.severity == scope.severity]

    def deploys_of(self, services: set[str] | None) -> list[DeployFact]:
        return self.deploys if services is None else _union(self._deploys_by, services)

    def followups_of(self, services: set[str] | None, team: str) -> list[FollowUpRow]:
        """A team's: of incidents on what it owns, or owned by it."""
        if services is None:
            return self.followups
        return _union(self._followups_by, services | ({team} if team else set()))

    def history_of(self, scorecard: str, services: set[str] | None) -> list[LevelRow]:
        if services is None:
            return [row for _, row in self._cards.get(scorecard, [])]
        return _union(self._history_by, {f"{scorecard}\0{s}" for s in services})


@dataclass(frozen=True, slots=True)
class _Picked:
    services: set[str] | None
    incidents: list[IncidentRow]
    deploys: list[DeployFact]
    followups: list[FollowUpRow]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic collector off while a digest's rows are built and measured: they hold no
    cycles, and each collection rescans all of them (about 40% of the time, profiled)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


T = TypeVar("T")
Index = dict[str, list[tuple[int, T]]]


def _index(rows: list[T], keys: Callable[[T], Iterable[str]]) -> Index[T]:
    """Each key's rows, with their positions in `rows`."""
    index: Index[T] = defaultdict(list)
    for n, row in enumerate(rows):
        for key in dict.fromkeys(keys(row)):
            if key:
                index[key].append((n, row))
    return index


def _union(index: Index[T], keys: set[str]) -> list[T]:
    """The rows under any of `keys`, each once, in their order in the rows indexed."""
    found = {n: row for key in keys for n, row in index.get(key, [])}
    return [found[n] for n in sorted(found)]


def _earliest(since: datetime, other: datetime) -> datetime:
    """What to read for a window from `since`: the 30 days before it too (repeats), and
    the longest standards window."""
    return min(since - measures.REPEAT_WITHIN, other, since)


def _teams(incident: IncidentRow, owners: dict[str, tuple[str, ...]]) -> list[str]:
    """The teams owning the services an incident affected (and teams it named directly)."""
    teams = {t for s in incident.services for t in owners.get(s, ()) if t.startswith("group:")}
    teams |= {s for s in incident.services if s.startswith("group:")}
    return sorted(teams) or ["(no team)"]


def _hint(close: Sequence[object]) -> str:
    names = [str(getattr(e, "name", "")) for e in close[:5]]
    return f" Did you mean {', '.join(f'`{_code(n)}`' for n in names)}?" if names else ""


def _code(text: str) -> str:
    return safe(text.replace("`", "'"), 100)


def home_line(found: Insight) -> str:
    """ "*Shop*: 3 incidents, median to resolve 2 h, change failure rate 40% (low),
    follow-ups on time 33%" (mrkdwn, escaped)."""
    r, d, f = found.response, found.dora, found.follow_through
    parts = [f"{r.incidents} incident{'s' if r.incidents != 1 else ''}"]
    if r.to_resolve.median is not None:
        parts.append(f"median to resolve {duration(r.to_resolve.median)}")
    if d.change_failure_rate is not None:
        parts.append(f"change failure rate {d.change_failure_rate:.0%} ({d.change_failure_band})")
    if f.on_time_rate is not None:
        parts.append(f"follow-ups on time {f.on_time_rate:.0%}")
    return f"• *{safe(found.scope.label, 100)}*: " + ", ".join(parts)

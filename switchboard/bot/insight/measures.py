"""Every insight measure, defined once (docs/insight.md says each in words): incident
response, standards against outcomes, DORA's four keys and follow-through. Pure functions
over the rows `storage/insight_store.py` reads, so every surface (`/incident stats`,
`switchboard stats`, the digest, the charts) shows the same numbers, and the tests compute
the expected values by hand.

Which incidents a surface may count is decided before these run (`Scope`, service.py): no
function here knows of Slack or of audiences."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from switchboard.storage.insight_store import DeployFact, FollowUpRow, IncidentRow, LevelRow

HOUR, DAY, WEEK = timedelta(hours=1), timedelta(days=1), timedelta(days=7)
MONTH = timedelta(days=30)
REPEAT_WITHIN = timedelta(days=30)
FAILED_DEPLOYS = ("failure", "rolled_back")


# Incident response


@dataclass(frozen=True, slots=True)
class Figure:
    """Median and 90th percentile of the durations to one milestone."""

    count: int  # incidents that reached the milestone
    median: timedelta | None
    p90: timedelta | None


def figure(durations: Iterable[timedelta]) -> Figure:
    """The median (the mean of the middle two of an even count) and the p90 by nearest
    rank (the value at position ceil(0.9 n) of the sorted durations)."""
    seconds = sorted(d.total_seconds() for d in durations if d >= timedelta(0))
    if not seconds:
        return Figure(0, None, None)
    p90 = seconds[math.ceil(0.9 * len(seconds)) - 1]
    return Figure(
        len(seconds),
        timedelta(seconds=round(statistics.median(seconds))),
        timedelta(seconds=round(p90)),
    )


def started(incident: IncidentRow) -> datetime:
    """Where response times are measured from: when the impact started, when someone said
    so, else when it was declared."""
    return incident.impact_started_at or incident.declared_at


@dataclass(frozen=True, slots=True)
class Response:
    incidents: int
    from_impact: int  # of them, measured from the impact's start (the rest from declared)
    by_severity: dict[str, int]
    to_acknowledge: Figure
    to_mitigate: Figure
    to_resolve: Figure


def response(incidents: Sequence[IncidentRow], severities: Sequence[str]) -> Response:
    counts = Counter(i.severity for i in incidents)
    by_severity = {s: counts.pop(s, 0) for s in severities} | dict(sorted(counts.items()))

    def to(milestone: Callable[[IncidentRow], datetime | None]) -> Figure:
        return figure(m - started(i) for i in incidents if (m := milestone(i)) is not None)

    return Response(
        incidents=len(incidents),
        from_impact=sum(1 for i in incidents if i.impact_started_at is not None),
        by_severity=by_severity,
        to_acknowledge=to(lambda i: i.acknowledged_at),
        to_mitigate=to(lambda i: i.mitigated_at or i.resolved_at),
        to_resolve=to(lambda i: i.resolved_at),
    )


@dataclass(frozen=True, slots=True)
class Line:
    """One group of a breakdown: its incidents and its time to resolve."""

    name: str
    incidents: int
    to_resolve: Figure


def breakdown(
    incidents: Sequence[IncidentRow], key: Callable[[IncidentRow], Iterable[str]]
) -> list[Line]:
    """Incidents grouped by `key` (one incident may fall in several groups: services),
    most incidents first."""
    groups: dict[str, list[IncidentRow]] = defaultdict(list)
    for incident in incidents:
        for name in set(key(incident)):
            groups[name].append(incident)
    lines = [
        Line(name, len(group), figure(i.resolved_at - started(i) for i in group if i.resolved_at))
        for name, group in groups.items()
    ]
    return sorted(lines, key=lambda line: (-line.incidents, line.name))


def week_of(moment: datetime, tz: tzinfo) -> date:
    """The Monday (in the configured time zone) of the week `moment` falls in."""
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def weeks(incidents: Sequence[IncidentRow], tz: tzinfo, until: datetime, count: int) -> list[Line]:
    """The last `count` weeks to `until`, oldest first, each with its incidents (zeros too)."""
    last = week_of(until, tz)
    firsts = [last - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    lines = {
        line.name: line
        for line in breakdown(incidents, lambda i: [str(week_of(i.declared_at, tz))])
    }
    return [lines.get(str(day), Line(str(day), 0, Figure(0, None, None))) for day in firsts]


# Standards against outcomes


@dataclass(frozen=True, slots=True)
class LevelRate:
    level: str  # "" below the first level
    services: float  # service-equivalents: service-days at the level / days of the window
    incidents: int

    @property
    def rate(self) -> float | None:
        return self.incidents / self.services if self.services else None


@dataclass(frozen=True, slots=True)
class Standards:
    scorecard: str
    days: int
    split: str  # the level the comparison is made at ("below Silver" against "Silver or above")
    levels: list[LevelRate]  # lowest first, "" (no level) first of all
    below: LevelRate
    above: LevelRate
    enough: bool  # False: "too few to compare"

    @property
    def ratio(self) -> float | None:
        """How many times the rate below the split is the rate at or above it."""
        below, above = self.below.rate, self.above.rate
        if not self.enough or below is None or not above:
            return None
        return below / above


def standards(
    scorecard: str,
    level_names: Sequence[str],
    history: Sequence[LevelRow],
    incidents: Sequence[IncidentRow],
    serious: Collection[str],
    since: datetime,
    until: datetime,
    minimum: tuple[int, int],
    services: Collection[str] | None = None,
) -> Standards:
    """SEV1/SEV2 (`serious`) incidents per service at each level of one scorecard (named
    `scorecard`, its `history` only), over
    (since, until]. An incident counts for each affected service at the level that service
    held when it was declared (its last history row at or before then); a service counts
    at each level for the share of the window it held that level (time before its first
    result counts nowhere). `minimum` is (services per group, incidents in all)."""
    spans = _spans(history, since, until)
    if services is not None:
        spans = {s: v for s, v in spans.items() if s in services}
    window = (until - since).total_seconds()
    exposure: defaultdict[str, float] = defaultdict(float)
    for periods in spans.values():
        for level, start, end in periods:
            exposure[level] += (end - start).total_seconds() / window
    counted: Counter[str] = Counter()
    for incident in incidents:
        if incident.severity.upper() not in serious or not since < incident.declared_at <= until:
            continue
        for service in incident.services:
            held = _level_at(spans.get(service, []), incident.declared_at)
            if held is not None:
                counted[held] += 1
    order = ["", *level_names]
    levels = [
        LevelRate(lv, exposure[lv], counted[lv]) for lv in order if exposure[lv] or counted[lv]
    ]
    split = level_names[len(level_names) // 2] if level_names else ""
    at = order.index(split) if split else len(order)
    below = _group(levels, order[:at])
    above = _group(levels, order[at:])
    group_minimum, incident_minimum = minimum
    enough = (
        min(_distinct(spans, order[:at]), _distinct(spans, order[at:])) >= group_minimum
        and below.incidents + above.incidents >= incident_minimum
    )
    return Standards(scorecard, round(window / 86400), split, levels, below, above, enough)


Span = tuple[str, datetime, datetime]


def _spans(history: Sequence[LevelRow], since: datetime, until: datetime) -> dict[str, list[Span]]:
    """Each service's levels over (since, until], from its history rows (in order)."""
    rows: dict[str, list[LevelRow]] = defaultdict(list)
    for row in history:
        rows[row.service].append(row)
    spans: dict[str, list[Span]] = {}
    for service, changes in rows.items():
        periods = []
        for n, row in enumerate(changes):
            end = changes[n + 1].at if n + 1 < len(changes) else until
            start, stop = max(row.at, since), min(end, until)
            if start < stop:
                periods.append((row.level, start, stop))
        if periods:
            spans[service] = periods
    return spans


def _level_at(periods: list[Span], moment: datetime) -> str | None:
    """The level of the last period begun at or before `moment` (periods are in order and
    end where the next begins; the last ends at the window's end)."""
    held = [level for level, start, _ in periods if start <= moment]
    return held[-1] if held else None


def _group(levels: list[LevelRate], names: Sequence[str]) -> LevelRate:
    chosen = [lv for lv in levels if lv.level in names]
    return LevelRate(
        names[0] if names else "",
        sum(lv.services for lv in chosen),
        sum(lv.incidents for lv in chosen),
    )


def _distinct(spans: dict[str, list[Span]], names: Sequence[str]) -> int:
    return sum(1 for periods in spans.values() if any(p[0] in names for p in periods))


# DORA's four keys


ELITE, HIGH, MEDIUM, LOW = "elite", "high", "medium", "low"


@dataclass(frozen=True, slots=True)
class Dora:
    days: int
    deploys: int  # finished production deploys
    per_week: float  # successful ones
    frequency_band: str  # "" with no deploys
    lead_time: Figure  # first commit authored to deploy finished, successful deploys
    lead_time_band: str
    change_failures: int
    change_failure_rate: float | None  # of `deploys`
    change_failure_band: str
    to_restore: Figure  # incidents' start to resolved
    to_restore_band: str


def dora(
    deploys: Sequence[DeployFact],
    incidents: Sequence[IncidentRow],
    since: datetime,
    until: datetime,
    failure_window: timedelta,
) -> Dora:
    """DORA's four keys over (since, until] for the deploys and incidents given (a service's,
    a team's, everyone's). A deploy is a change failure when it failed or was rolled back,
    or an incident on its service started within `failure_window` after it finished."""
    days = (until - since) / DAY
    succeeded = [d for d in deploys if d.status == "success"]
    per_day = len(succeeded) / days if days else 0.0
    lead = figure(d.finished_at - d.first_commit_at for d in succeeded if d.first_commit_at)
    starts: dict[str, list[datetime]] = defaultdict(list)
    for incident in incidents:
        for service in incident.services:
            starts[service].append(started(incident))
    failures = sum(1 for d in deploys if _failed(d, starts.get(d.entity, []), failure_window))
    rate = failures / len(deploys) if deploys else None
    restore = figure(i.resolved_at - started(i) for i in incidents if i.resolved_at)
    return Dora(
        days=round(days),
        deploys=len(deploys),
        per_week=round(per_day * 7, 2),
        frequency_band=frequency_band(per_day) if succeeded else "",
        lead_time=lead,
        lead_time_band=duration_band(lead.median, (DAY, WEEK, MONTH)),
        change_failures=failures,
        change_failure_rate=rate,
        change_failure_band=failure_band(rate),
        to_restore=restore,
        to_restore_band=duration_band(restore.median, (HOUR, DAY, WEEK)),
    )


def _failed(deploy: DeployFact, starts: list[datetime], window: timedelta) -> bool:
    if deploy.status in FAILED_DEPLOYS:
        return True
    return any(deploy.finished_at < s <= deploy.finished_at + window for s in starts)


def frequency_band(per_day: float) -> str:
    """DORA 2023: elite on demand (we say: at least daily), high between daily and weekly,
    medium between weekly and monthly, low less often."""
    if per_day >= 1:
        return ELITE
    if per_day >= 1 / 7:
        return HIGH
    if per_day >= 1 / 30:
        return MEDIUM
    return LOW


def duration_band(value: timedelta | None, bounds: tuple[timedelta, timedelta, timedelta]) -> str:
    """Elite under the first bound, high under the second, medium under the third."""
    if value is None:
        return ""
    for band, bound in zip((ELITE, HIGH, MEDIUM), bounds, strict=True):
        if value < bound:
            return band
    return LOW


def failure_band(rate: float | None) -> str:
    """DORA 2023's clusters: elite 5%, high 10%, medium 15%; above 15% low."""
    if rate is None:
        return ""
    for band, bound in ((ELITE, 0.05), (HIGH, 0.10), (MEDIUM, 0.15)):
        if rate <= bound:
            return band
    return LOW


# Follow-through


@dataclass(frozen=True, slots=True)
class FollowThrough:
    due: int  # follow-ups due in the window
    on_time: int  # of them, done by their due day
    late: int  # done after it
    overdue: int  # open past due now (whenever due)
    wont_do: int
    repeats: int  # incidents declared within 30 days of the resolve of one on the same service
    repeat_services: list[str]  # refs, sorted

    @property
    def on_time_rate(self) -> float | None:
        done = self.on_time + self.late + self.overdue
        return self.on_time / done if done else None


def follow_through(
    followups: Sequence[FollowUpRow],
    incidents: Sequence[IncidentRow],
    earlier: Sequence[IncidentRow],
    since: date,
    today: date,
    tz: tzinfo,
) -> FollowThrough:
    """`incidents` are the window's; `earlier` those declared up to 30 days before it (an
    incident may repeat one of them). Done on time: closed on or before the due day, in the
    configured time zone."""
    in_window = [f for f in followups if f.due is not None and since <= f.due <= today]
    done = [f for f in in_window if f.state == "done" and f.closed_at is not None]
    on_time = sum(1 for f in done if _on_time(f, tz))
    overdue = sum(1 for f in followups if f.state == "open" and f.due is not None and f.due < today)
    repeats, services = _repeats(incidents, [*earlier, *incidents])
    return FollowThrough(
        due=len(in_window),
        on_time=on_time,
        late=len(done) - on_time,
        overdue=overdue,
        wont_do=sum(1 for f in in_window if f.state == "wont_do"),
        repeats=repeats,
        repeat_services=services,
    )


def _on_time(followup: FollowUpRow, tz: tzinfo) -> bool:
    closed, due = followup.closed_at, followup.due
    return closed is not None and due is not None and closed.astimezone(tz).date() <= due


def _repeats(
    incidents: Sequence[IncidentRow], every: Sequence[IncidentRow]
) -> tuple[int, list[str]]:
    resolved: dict[str, list[datetime]] = defaultdict(list)
    for incident in every:
        if incident.resolved_at:
            for service in incident.services:
                resolved[service].append(incident.resolved_at)
    count, services = 0, set()
    for incident in incidents:
        hit = [
            s
            for s in incident.services
            if any(r <= incident.declared_at <= r + REPEAT_WITHIN for r in resolved.get(s, []))
        ]
        if hit:
            count += 1
            services.update(hit)
    return count, sorted(services)

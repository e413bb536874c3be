"""Incident metrics over a window of days: how many were declared, by severity and by
service, how long they took to acknowledge and to resolve (from the milestone columns), and
how many are open now. Private incidents are counted but never named, nor put under their
services: which service had an incident can say which incident it was."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from switchboard.bot.incidents.service import Refused
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.text import duration as duration  # its old home
from switchboard.bot.platform.text import safe
from switchboard.storage import postmortem_stats_store
from switchboard.storage.tables import Incident, IncidentServiceLink

Clock = Callable[[], datetime]
Block = dict[str, Any]
DEFAULT_DAYS = 30
MAX_DAYS = 3660
PRIVATE = "(private)"  # where private incidents are counted instead of under their services
NO_SERVICE = "(no service)"
SHOWN_LINES = 25  # a section's lines in Slack (25 of at most 100 characters); JSON has all


def parse_days(text: str) -> int:
    """The window of `/incident stats [days]`."""
    words = text.split()
    if not words:
        return DEFAULT_DAYS
    if len(words) == 1 and words[0].isdigit() and 1 <= int(words[0]) <= MAX_DAYS:
        return int(words[0])
    raise Refused(f"Say how many days back to look, 1 to {MAX_DAYS}: `/incident stats 90`.")


@dataclass(frozen=True, slots=True)
class Figure:
    """Mean and median time to a milestone, over the incidents that reached it."""

    incidents: int  # how many reached the milestone (the others are left out)
    mean: timedelta | None
    median: timedelta | None


@dataclass(frozen=True, slots=True)
class ServiceCount:
    name: str
    ref: str  # "" for the private and no-service lines
    incidents: int


@dataclass(frozen=True, slots=True)
class Stats:
    days: int
    since: datetime
    until: datetime
    declared: int
    open_now: int  # whenever declared
    by_severity: dict[str, int]  # configured severities, most severe first, zeros included
    by_service: list[ServiceCount]  # most incidents first
    to_acknowledge: Figure
    to_resolve: Figure


class StatsService:
    def __init__(self, deps: Deps) -> None:
        self._sessions = deps.sessions
        self._config = deps.config.incidents
        self._clock = deps.clock

    async def stats(self, days: int = DEFAULT_DAYS) -> Stats:
        until = self._clock()
        since = until - timedelta(days=days)
        async with self._sessions() as session:
            incidents = await postmortem_stats_store.declared_between(session, since, until)
            links = await postmortem_stats_store.services_declared_between(session, since, until)
            open_now = await postmortem_stats_store.open_count(session)
        return Stats(
            days=days,
            since=since,
            until=until,
            declared=len(incidents),
            open_now=open_now,
            by_severity=self._by_severity(incidents),
            by_service=_by_service(incidents, links),
            to_acknowledge=_figure(
                [i.acknowledged_at - i.declared_at for i in incidents if i.acknowledged_at]
            ),
            to_resolve=_figure([i.resolved_at - i.declared_at for i in incidents if i.resolved_at]),
        )

    def _by_severity(self, incidents: list[Incident]) -> dict[str, int]:
        counts = Counter(i.severity for i in incidents)
        # Severities no longer configured still count, after the configured ones.
        return {s.name: counts.pop(s.name, 0) for s in self._config.severities} | dict(counts)


def _by_service(incidents: list[Incident], links: list[IncidentServiceLink]) -> list[ServiceCount]:
    private = {i.id for i in incidents if i.private or i.security}
    # Links of the incidents read only: one declared between the two reads is left out.
    public = {i.id for i in incidents} - private
    public_links = [link for link in links if link.incident_id in public]
    names = {link.entity_ref: link.name or link.entity_ref for link in public_links}
    counts = Counter(link.entity_ref for link in public_links)
    lines = [ServiceCount(names[r], r, n) for r, n in counts.items()]
    lines.sort(key=lambda line: (-line.incidents, line.name.casefold()))
    unlinked = public - {link.incident_id for link in links}
    extra = [ServiceCount(PRIVATE, "", len(private)), ServiceCount(NO_SERVICE, "", len(unlinked))]
    return lines + [line for line in extra if line.incidents]


def _figure(durations: list[timedelta]) -> Figure:
    if not durations:
        return Figure(0, None, None)
    seconds = [d.total_seconds() for d in durations]
    return Figure(
        len(durations),
        timedelta(seconds=round(statistics.mean(seconds))),
        timedelta(seconds=round(statistics.median(seconds))),
    )


# Showing them


def _sections(stats: Stats) -> list[tuple[str, list[str]]]:
    """(heading, lines) in plain text, for Slack and for the terminal alike."""
    severities = [f"{name}: {n}" for name, n in stats.by_severity.items()]
    services = [f"{s.name}: {s.incidents}" for s in stats.by_service]
    return [
        ("By severity", severities),
        ("By service", services or ["none"]),
        (
            "Time to acknowledge",
            [_figure_line(stats.to_acknowledge, stats.declared, "acknowledged")],
        ),
        ("Time to resolve", [_figure_line(stats.to_resolve, stats.declared, "resolved")]),
    ]


def _summary(stats: Stats) -> str:
    return (
        f"{stats.declared} incident{'s' if stats.declared != 1 else ''} declared in the last "
        f"{stats.days} day{'s' if stats.days != 1 else ''}; {stats.open_now} open now."
    )


def _figure_line(figure: Figure, declared: int, reached: str) -> str:
    if figure.mean is None or figure.median is None:
        return f"none {reached} yet"
    return (
        f"mean {duration(figure.mean)}, median {duration(figure.median)} "
        f"(over the {figure.incidents} of {declared} that were {reached})"
    )


def text(stats: Stats) -> str:
    """For the terminal."""
    out = [_summary(stats)]
    for heading, lines in _sections(stats):
        out += [f"{heading}:", *(f"  {line}" for line in lines)]
    return "\n".join(out)


def blocks(stats: Stats) -> tuple[str, list[Block]]:
    """For Slack: a few sections, each within Block Kit's 3000 characters."""
    summary = _summary(stats)
    out: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Incident stats"}},
        kit.section(f"*{summary}*"),
    ]
    for heading, lines in _sections(stats):
        shown = [safe(line, 100) for line in lines[:SHOWN_LINES]]
        if len(lines) > SHOWN_LINES:
            shown.append(f"…and {len(lines) - SHOWN_LINES} more")
        out.append(kit.section(f"*{heading}*\n" + "\n".join(shown)))
    return summary, out


def as_json(stats: Stats) -> dict[str, Any]:
    return {
        "days": stats.days,
        "since": stats.since.isoformat(),
        "until": stats.until.isoformat(),
        "declared": stats.declared,
        "open_now": stats.open_now,
        "by_severity": stats.by_severity,
        "by_service": [
            {"name": s.name, "ref": s.ref, "incidents": s.incidents} for s in stats.by_service
        ],
        "time_to_acknowledge": _figure_json(stats.to_acknowledge),
        "time_to_resolve": _figure_json(stats.to_resolve),
    }


def _figure_json(figure: Figure) -> dict[str, Any]:
    def seconds(value: timedelta | None) -> int | None:
        return None if value is None else int(value.total_seconds())

    return {
        "incidents": figure.incidents,
        "mean_seconds": seconds(figure.mean),
        "median_seconds": seconds(figure.median),
        "mean": duration(figure.mean) if figure.mean is not None else None,
        "median": duration(figure.median) if figure.median is not None else None,
    }

"""How healthy a service is, in the one line `/owner` shows under who is on call: each
scorecard's level, its open incidents, its incidents' overdue follow-ups, its coverage and
open critical or high vulnerabilities when SonarQube and GitHub said, and the worst of its
live facts (a failing source, else the stalest value). Private incidents count only
for those taking part in them: the line of a shared answer counts public ones only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.facts.api import FactView, LiveFacts, source_name
from switchboard.bot.platform.text import plural, safe
from switchboard.bot.scorecards.api import ScorecardResults, ScorecardService
from switchboard.storage import service_health_store

SEPARATOR = " · "


class ServiceHealth:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        scorecards: ScorecardService,
        results: ScorecardResults,
        facts: LiveFacts,
        clock: Callable[[], datetime],
        tz: tzinfo,
    ) -> None:
        self._sessions = sessions
        self._scorecards, self._results, self._facts = scorecards, results, facts
        self._clock, self._tz = clock, tz

    async def line(self, ref: str, viewer: str) -> str:
        """`viewer` is the Slack user asking ("" for an answer shared in a channel)."""
        today = self._clock().astimezone(self._tz).date()
        async with self._sessions() as session:
            counts = await service_health_store.counts(session, ref, viewer, today)
        parts = [
            *await self._levels(ref),
            plural(counts.open_incidents, "open incident"),
            plural(counts.overdue_followups, "overdue follow-up"),
        ]
        facts = await self._facts.facts_of([ref])
        parts += highlights(facts)
        if worst := worst_fact(facts):
            parts.append(worst)
        return ":stethoscope: " + SEPARATOR.join(parts)

    async def _levels(self, ref: str) -> list[str]:
        standings = await self._results.now([ref])
        found = []
        for card in self._scorecards.scorecards:
            standing = standings.get((card.id, ref))
            if standing is not None:
                level = safe(standing.level or "no level yet", 100)
                found.append(f"{safe(card.name, 100)}: *{level}*")
        return found


def highlights(facts: Sequence[FactView]) -> list[str]:
    """What the code says, when a source told us: coverage, and open critical and high
    vulnerabilities."""
    found = []
    values = {f.key: f.value for f in facts}
    coverage = values.get("sonarqube.coverage")
    if isinstance(coverage, int | float) and not isinstance(coverage, bool):
        found.append(f"coverage {coverage:g}%")
    alerts = values.get("git.vulnerabilities")
    if isinstance(alerts, dict):
        counts = [(alerts.get(s), s.lower()) for s in ("CRITICAL", "HIGH")]
        named = [f"{n} {name}" for n, name in counts if isinstance(n, int) and n > 0]
        found.append(
            ", ".join(named) + " vulnerabilities"
            if named
            else "no critical or high vulnerabilities"
        )
    return found


def worst_fact(facts: Sequence[FactView]) -> str:
    """A failing source's error first, else the stalest value past its time; "" when all
    are fresh."""
    failing = [f for f in facts if f.error]
    if failing:
        first = max(failing, key=lambda f: f.age)
        return f":warning: {safe(source_name(first.source), 60)} failing ({safe(first.error, 80)})"
    stale = [f for f in facts if f.stale]
    if stale:
        oldest = max(stale, key=lambda f: f.age)
        return f":hourglass: {safe(source_name(oldest.source), 60)} last heard {oldest.age_text}"
    return ""

"""The facts' public face: what other features (the catalog's `/owner`, scorecards,
incidents) and the composition root may use of them. `LiveFacts` holds the store, the
configured sources and the refresh engine; readers only ever read stored facts (no network
on a request's path)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.catalog.api import Entity, from_row
from switchboard.bot.facts.engine import RefreshEngine as RefreshEngine
from switchboard.bot.facts.engine import Report as Report
from switchboard.bot.facts.freshness import FactView as FactView
from switchboard.bot.facts.freshness import age_text as age_text
from switchboard.bot.facts.freshness import views
from switchboard.bot.facts.source import Source, Target
from switchboard.bot.facts.targets import targets_of
from switchboard.bot.facts.wiring import SourceStatus as SourceStatus
from switchboard.bot.facts.wiring import build_sources as build_sources
from switchboard.bot.facts.wiring import status
from switchboard.storage import catalog_store
from switchboard.storage.facts_store import FactsStore as FactsStore

LABELS = {
    "pagerduty": "PagerDuty's on-call",
    "opsgenie": "Opsgenie's on-call",
    "slack": "Slack user groups' members",
    "github": "GitHub repositories",
    "sonarqube": "SonarQube's measures",
}


def process_owner() -> str:
    """Who holds a source's lease: this process, told apart from its replicas."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class OnCallNow:
    """Who is on call for an entity, as last stored."""

    now: list[dict[str, Any]]
    next: list[dict[str, Any]]
    age: timedelta
    stale: bool
    source: str


class LiveFacts:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sources: dict[str, Source],
        clock: Callable[[], datetime],
        *,
        owner: str = "",
        github_host: str = "github.com",
    ) -> None:
        self._sessions = sessions
        self.store = FactsStore(sessions)
        self.sources = sources
        self._clock = clock
        self._github_host = github_host
        self.engine = RefreshEngine(self.store, clock, owner or process_owner())

    async def targets(self, source: str) -> list[Target]:
        """What `source` is asked about: each catalog entity's target there."""
        found: list[Target] = []
        async with self._sessions() as session:
            async for rows in catalog_store.of_kinds_in_batches(session, ()):
                for row in rows:
                    found += [t for t in self._targets(from_row(row)) if t.source == source]
        return found

    def _targets(self, entity: Entity) -> list[Target]:
        return targets_of(entity, github_host=self._github_host)

    async def refresh(self, source: str, *, force: bool = False) -> Report:
        return await self.engine.refresh(
            self.sources[source], await self.targets(source), force=force
        )

    async def status(self) -> list[SourceStatus]:
        return await status(self.store, self.sources)

    async def status_lines(self) -> list[str]:
        now = self._clock()
        return [s.line(now) for s in await self.status()]

    async def facts(self, entity: str) -> list[FactView]:
        return views(await self.store.facts(entity), self._clock())

    async def oncall(self, entity: str) -> OnCallNow | None:
        """The stored `oncall.now` and `oncall.next` of `entity`; None when never fetched."""
        facts = {f.key: f for f in await self.facts(entity)}
        now = facts.get("oncall.now")
        if now is None:
            return None
        upcoming = facts.get("oncall.next")
        return OnCallNow(
            _people(now.value),
            _people(upcoming.value) if upcoming else [],
            now.age,
            now.stale,
            now.source,
        )


def _people(value: Any) -> list[dict[str, Any]]:
    return [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []


def summary(report: Report) -> str:
    """What a refresh job says it did."""
    if report.skipped:
        return f"{report.source}: skipped, {report.skipped}"
    line = (
        f"{report.source}: {report.fetched} of {report.due} due fetched, "
        f"{report.changed} value(s) changed"
    )
    if report.errors:
        line += f"; {len(report.errors)} failed: " + "; ".join(report.errors[:3])
    if report.stopped:
        line += f"; stopped: {report.stopped}"
    return line


def until_text(person: dict[str, Any], tz: tzinfo) -> str:
    """ "until 18:00" in the configured time zone, "" when the shift has no end."""
    end = str(person.get("end") or "")
    if not end:
        return ""
    try:
        at = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return f"until {at.astimezone(tz):%H:%M}"

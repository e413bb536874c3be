"""The facts' public face: what other features (the catalog's `/owner`, scorecards,
incidents) and the composition root may use of them. `LiveFacts` holds the store, the
configured sources and the refresh engine; readers only ever read stored facts (no network
on a request's path)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import socket
import uuid
from collections.abc import Callable, Sequence
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
from switchboard.bot.facts.source import Source, SourceError, Target
from switchboard.bot.facts.targets import oncall_target, targets_of
from switchboard.bot.facts.wiring import SourceStatus as SourceStatus
from switchboard.bot.facts.wiring import build_sources as build_sources
from switchboard.bot.facts.wiring import status
from switchboard.bot.platform.text import safe
from switchboard.storage import catalog_store
from switchboard.storage.facts_store import DeployRow as DeployRow
from switchboard.storage.facts_store import FactsStore as FactsStore

ONCALL_CACHE = timedelta(seconds=15)
# A cold miss (nothing stored yet) asks the source once, within this, at most once a minute
# per entity: a source that is down is not asked on every `/owner`.
COLD_MISS_SECONDS = 5.0
ONCALL_SOURCES = ("pagerduty", "opsgenie", "slack")  # the sources that say who is on call
COLD_MISS_EVERY = timedelta(minutes=1)
_MAX_CACHED = 10_000
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
LABELS = {
    "pagerduty": "PagerDuty's on-call",
    "opsgenie": "Opsgenie's on-call",
    "slack": "Slack user groups' members",
    "github": "GitHub repositories",
    "sonarqube": "SonarQube's measures",
}


_SOURCE_NAMES = {
    "pagerduty": "PagerDuty",
    "opsgenie": "Opsgenie",
    "slack": "Slack",
    "github": "GitHub",
    "sonarqube": "SonarQube",
}


def source_name(source: str) -> str:
    """How a fact's source is named to people: the tool's name, or a pusher's token name."""
    return _SOURCE_NAMES.get(source, source)


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


CATALOG = "catalog"  # the source of facts read from catalog files (custom metadata)


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
        # `/owner` asks again and again: who is on call, kept a few seconds per entity
        self._oncalls: dict[str, tuple[datetime, OnCallNow | None]] = {}
        # the repository paths the loaded scorecards' rules ask about (`git.fileExists`),
        # given by the composition root: GitHub is asked for them besides the usual ones
        self.github_paths: Callable[[], Sequence[str]] = tuple
        # and the code searches they ask for (`git.codeSearch` with a literal query)
        self.github_searches: Callable[[], Sequence[str]] = tuple
        self._cold_asked: dict[str, datetime] = {}
        self._cold_looked: dict[str, datetime] = {}  # by the refs asked about

    async def targets(self, source: str) -> list[Target]:
        """What `source` is asked about: each catalog entity's target there."""
        found: list[Target] = []
        async with self._sessions() as session:
            async for rows in catalog_store.of_kinds_in_batches(session, ()):
                for row in rows:
                    found += [t for t in self._targets(from_row(row)) if t.source == source]
        return found

    def _targets(self, entity: Entity) -> list[Target]:
        return targets_of(
            entity,
            github_host=self._github_host,
            paths=self.github_paths(),
            searches=self.github_searches(),
        )

    async def refresh(self, source: str, *, force: bool = False) -> Report:
        report = await self.engine.refresh(
            self.sources[source], await self.targets(source), force=force
        )
        self._oncalls.clear()
        return report

    async def status(self) -> list[SourceStatus]:
        return await status(self.store, self.sources)

    async def status_lines(self) -> list[str]:
        now = self._clock()
        return [s.line(now) for s in await self.status()]

    async def facts_of(self, entities: Sequence[str]) -> list[FactView]:
        """The stored facts of these entities, for scorecards (no network), with the
        catalog's custom metadata as `custom.<key>` facts of source "catalog" (a value
        pushed under the same key wins: it is the newer word)."""
        now = self._clock()
        stored = views(await self.store.facts_of(entities), now)
        async with self._sessions() as session:
            custom = await catalog_store.custom_of(session, entities)
        held = {(f.entity, f.key) for f in stored}
        from_catalog = [
            FactView(ref, key, CATALOG, value, now, timedelta(0), False, "")
            for ref, values in custom.items()
            for name, value in values.items()
            if (ref, key := f"custom.{name}") not in held
        ]
        return stored + from_catalog

    async def oncall(self, entity: str) -> OnCallNow | None:
        """The stored `oncall.now` and `oncall.next` of `entity`; None when never fetched."""
        stored = views(await self.store.facts(entity), self._clock())
        facts = {f.key: f for f in stored}
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

    async def oncall_line(self, refs: Sequence[str], tz: tzinfo) -> str:
        """`/owner`'s line: "On call now: <@U1> (level 1, until 18:00 UTC; next <@U2>)",
        with "as of 12 min ago" when the stored value is stale; for the first of `refs`
        with a stored on-call, "" when none has and the source cannot say (`_oncall_of`)."""
        found = await self._oncall_of(refs)
        return oncall_text(found, tz) if found is not None else ""

    async def oncall_users(self, refs: Sequence[str]) -> list[str]:
        """The Slack user ids on call now (every level) for the first of `refs` with a
        on-call (`_oncall_of`): whom `/incident declare` invites."""
        found = await self._oncall_of(refs)
        if found is None:
            return []
        ids = [str(p.get("user_id") or "") for p in found.now]
        return list(dict.fromkeys(i for i in ids if _USER_ID.fullmatch(i)))

    async def _oncall_of(self, refs: Sequence[str]) -> OnCallNow | None:
        """The stored on-call of the first of `refs` that has one; when none has, what the
        source says now of the first with an on-call target (a cold miss)."""
        for ref in refs:
            if (found := await self._cached_oncall(ref)) is not None:
                return found
        return await self._cold_miss(refs)

    async def _cold_miss(self, refs: Sequence[str]) -> OnCallNow | None:
        """One round trip to the source, stored as a refresh stores it; None when the
        source is not configured, fails, is slow, or was asked within `COLD_MISS_EVERY`.
        The catalog is read for the same refs at most as often: an entity nobody can ask
        about costs every declare and `/owner` of it nothing more."""
        if not any(name in self.sources for name in ONCALL_SOURCES):
            return None  # nothing could answer: no read of the catalog either
        now = self._clock()
        if not _first_this_minute(self._cold_looked, "\n".join(refs), now):
            return None
        async with self._sessions() as session:
            rows = await catalog_store.entities_by_ref(session, list(refs))
        targets = {row.ref: oncall_target(from_row(row)) for row in rows}
        target = next((t for ref in refs if (t := targets.get(ref)) is not None), None)
        if target is None or (source := self.sources.get(target.source)) is None:
            return None
        if not _first_this_minute(self._cold_asked, target.entity, now):
            return None
        try:
            async with asyncio.timeout(COLD_MISS_SECONDS):
                await self.engine.fetch_one(source, target)
        except (SourceError, TimeoutError):
            return None  # the card still says how to page them
        self._oncalls.pop(target.entity, None)
        return await self._cached_oncall(target.entity)

    async def _cached_oncall(self, ref: str) -> OnCallNow | None:
        now = self._clock()
        kept = self._oncalls.get(ref)
        if kept is not None and now - kept[0] < ONCALL_CACHE:
            found = kept[1]
            return dataclasses.replace(found, age=found.age + (now - kept[0])) if found else None
        found = await self.oncall(ref)
        if len(self._oncalls) >= _MAX_CACHED:
            self._oncalls.clear()
        self._oncalls[ref] = (now, found)
        return found


def _first_this_minute(asked: dict[str, datetime], key: str, now: datetime) -> bool:
    """Whether `key` was not asked about within `COLD_MISS_EVERY`; it counts as asked now."""
    last = asked.get(key)
    if last is not None and now - last < COLD_MISS_EVERY:
        return False
    if len(asked) >= _MAX_CACHED:
        asked.clear()
    asked[key] = now
    return True


def oncall_text(found: OnCallNow, tz: tzinfo) -> str:
    first = min((_level(p) for p in found.now), default=1)
    now = [p for p in found.now if _level(p) == first]
    upcoming = [p for p in found.next if _level(p) == first] or found.next[:1]
    if not now:
        line = "On call now: nobody"
    else:
        details = [f"level {first}"]
        if until := until_text(now[0], tz):
            details.append(until)
        detail = ", ".join(details)
        if upcoming:
            detail += "; next " + ", ".join(_mention(p) for p in upcoming[:3])
        line = f"On call now: {', '.join(_mention(p) for p in now[:3])} ({detail})"
    if found.stale:
        line += f", as of {age_text(found.age)}"
    return line


def _level(person: dict[str, Any]) -> int:
    level = person.get("level")
    return level if isinstance(level, int) else 1


def _mention(person: dict[str, Any]) -> str:
    user_id = str(person.get("user_id") or "")
    if _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return safe(str(person.get("name") or person.get("email") or "someone"), 100)


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
    local = at.astimezone(tz)
    return f"until {local:%H:%M} {local.tzname() or ''}".rstrip()

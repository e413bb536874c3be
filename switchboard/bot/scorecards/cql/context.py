"""What a CQL rule reads, prefetched: the catalog entity, facts by key, incident records.

Evaluation never calls out: whoever evaluates loads every fact and record first, in a few
set-based queries, and hands them over as a `Context`. `Snapshot` is the plain in-memory one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from switchboard.bot.catalog.api import Entity

# Sources a rule may need, as `Context.configured` names them.
GITHUB, SONARQUBE, ONCALL, PUSHED = "github", "sonarqube", "oncall", "pushed"
RECORDS = "records"  # our own incidents: always there, and private ones among them
DEPENDENTS = "dependents"  # the catalog's reverse dependencies: loaded as one index per run


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """One of our incidents as an on-call rule reads it. Private ones count like any other:
    a rule's outcome never names or dates an incident."""

    declared_at: datetime
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None
    severity: str = ""
    private: bool = False


class Facts(Protocol):
    def get(self, entity_ref: str, key: str) -> Any | None:
        """The stored value of a fact (decoded JSON), None when there is none."""

    def configured(self, entity_ref: str, source: str) -> bool:
        """Whether `source` (GITHUB, SONARQUBE...) is set up for this entity: a rule that
        needs a source that is not is told apart from one that evaluated to false."""


class Context(Protocol):
    """Everything besides the entity itself that a rule may read."""

    @property
    def now(self) -> datetime: ...

    @property
    def facts(self) -> Facts: ...

    def incidents(self, entity_ref: str) -> Sequence[IncidentRecord]: ...

    def dependents(self, entity_ref: str) -> Sequence[str]:
        """Refs of the entities that declare a dependency on this one."""

    def team(self, ref: str) -> Entity | None:
        """An owning team, for on-call held by the team rather than the service."""


@dataclass(frozen=True, slots=True)
class FactAge:
    """Where a stored fact came from and how old it is, as a rule's outcome tells it."""

    source: str  # the facts source: "github", "sonarqube", "pagerduty", "push:ci"...
    age: timedelta
    stale: bool  # past its TTL, or its source failed since (bot/facts/freshness.py)


@dataclass(slots=True)
class FactTable:
    """Facts in memory, by (entity ref, key); `sources` by entity ref, `everywhere` for a
    source configured for every entity (an integration with no per-service setting);
    `about`, when given, each fact's source and age (what `/scorecard` shows)."""

    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    sources: dict[str, set[str]] = field(default_factory=dict)
    everywhere: Collection[str] = ()
    about: dict[tuple[str, str], FactAge] | None = None

    def get(self, entity_ref: str, key: str) -> Any | None:
        return self.values.get((entity_ref, key))

    def configured(self, entity_ref: str, source: str) -> bool:
        return source in self.everywhere or source in self.sources.get(entity_ref, ())


@dataclass(slots=True)
class Snapshot:
    now: datetime
    facts: FactTable = field(default_factory=FactTable)
    records: Mapping[str, Sequence[IncidentRecord]] = field(default_factory=dict)
    dependents_of: Mapping[str, Sequence[str]] = field(default_factory=dict)
    teams: Mapping[str, Entity] = field(default_factory=dict)

    def incidents(self, entity_ref: str) -> Sequence[IncidentRecord]:
        return self.records.get(entity_ref, ())

    def dependents(self, entity_ref: str) -> Sequence[str]:
        return self.dependents_of.get(entity_ref, ())

    def team(self, ref: str) -> Entity | None:
        return self.teams.get(ref)

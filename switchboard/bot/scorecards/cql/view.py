"""A `Context` over what the scorecard evaluator holds: the service's incident facts, the
owning teams, and the live facts when there are some.

Until the live-facts store feeds evaluation, GitHub counts as configured for a service
with a repository link (what `git != null` meant before CQL), and facts come only from
`live`; rules that read one that is missing say what they need instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from switchboard.bot.catalog.api import Entity
from switchboard.bot.scorecards.cql.context import GITHUB, Facts, IncidentRecord
from switchboard.bot.scorecards.cql.data import Needs

CATALOG = "catalog"


class Incident(Protocol):
    """What storage's incident facts hold (no acknowledgement time there yet)."""

    @property
    def declared_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def severity(self) -> str: ...
    @property
    def private(self) -> bool: ...


class ServiceView:
    """One view per evaluation run, pointed at each service in turn with `at`."""

    def __init__(
        self,
        now: datetime,
        live: Facts | None = None,
        dependents: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.now = now
        self.live = live
        self.dependents_of = dependents
        self.entity: Entity | None = None
        self.records: Sequence[IncidentRecord] = ()
        self.teams: Mapping[str, Entity] = {}

    def at(
        self, entity: Entity, incidents: Sequence[Incident], teams: Mapping[str, Entity]
    ) -> ServiceView:
        self.entity, self.teams = entity, teams
        self.records = [
            IncidentRecord(i.declared_at, i.resolved_at, None, i.severity, i.private)
            for i in incidents
        ]
        return self

    @property
    def facts(self) -> ServiceView:
        return self

    def get(self, entity_ref: str, key: str) -> Any | None:
        return None if self.live is None else self.live.get(entity_ref, key)

    def configured(self, entity_ref: str, source: str) -> bool:
        if self.live is not None and self.live.configured(entity_ref, source):
            return True
        entity = self.entity
        return (
            source == GITHUB
            and entity is not None
            and any(link.type == "repo" for link in entity.links)
        )

    def incidents(self, entity_ref: str) -> Sequence[IncidentRecord]:
        return self.records

    def dependents(self, entity_ref: str) -> Sequence[str]:
        if self.dependents_of is None:  # an answer for one service holds no reverse index
            raise Needs(CATALOG, "the services that depend on this one are not loaded here")
        return self.dependents_of.get(entity_ref, ())

    def team(self, ref: str) -> Entity | None:
        return self.teams.get(ref)

"""A `Context` over what the scorecard evaluator holds: the service's incident facts, the
owning teams, the reverse dependencies of the catalog and the live facts when there are some.

GitHub counts as configured for a service with a repository link (what `git != null` meant
before CQL) besides any service with stored GitHub facts; facts come only from `live`, and
rules that read one that is missing say what they need instead of failing. When `live` is a
`FactTable` that knows its facts' ages, the facts a rule reads are noted (`read`), so that the
rule's outcome can say where its values came from and how old they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from switchboard.bot.catalog.api import Entity
from switchboard.bot.scorecards.cql.context import (
    DEPENDENTS,
    GITHUB,
    Facts,
    FactTable,
    IncidentRecord,
)
from switchboard.bot.scorecards.cql.data import Needs


class Incident(Protocol):
    """What storage's incident facts hold."""

    @property
    def declared_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
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
        self.ref = ""
        self.records: Sequence[IncidentRecord] = ()
        self.teams: Mapping[str, Entity] = {}
        self._incidents: Sequence[Incident] | None = None
        # the (entity ref, fact key) pairs read for the current service (a team's on-call
        # among them); None when ages are not told
        self.read: list[tuple[str, str]] | None = (
            [] if isinstance(live, FactTable) and live.about is not None else None
        )

    def at(
        self, entity: Entity, incidents: Sequence[Incident], teams: Mapping[str, Entity]
    ) -> ServiceView:
        """Pointed at `entity` with these incidents: one view serves every rule of a run,
        so the entity's ref and its records are worked out once per service, not per rule
        (the same objects again are the same service)."""
        if entity is not self.entity:
            self.entity, self.ref = entity, entity.ref
            self._incidents = None
        if incidents is not self._incidents:
            self._incidents = incidents
            self.records = [
                IncidentRecord(
                    i.declared_at, i.resolved_at, i.acknowledged_at, i.severity, i.private
                )
                for i in incidents
            ]
        self.teams = teams
        if self.read:
            self.read = []
        return self

    @property
    def facts(self) -> ServiceView:
        return self

    def get(self, entity_ref: str, key: str) -> Any | None:
        if self.live is None:
            return None
        if self.read is not None:
            self.read.append((entity_ref, key))
        return self.live.get(entity_ref, key)

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
        if self.dependents_of is None:  # an evaluation not given the reverse index
            raise Needs(DEPENDENTS, "the services that depend on this one are not loaded here")
        return self.dependents_of.get(entity_ref, ())

    def team(self, ref: str) -> Entity | None:
        return self.teams.get(ref)

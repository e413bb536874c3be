"""What scorecards know about incidents and follow-ups, per service and per team, read in two
set-based queries however many services there are (never one query per service)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import CompoundSelect, case, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

INCIDENT = SQLModel.metadata.tables["incident"]
LINK = SQLModel.metadata.tables["incident_service"]
FOLLOWUP = SQLModel.metadata.tables["followup"]
ENTITY = SQLModel.metadata.tables["catalog_entity"]
RELATION = SQLModel.metadata.tables["catalog_relation"]
_OPEN = "open"  # followup_store.OPEN; repeated here to keep this module free of that one
_SERVICE, _TEAM = "service", "team"


@dataclass(frozen=True, slots=True)
class IncidentFact:
    declared_at: datetime
    resolved_at: datetime | None  # None while unresolved
    severity: str
    incident_id: int = 0
    private: bool = False  # counted everywhere, described only to its participants
    acknowledged_at: datetime | None = None  # None until someone acknowledged it


@dataclass(slots=True)
class ServiceFacts:
    """One service's incidents (unresolved ones, and those declared since the window start)
    and how many open follow-ups of its incidents are past due (of which, how many per
    private incident)."""

    incidents: list[IncidentFact] = field(default_factory=list)
    overdue_followups: int = 0
    private_overdue: dict[int, int] = field(default_factory=dict)  # by private incident id

    @property
    def private_incidents(self) -> frozenset[int]:
        return frozenset(i.incident_id for i in self.incidents if i.private)

    def public(self) -> ServiceFacts:
        """The same facts without anything from a private incident."""
        return ServiceFacts(
            [i for i in self.incidents if not i.private],
            self.overdue_followups - sum(self.private_overdue.values()),
        )


@dataclass(slots=True)
class Facts:
    """The snapshot scorecards are evaluated against, besides the catalog."""

    services: dict[str, ServiceFacts] = field(default_factory=dict)  # by entity ref
    team_overdue_followups: dict[str, int] = field(default_factory=dict)  # by owner team ref
    # by owner team ref, then private incident id: how many of those are a private one's
    team_private_overdue: dict[str, dict[int, int]] = field(default_factory=dict)


async def load(
    session: AsyncSession,
    since: datetime,
    today: date,
    services: Collection[str] | None = None,
    teams: Collection[str] | None = None,
) -> Facts:
    """Incidents declared since `since` or still unresolved, and follow-ups due before
    `today` and still open, for every service and team at once; or, given `services` and
    `teams` (refs), for those only (what one `/scorecard` answer needs)."""
    facts = Facts()
    incidents = (
        select(
            LINK.c.entity_ref,
            INCIDENT.c.declared_at,
            INCIDENT.c.resolved_at,
            INCIDENT.c.severity,
            INCIDENT.c.id,
            INCIDENT.c.private,
            INCIDENT.c.acknowledged_at,
        )
        .join(INCIDENT, INCIDENT.c.id == LINK.c.incident_id)
        .where((INCIDENT.c.declared_at >= since) | INCIDENT.c.resolved_at.is_(None))
    )
    if services is not None:
        incidents = incidents.where(LINK.c.entity_ref.in_(services))
    for ref, declared, resolved, severity, number, private, acked in await session.execute(
        incidents
    ):
        service = facts.services.setdefault(ref, ServiceFacts())
        service.incidents.append(IncidentFact(declared, resolved, severity, number, private, acked))
    for scope, ref, private, overdue in await session.execute(_overdue(today, services, teams)):
        count = int(overdue)
        if scope == _SERVICE:
            service = facts.services.setdefault(ref, ServiceFacts())
            service.overdue_followups += count
            if private is not None:
                service.private_overdue[int(private)] = count
        else:
            facts.team_overdue_followups[ref] = facts.team_overdue_followups.get(ref, 0) + count
            if private is not None:
                facts.team_private_overdue.setdefault(ref, {})[int(private)] = count
    return facts


def _overdue(
    today: date, services: Collection[str] | None, teams: Collection[str] | None
) -> CompoundSelect[Any]:
    """(scope, ref, private incident id or None, count) of open follow-ups past due: per
    affected service of their incident, and per owning team, in one statement; those of a
    private incident are counted apart, per incident, so that they count without being told."""
    overdue = (FOLLOWUP.c.state == _OPEN) & (FOLLOWUP.c.due < today)
    private = case((INCIDENT.c.private, INCIDENT.c.id), else_=null()).label("private")
    per_service = (
        select(literal(_SERVICE), LINK.c.entity_ref, private, func.count())
        .select_from(
            FOLLOWUP.join(LINK, LINK.c.incident_id == FOLLOWUP.c.incident_id).join(
                INCIDENT, INCIDENT.c.id == FOLLOWUP.c.incident_id
            )
        )
        .where(overdue)
        .group_by(LINK.c.entity_ref, private)
    )
    per_team = (
        select(literal(_TEAM), FOLLOWUP.c.owner_team, private, func.count())
        .select_from(FOLLOWUP.join(INCIDENT, INCIDENT.c.id == FOLLOWUP.c.incident_id))
        .where(overdue, FOLLOWUP.c.owner_team != "")
        .group_by(FOLLOWUP.c.owner_team, private)
    )
    if services is not None:
        per_service = per_service.where(LINK.c.entity_ref.in_(services))
    if teams is not None:
        per_team = per_team.where(FOLLOWUP.c.owner_team.in_(teams))
    return union_all(per_service, per_team)


async def dependents(
    session: AsyncSession, relation: str, targets: Collection[str] | None = None
) -> dict[str, list[str]]:
    """Target ref -> the refs of the entities with a `relation` to it (sorted), for every
    target in the catalog, or for `targets` only: CQL's `dependencies.in()`, in one query."""
    query = (
        select(RELATION.c.target_ref, ENTITY.c.ref)
        .join(ENTITY, ENTITY.c.id == RELATION.c.entity_id)
        .where(RELATION.c.type == relation)
        .order_by(RELATION.c.target_ref, ENTITY.c.ref)
    )
    if targets is not None:
        query = query.where(RELATION.c.target_ref.in_(list(targets)))
    found: dict[str, list[str]] = {}
    for target, ref in await session.execute(query):
        found.setdefault(target, []).append(ref)
    return found

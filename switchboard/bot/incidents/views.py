"""What the incident renderers read: small frozen copies of the stored rows, made here and
nowhere else (`incident_view`), so a message is built from values, never from a row that
a session may still change or write."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, TypeVar

from switchboard.storage.tables import (
    FollowUp,
    Incident,
    IncidentEvent,
    IncidentRole,
    IncidentServiceLink,
)


@dataclass(frozen=True, slots=True)
class IncidentData:
    """An incident as people see it (not the sync's bookkeeping: cards, versions, lease)."""

    id: int | None
    number: int
    title: str
    description: str
    severity: str
    status: str
    private: bool
    security: bool
    declared_by: str
    declared_at: datetime
    impact_started_at: datetime | None  # when the impact started, if someone said
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    last_update_at: datetime
    reminders_snoozed_until: datetime | None
    reminders_off: bool
    channel_id: str
    channel_name: str


@dataclass(frozen=True, slots=True)
class ServiceData:
    """An affected service (or team): its catalog ref and the name it had then."""

    entity_ref: str
    name: str


@dataclass(frozen=True, slots=True)
class RoleData:
    """A role and who holds it now."""

    role: str
    user_id: str


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident with what its cards show."""

    incident: IncidentData
    services: tuple[ServiceData, ...] = ()
    roles: tuple[RoleData, ...] = ()

    @property
    def ref(self) -> str:
        return ref(self.incident.number)

    @property
    def resolved(self) -> bool:
        return self.incident.resolved_at is not None

    def holder(self, role: str) -> str:
        return next((r.user_id for r in self.roles if r.role == role), "")


def ref(number: int) -> str:
    return f"INC-{number}"


def incident_data(row: Incident) -> IncidentData:
    return _copied(IncidentData, row)


def incident_view(
    row: Incident,
    services: Iterable[IncidentServiceLink] = (),
    roles: Iterable[IncidentRole] = (),
) -> IncidentView:
    """The view of an incident's rows: the row, its services, its current role holders."""
    return IncidentView(
        incident_data(row),
        tuple(ServiceData(s.entity_ref, s.name) for s in services),
        tuple(RoleData(r.role, r.user_id) for r in roles),
    )


@dataclass(frozen=True, slots=True)
class FollowUpData:
    """A follow-up as its listings, nags and digests show it."""

    id: int | None
    incident_id: int
    text: str
    owner_user: str  # a Slack user id, or ""
    owner_team: str  # a catalog group ref, or ""
    due: date | None
    state: str  # open | done | wont_do
    closed_by: str
    timeline_entry_id: int | None


@dataclass(frozen=True, slots=True)
class Item:
    """A follow-up with its incident."""

    followup: FollowUpData
    incident: IncidentData


def followup_data(row: FollowUp) -> FollowUpData:
    return _copied(FollowUpData, row)


def followup_item(followup: FollowUp, incident: Incident) -> Item:
    return Item(followup_data(followup), incident_data(incident))


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A status update posted on an incident: when, by whom, what it said (mrkdwn, escaped)."""

    at: datetime
    actor: str
    text: str


def status_update(event: IncidentEvent) -> StatusUpdate:
    return StatusUpdate(event.at, event.actor, event.text)


T = TypeVar("T")


def _copied(model: type[T], row: object) -> T:
    """A view model with the values of the row's columns of the same names."""
    names = [f.name for f in fields(model)]  # type: ignore[arg-type]
    values: dict[str, Any] = {name: getattr(row, name) for name in names}
    return model(**values)

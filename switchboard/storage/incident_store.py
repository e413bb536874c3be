"""Incident queries and writes. `add` and the other writes put rows in the caller's
transaction; `save` ends it with one commit (with whatever else it holds: a claimed Slack
request, participants). The lease functions commit at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage.tables import (
    Incident,
    IncidentEvent,
    IncidentPage,
    IncidentParticipant,
    IncidentRole,
    IncidentServiceLink,
)

INCIDENT = SQLModel.metadata.tables["incident"]
EVENT = SQLModel.metadata.tables["incident_event"]
PAGE = SQLModel.metadata.tables["incident_page"]
ROLE = SQLModel.metadata.tables["incident_role"]
PARTICIPANT = SQLModel.metadata.tables["incident_participant"]
SERVICE = SQLModel.metadata.tables["incident_service"]


# Any row of an incident's, new or changed.
Row = (
    Incident
    | IncidentEvent
    | IncidentPage
    | IncidentParticipant
    | IncidentRole
    | IncidentServiceLink
)


def add(session: AsyncSession, *rows: Row) -> None:
    """Put new or changed rows in the transaction (`save` commits them)."""
    session.add_all(rows)


async def save(session: AsyncSession, *rows: Row) -> None:
    """Put `rows` in the transaction and commit it."""
    session.add_all(rows)
    await session.commit()


async def insert(session: AsyncSession, incident: Incident) -> int:
    """A new incident, written now (not yet committed) for its id: the rows that belong to
    it need that id. Raises IntegrityError when a concurrent declare took its number."""
    session.add(incident)
    await session.flush()
    assert incident.id is not None
    return incident.id


# pg_advisory_xact_lock key serialising incident numbering (any constant of our own).
NUMBER_LOCK = 0x5B1C1D


async def next_number(session: AsyncSession) -> int:
    """One more than the highest number. On PostgreSQL, declares take numbers one after
    the other (a lock held until the transaction ends), instead of colliding round after
    round in a burst; elsewhere (SQLite writes one at a time anyway), a concurrent declare
    that took the number makes the insert fail on the unique number, and the caller tries
    again."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(NUMBER_LOCK)))
    return int(await session.scalar(select(func.max(INCIDENT.c.number))) or 0) + 1


async def by_id(session: AsyncSession, incident_id: int) -> Incident | None:
    return await session.get(Incident, incident_id)


async def by_number(session: AsyncSession, number: int) -> Incident | None:
    return (await session.scalars(select(Incident).where(INCIDENT.c.number == number))).first()


async def by_channel(session: AsyncSession, channel_id: str) -> Incident | None:
    if not channel_id:
        return None
    query = select(Incident).where(INCIDENT.c.channel_id == channel_id)
    return (await session.scalars(query)).first()


async def by_request_key(session: AsyncSession, key: str) -> Incident | None:
    query = select(Incident).where(INCIDENT.c.request_key == key)
    return (await session.scalars(query)).first()


async def services(session: AsyncSession, incident_id: int) -> list[IncidentServiceLink]:
    return (await services_of(session, [incident_id])).get(incident_id, [])


async def current_roles(session: AsyncSession, incident_id: int) -> list[IncidentRole]:
    return (await current_roles_of(session, [incident_id])).get(incident_id, [])


async def services_of(
    session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, list[IncidentServiceLink]]:
    """Each incident's services, by name, for many incidents in one query."""
    query = select(IncidentServiceLink).where(SERVICE.c.incident_id.in_(incident_ids))
    found: dict[int, list[IncidentServiceLink]] = {}
    for link in await session.scalars(query.order_by(SERVICE.c.name)):
        found.setdefault(link.incident_id, []).append(link)
    return found


async def current_roles_of(
    session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, list[IncidentRole]]:
    """Each incident's current role holders, oldest first, for many incidents in one query."""
    query = select(IncidentRole).where(
        ROLE.c.incident_id.in_(incident_ids), ROLE.c.ended_at.is_(None)
    )
    found: dict[int, list[IncidentRole]] = {}
    for role in await session.scalars(query.order_by(ROLE.c.id)):
        found.setdefault(role.incident_id, []).append(role)
    return found


async def end_role(session: AsyncSession, incident_id: int, role: str, at: datetime) -> None:
    await session.execute(
        update(ROLE)
        .where(ROLE.c.incident_id == incident_id, ROLE.c.role == role, ROLE.c.ended_at.is_(None))
        .values(ended_at=at)
    )


async def participants(session: AsyncSession, incident_id: int) -> list[IncidentParticipant]:
    query = select(IncidentParticipant).where(PARTICIPANT.c.incident_id == incident_id)
    return list(await session.scalars(query))


async def taking_part(session: AsyncSession, user: str, ids: Sequence[int]) -> set[int]:
    """Which of the incidents `ids` `user` takes part in."""
    query = select(PARTICIPANT.c.incident_id).where(
        PARTICIPANT.c.user_id == user, PARTICIPANT.c.incident_id.in_(ids)
    )
    return set(await session.scalars(query))


async def add_participants(session: AsyncSession, incident_id: int, users: Sequence[str]) -> None:
    known = {p.user_id for p in await participants(session, incident_id)}
    for user in dict.fromkeys(users):
        if user and user not in known:
            session.add(IncidentParticipant(incident_id=incident_id, user_id=user))


async def mark_invited(session: AsyncSession, incident_id: int, users: Sequence[str]) -> None:
    await session.execute(
        update(PARTICIPANT)
        .where(PARTICIPANT.c.incident_id == incident_id, PARTICIPANT.c.user_id.in_(users))
        .values(invited=True)
    )


async def unposted_events(session: AsyncSession, incident_id: int) -> list[IncidentEvent]:
    query = select(IncidentEvent).where(
        EVENT.c.incident_id == incident_id, EVENT.c.text != "", EVENT.c.posted_ts == ""
    )
    return list(await session.scalars(query.order_by(EVENT.c.id)))


async def events(session: AsyncSession, incident_id: int) -> list[IncidentEvent]:
    query = select(IncidentEvent).where(EVENT.c.incident_id == incident_id)
    return list(await session.scalars(query.order_by(EVENT.c.at, EVENT.c.id)))


async def pages(session: AsyncSession, incident_id: int) -> list[IncidentPage]:
    query = select(IncidentPage).where(PAGE.c.incident_id == incident_id)
    return list(await session.scalars(query.order_by(PAGE.c.id)))


async def take_lease(
    session: AsyncSession, incident_id: int, now: datetime, until: datetime
) -> bool:
    """Whether this process may sync the incident to Slack now: one process at a time."""
    result = await session.execute(
        update(INCIDENT)
        .where(
            INCIDENT.c.id == incident_id,
            or_(INCIDENT.c.lease_until.is_(None), INCIDENT.c.lease_until < now),
        )
        .values(lease_until=until)
    )
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def renew_lease(
    session: AsyncSession, incident_id: int, held: datetime, until: datetime | None
) -> bool:
    """Move the lease this process holds (it runs to `held`) to `until` (None: let go);
    False when it is no longer ours: it ran out and another process took it."""
    result = await session.execute(
        update(INCIDENT)
        .where(INCIDENT.c.id == incident_id, INCIDENT.c.lease_until == held)
        .values(lease_until=until)
    )
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_lease(session: AsyncSession, incident_id: int, held: datetime) -> None:
    """Let go of the lease this process holds (it runs to `held`); never another's."""
    await renew_lease(session, incident_id, held, None)


async def out_of_sync(session: AsyncSession, now: datetime) -> list[int]:
    """Incidents whose Slack side lags behind them, and which no process is syncing."""
    pending_event = select(EVENT.c.incident_id).where(EVENT.c.text != "", EVENT.c.posted_ts == "")
    pending_page = select(PAGE.c.incident_id).where(
        PAGE.c.status.in_(("pending", "resolving")), PAGE.c.next_attempt_at <= now
    )
    pending_invite = select(PARTICIPANT.c.incident_id).where(PARTICIPANT.c.invited.is_(False))
    query = select(INCIDENT.c.id).where(
        or_(INCIDENT.c.lease_until.is_(None), INCIDENT.c.lease_until < now),
        or_(
            INCIDENT.c.channel_id == "",
            INCIDENT.c.topic_version < INCIDENT.c.version,
            INCIDENT.c.card_version < INCIDENT.c.version,
            INCIDENT.c.announce_version < INCIDENT.c.version,
            INCIDENT.c.id.in_(pending_event),
            INCIDENT.c.id.in_(pending_page),
            INCIDENT.c.id.in_(pending_invite),
        ),
    )
    return list(await session.scalars(query.order_by(INCIDENT.c.id)))


async def listing(
    session: AsyncSession, *, open_only: bool, limit: int, user: str = ""
) -> list[Incident]:
    """Incidents, newest first: open ones, and/or those `user` takes part in."""
    query = select(Incident)
    if open_only:
        query = query.where(INCIDENT.c.resolved_at.is_(None))
    if user:
        mine = select(PARTICIPANT.c.incident_id).where(PARTICIPANT.c.user_id == user)
        query = query.where(INCIDENT.c.id.in_(mine))
    return list(await session.scalars(query.order_by(INCIDENT.c.number.desc()).limit(limit)))


async def reminder_candidates(session: AsyncSession) -> list[Incident]:
    query = select(Incident).where(
        INCIDENT.c.resolved_at.is_(None),
        INCIDENT.c.reminders_off.is_(False),
        INCIDENT.c.channel_id != "",
    )
    return list(await session.scalars(query))


async def page_by_receipt(session: AsyncSession, provider: str, key: str) -> IncidentPage | None:
    """The page a provider's own key (PagerDuty dedup key, Opsgenie alias) belongs to."""
    query = select(IncidentPage).where(PAGE.c.provider == provider, PAGE.c.receipt == key)
    return (await session.scalars(query)).first()

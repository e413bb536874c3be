"""Follow-up queries and writes. A write commits, with whatever the caller claimed in the
same transaction (the Slack request it carries out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage.tables import FollowUp, Incident

FOLLOWUP = SQLModel.metadata.tables["followup"]
INCIDENT = SQLModel.metadata.tables["incident"]
PARTICIPANT = SQLModel.metadata.tables["incident_participant"]

# The states of a follow-up: open until someone closes it one way or the other.
OPEN, DONE, WONT_DO = "open", "done", "wont_do"


@dataclass(frozen=True, slots=True)
class Filter:
    """Which follow-ups: those of one incident, of one person, of one team (catalog ref)."""

    incident_id: int | None = None
    owner_user: str = ""
    owner_team: str = ""
    open_only: bool = False


async def by_id(session: AsyncSession, followup_id: int) -> FollowUp | None:
    return await session.get(FollowUp, followup_id)


async def visible(
    session: AsyncSession, which: Filter, viewer: str, limit: int
) -> list[tuple[FollowUp, Incident]]:
    """The follow-ups `viewer` may read, with their incidents: open ones first, then by due
    date (none last), then in the order they were made."""
    query = (
        select(FollowUp, Incident)
        .join(Incident, FOLLOWUP.c.incident_id == INCIDENT.c.id)
        .where(*_matching(which), not_(_hidden_from(viewer)))
        .order_by(FOLLOWUP.c.state != OPEN, FOLLOWUP.c.due.is_(None), FOLLOWUP.c.due, FOLLOWUP.c.id)
        .limit(limit)
    )
    return [(followup, incident) for followup, incident in (await session.execute(query)).all()]


async def count(session: AsyncSession, which: Filter, viewer: str) -> tuple[int, int]:
    """How many follow-ups match: those `viewer` may read, and those of private incidents
    they take no part in."""
    hidden = func.coalesce(func.sum(case((_hidden_from(viewer), 1), else_=0)), 0)
    query = (
        select(func.count(), hidden)
        .select_from(FOLLOWUP.join(INCIDENT, FOLLOWUP.c.incident_id == INCIDENT.c.id))
        .where(*_matching(which))
    )
    total, secret = (await session.execute(query)).one()
    return int(total) - int(secret), int(secret)


async def add(session: AsyncSession, followup: FollowUp) -> None:
    session.add(followup)
    await session.commit()


async def close(
    session: AsyncSession, followup: FollowUp, state: str, by: str, at: datetime
) -> bool:
    """Close an open follow-up and commit, then read it again; False (nothing committed)
    when it was closed already (two clicks at once)."""
    result = await session.execute(
        update(FOLLOWUP)
        .where(FOLLOWUP.c.id == followup.id, FOLLOWUP.c.state == OPEN)
        .values(state=state, closed_by=by, closed_at=at)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.commit()
    await session.refresh(followup)
    return True


async def snooze(
    session: AsyncSession, ids: Sequence[int], until: date, actor: str
) -> tuple[int, int]:
    """Snooze the nags about the open ones among `ids` that `actor` may act on; returns how
    many were snoozed, and how many were not because they belong to private incidents
    `actor` takes no part in (whoever sends a Snooze payload chooses its ids). Commits."""
    open_ones = and_(FOLLOWUP.c.id.in_(ids), FOLLOWUP.c.state == OPEN)
    hidden = select(FOLLOWUP.c.id).join(INCIDENT, FOLLOWUP.c.incident_id == INCIDENT.c.id)
    hidden = hidden.where(open_ones, _hidden_from(actor))
    withheld = list(await session.scalars(hidden))
    result = await session.execute(
        update(FOLLOWUP)
        .where(open_ones, FOLLOWUP.c.id.not_in(withheld))
        .values(nag_snoozed_until=until)
    )
    await session.commit()
    return int(result.rowcount), len(withheld)  # type: ignore[attr-defined]


def _matching(which: Filter) -> list[ColumnElement[bool]]:
    conditions = []
    if which.incident_id is not None:
        conditions.append(FOLLOWUP.c.incident_id == which.incident_id)
    if which.owner_user:
        conditions.append(FOLLOWUP.c.owner_user == which.owner_user)
    if which.owner_team:
        conditions.append(FOLLOWUP.c.owner_team == which.owner_team)
    if which.open_only:
        conditions.append(FOLLOWUP.c.state == OPEN)
    return conditions


def _hidden_from(viewer: str) -> ColumnElement[bool]:
    """Follow-ups of private incidents `viewer` takes no part in."""
    theirs = select(PARTICIPANT.c.incident_id).where(PARTICIPANT.c.user_id == viewer)
    return and_(INCIDENT.c.private.is_(True), INCIDENT.c.id.not_in(theirs))

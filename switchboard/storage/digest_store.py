"""What the weekly digest reads besides scorecard results: open follow-ups and the week's
incidents, each with the services its incident affected, for every team at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage.followup_store import OPEN
from switchboard.storage.tables import FollowUp, Incident

INCIDENT = SQLModel.metadata.tables["incident"]
LINK = SQLModel.metadata.tables["incident_service"]
FOLLOWUP = SQLModel.metadata.tables["followup"]


async def open_followups(session: AsyncSession) -> list[tuple[FollowUp, Incident]]:
    """Every open follow-up with its incident, the soonest due first (no due date last)."""
    query = (
        select(FollowUp, Incident)
        .join(Incident, FOLLOWUP.c.incident_id == INCIDENT.c.id)
        .where(FOLLOWUP.c.state == OPEN)
        .order_by(FOLLOWUP.c.due.is_(None), FOLLOWUP.c.due, FOLLOWUP.c.id)
    )
    return [(followup, incident) for followup, incident in (await session.execute(query)).all()]


async def declared_between(session: AsyncSession, start: datetime, end: datetime) -> list[Incident]:
    query = (
        select(Incident)
        .where(INCIDENT.c.declared_at >= start, INCIDENT.c.declared_at < end)
        .order_by(INCIDENT.c.number)
    )
    return list(await session.scalars(query))


async def services_of(session: AsyncSession, incident_ids: Collection[int]) -> dict[int, set[str]]:
    """The affected services' refs of each incident."""
    found: dict[int, set[str]] = defaultdict(set)
    ids = list(incident_ids)
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(LINK.c.incident_id, LINK.c.entity_ref).where(
                LINK.c.incident_id.in_(ids[start : start + 500])
            )
        )
        for incident_id, ref in rows:
            found[incident_id].add(ref)
    return found

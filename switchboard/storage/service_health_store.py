"""What `/owner`'s health line counts of one service: its open incidents and the overdue
follow-ups of its incidents, private ones only for those taking part in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

import switchboard.storage.tables  # noqa: F401  (the tables below are defined there)

INCIDENT = SQLModel.metadata.tables["incident"]
LINK = SQLModel.metadata.tables["incident_service"].c
PARTICIPANT = SQLModel.metadata.tables["incident_participant"].c
FOLLOWUP = SQLModel.metadata.tables["followup"]


@dataclass(frozen=True, slots=True)
class ServiceCounts:
    open_incidents: int
    overdue_followups: int


def _visible_to(viewer: str) -> ColumnElement[bool]:
    """Public incidents, and the private ones `viewer` takes part in ("" sees only public)."""
    if not viewer:
        return INCIDENT.c.private == false()
    taking_part = select(PARTICIPANT.incident_id).where(PARTICIPANT.user_id == viewer)
    return or_(INCIDENT.c.private == false(), INCIDENT.c.id.in_(taking_part))


async def counts(session: AsyncSession, ref: str, viewer: str, today: date) -> ServiceCounts:
    of_service = select(LINK.incident_id).where(LINK.entity_ref == ref)
    visible = and_(INCIDENT.c.id.in_(of_service), _visible_to(viewer))
    open_incidents = (
        select(func.count()).select_from(INCIDENT).where(visible, INCIDENT.c.resolved_at.is_(None))
    )
    overdue = (
        select(func.count())
        .select_from(FOLLOWUP.join(INCIDENT))
        .where(visible, FOLLOWUP.c.state == "open", FOLLOWUP.c.due < today)
    )
    return ServiceCounts(
        int(await session.scalar(open_incidents) or 0), int(await session.scalar(overdue) or 0)
    )

"""Reading incidents' records for postmortems and metrics. Reads only: roles, follow-ups and
the catalog's people are written elsewhere."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage.tables import (
    FollowUp,
    IncidentRole,
)

INCIDENT = SQLModel.metadata.tables["incident"]
ROLE = SQLModel.metadata.tables["incident_role"]
SERVICE = SQLModel.metadata.tables["incident_service"]
FOLLOWUP = SQLModel.metadata.tables["followup"]
ENTITY = SQLModel.metadata.tables["catalog_entity"]
POSTMORTEM_STEP = "postmortem"


async def role_history(session: AsyncSession, incident_id: int) -> list[IncidentRole]:
    """Every turn at every role, earliest first: the current holders too."""
    query = select(IncidentRole).where(ROLE.c.incident_id == incident_id)
    return list(await session.scalars(query.order_by(ROLE.c.started_at, ROLE.c.id)))


async def followups(session: AsyncSession, incident_id: int) -> list[FollowUp]:
    query = select(FollowUp).where(FOLLOWUP.c.incident_id == incident_id)
    return list(await session.scalars(query.order_by(FOLLOWUP.c.created_at, FOLLOWUP.c.id)))


async def people_names(session: AsyncSession, slack_user_ids: Collection[str]) -> dict[str, str]:
    """The catalog's names of the people with these Slack ids (those it knows)."""
    if not slack_user_ids:
        return {}
    rows = await session.execute(
        select(ENTITY.c.slack_user_id, ENTITY.c.title, ENTITY.c.name).where(
            ENTITY.c.kind == "user", ENTITY.c.slack_user_id.in_(slack_user_ids)
        )
    )
    return {user: title or name for user, title, name in rows}


async def open_count(session: AsyncSession) -> int:
    query = select(func.count()).select_from(INCIDENT).where(INCIDENT.c.resolved_at.is_(None))
    return int(await session.scalar(query) or 0)


async def postmortems_due(session: AsyncSession, now: datetime) -> list[int]:
    """Resolved incidents whose draft was not published yet (a failed upload waits for the
    retry here), and which no process is syncing."""
    # `steps_done` is a JSON list of names: its text holds `"postmortem"` once the step is done.
    # A text match reads the same on SQLite and PostgreSQL.
    done = cast(INCIDENT.c.steps_done, String).like(f'%"{POSTMORTEM_STEP}"%')
    query = select(INCIDENT.c.id).where(
        INCIDENT.c.resolved_at.is_not(None),
        INCIDENT.c.channel_id != "",
        ~done,
        or_(INCIDENT.c.lease_until.is_(None), INCIDENT.c.lease_until < now),
    )
    return list(await session.scalars(query.order_by(INCIDENT.c.id)))

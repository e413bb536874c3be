"""The queries and writes of the responder context (`bot/incidents/changes.py`,
`affected.py`, `context_card.py`): deploys in a window, GitHub's stored deployments, the open
incidents a service is affected by, a deploy's line on an incident's timeline, and the ts of
a message the ledger sent. Every method is one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

import switchboard.storage.facts_tables  # noqa: F401  (registers the tables)
from switchboard.storage.delivery_store import Key
from switchboard.storage.tables import IncidentEvent

DEPLOY = SQLModel.metadata.tables["deploy"]
FACT = SQLModel.metadata.tables["fact"]
INCIDENT = SQLModel.metadata.tables["incident"]
LINK = SQLModel.metadata.tables["incident_service"]
NOTIFICATION = SQLModel.metadata.tables["notification"]
GITHUB_DEPLOYMENTS = "git.deployments"
MAX_DEPLOYS = 200  # rows read for one window: far more than a card shows


@dataclass(frozen=True, slots=True)
class Deployed:
    """One deploy of a service, from CI (`POST /api/deploys`) or GitHub's deployments."""

    entity: str
    at: datetime  # when it finished (else started, else was received)
    sha: str
    author: str
    status: str  # CI's status, or GitHub's deployment state
    environment: str
    source: str  # "ci" or "github"


class ContextStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def deploys(
        self, entities: Sequence[str], since: datetime, until: datetime
    ) -> list[Deployed]:
        """CI's deploys of `entities` that happened in [since, until], newest first."""
        if not entities:
            return []
        at = func.coalesce(DEPLOY.c.finished_at, DEPLOY.c.started_at, DEPLOY.c.received_at)
        query = (
            select(DEPLOY, at.label("at"))
            .where(DEPLOY.c.entity.in_(list(entities)), at >= since, at <= until)
            .order_by(at.desc(), DEPLOY.c.id.desc())
            .limit(MAX_DEPLOYS)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            Deployed(r.entity, _aware(r.at), r.sha, r.author, r.status, r.environment, "ci")
            for r in rows
        ]

    async def github_deployments(self, entities: Sequence[str]) -> dict[str, Any]:
        """The stored `git.deployments` value of each of `entities` that has one."""
        if not entities:
            return {}
        query = select(FACT.c.entity, FACT.c.value).where(
            FACT.c.entity.in_(list(entities)), FACT.c.key == GITHUB_DEPLOYMENTS
        )
        async with self._sessions() as session:
            return {entity: value for entity, value in await session.execute(query)}

    async def open_incidents_of(self, entity: str) -> list[int]:
        """The unresolved incidents `entity` is an affected service of."""
        query = (
            select(INCIDENT.c.id)
            .join(LINK, LINK.c.incident_id == INCIDENT.c.id)
            .where(LINK.c.entity_ref == entity, INCIDENT.c.resolved_at.is_(None))
            .order_by(INCIDENT.c.id)
        )
        async with self._sessions() as session:
            return list(await session.scalars(query))

    async def affected(self, incident_id: int, entity: str) -> tuple[datetime, str] | None:
        """(when the incident was declared, the name `entity` had then) for an affected
        service of it; None when it is not one."""
        query = (
            select(INCIDENT.c.declared_at, LINK.c.name)
            .join(LINK, LINK.c.incident_id == INCIDENT.c.id)
            .where(INCIDENT.c.id == incident_id, LINK.c.entity_ref == entity)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).one_or_none()
        return (_aware(row.declared_at), row.name) if row else None

    async def add_event(self, incident_id: int, kind: str, text: str, at: datetime) -> None:
        """A line for the incident's timeline and channel (the sync posts it)."""
        async with self._sessions() as session:
            session.add(
                IncidentEvent(incident_id=incident_id, at=at, actor="", kind=kind, text=text)
            )
            await session.commit()

    async def message_ts(self, key: Key) -> tuple[str, str]:
        """(channel, ts) of the message the ledger sent for `key`; ("", "") when unsent."""
        query = select(NOTIFICATION.c.channel, NOTIFICATION.c.message_ts).where(
            NOTIFICATION.c.kind == key.kind,
            NOTIFICATION.c.subject == key.subject,
            NOTIFICATION.c.period == key.period,
            NOTIFICATION.c.sent_at.is_not(None),
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).one_or_none()
        return (row.channel, row.message_ts) if row else ("", "")


def _aware(at: datetime) -> datetime:
    """A stored moment as UTC, whatever the database hands back (they are stored in UTC)."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)

"""The catalog's dependency graph as rows, read whole for the in-memory graph that
`bot/catalog/graph.py` builds once per catalog revision (two queries, whatever its size)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

import switchboard.storage.tables  # noqa: F401  (registers the tables)

ENTITY = SQLModel.metadata.tables["catalog_entity"]
RELATION = SQLModel.metadata.tables["catalog_relation"]
DEPENDS_ON = "dependsOn"


async def nodes(session: AsyncSession) -> list[tuple[str, str, str, str, list[str], list[str]]]:
    """(ref, kind, name, title, owners, slack channels) of every entity but people."""
    rows = await session.execute(
        select(
            ENTITY.c.ref,
            ENTITY.c.kind,
            ENTITY.c.name,
            ENTITY.c.title,
            ENTITY.c.owners,
            ENTITY.c.slack_channels,
        ).where(ENTITY.c.kind != "user")
    )
    return [(r, k, n, t, _strings(o), _strings(c)) for r, k, n, t, o, c in rows]


async def edges(session: AsyncSession) -> list[tuple[str, str]]:
    """(entity ref, the ref it depends on) for every dependsOn relation."""
    rows = await session.execute(
        select(ENTITY.c.ref, RELATION.c.target_ref)
        .join(RELATION, RELATION.c.entity_id == ENTITY.c.id)
        .where(RELATION.c.type == DEPENDS_ON)
    )
    return [(source, target) for source, target in rows]


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

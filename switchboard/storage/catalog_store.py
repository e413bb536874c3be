"""Catalog queries, and the one write: applying an import as a diff in a single transaction."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, Row, Select, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage import bulk
from switchboard.storage.tables import CatalogEntity

# Core tables for typed column expressions (SQLModel's class attributes confuse mypy).
ENTITY = SQLModel.metadata.tables["catalog_entity"]
OWNER = SQLModel.metadata.tables["catalog_owner"]
RELATION = SQLModel.metadata.tables["catalog_relation"]
STATE = SQLModel.metadata.tables["catalog_state"]
T = TypeVar("T")
_BATCH = 2000  # rows per multi-row INSERT: well under both databases' parameter limits


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """What an import writes for one entity. `row()` gives CatalogEntity's columns except id,
    including `ref`, `content_hash`, `owners` and `relations` (the latter as [type, target]
    pairs); it is built when the row is written, so that an import holds the ref and digest
    of each entity, not 50,000 rows at once (the largest thing an import held)."""

    ref: str
    content_hash: str
    columns: Callable[[], dict[str, Any]]  # every column but content_hash

    def row(self) -> dict[str, Any]:
        return {**self.columns(), "content_hash": self.content_hash}


@dataclass(frozen=True, slots=True)
class ImportStats:
    added: int
    updated: int
    removed: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def in_scope(source_file: str, files: Collection[str], folders: Sequence[str]) -> bool:
    """Whether an entity's file belongs to the paths being imported: re-importing a folder
    removes what came from files deleted from it, and leaves other sources alone."""
    return source_file in files or any(source_file.startswith(f"{d.rstrip('/')}/") for d in folders)


Progress = Callable[[str, int, int], None]  # what, done so far, total


def _unseen(what: str, done: int, total: int) -> None:
    return None


async def apply_import(
    session: AsyncSession,
    records: Sequence[EntityRecord],
    files: Collection[str],
    folders: Sequence[str],
    progress: Progress = _unseen,
) -> ImportStats:
    """Make the catalog match `records` for the given scope. The caller commits; on any error
    it rolls back and the catalog is exactly as it was. `progress` is told of the entities
    written ("entities written", done, total)."""
    await _lock(session)
    existing = {
        ref: (entity_id, digest, source)
        for entity_id, ref, digest, source in await session.execute(
            select(ENTITY.c.id, ENTITY.c.ref, ENTITY.c.content_hash, ENTITY.c.source_file)
        )
    }
    fresh = [r for r in records if r.ref not in existing]
    changed = [r for r in records if r.ref in existing and existing[r.ref][1] != r.content_hash]
    wanted = {r.ref for r in records}
    gone = [
        entity_id
        for ref, (entity_id, _, source) in existing.items()
        if ref not in wanted and in_scope(source, files, folders)
    ]
    progress(WRITTEN, 0, len(fresh) + len(changed))
    writer = bulk.writer(await session.connection())
    await _delete(session, gone)
    ids = {ref: row[0] for ref, row in existing.items() if ref in wanted}
    tally = _Tally(progress, len(fresh) + len(changed))
    await _update(session, writer, changed, ids, tally)
    await _insert(session, writer, fresh, tally)
    stats = ImportStats(
        len(fresh), len(changed), len(gone), len(records) - len(fresh) - len(changed)
    )
    if stats.changed:
        await session.execute(
            update(STATE)
            .where(STATE.c.id == 1)
            .values(revision=STATE.c.revision + 1, updated_at=datetime.now(UTC))
        )
    return stats


WRITTEN = "entities written"


class _Tally:
    def __init__(self, progress: Progress, total: int) -> None:
        self._progress, self._total, self._done = progress, total, 0

    def __call__(self, count: int) -> None:
        self._done += count
        self._progress(WRITTEN, self._done, self._total)


async def _lock(session: AsyncSession) -> None:
    # A no-op write takes the row lock on PostgreSQL and the write lock on SQLite, so two
    # importers (two replicas re-syncing) run one after the other instead of interleaving.
    await session.execute(update(STATE).where(STATE.c.id == 1).values(revision=STATE.c.revision))


async def _delete(session: AsyncSession, ids: Sequence[int]) -> None:
    await _delete_children(session, ids)
    for chunk in _chunks(ids):
        await session.execute(delete(ENTITY).where(ENTITY.c.id.in_(chunk)))


async def _delete_children(session: AsyncSession, ids: Sequence[int]) -> None:
    # Children deleted explicitly: the cascade is declared, but SQLite only honours it per
    # connection.
    for chunk in _chunks(ids):
        await session.execute(delete(OWNER).where(OWNER.c.entity_id.in_(chunk)))
        await session.execute(delete(RELATION).where(RELATION.c.entity_id.in_(chunk)))


async def _update(
    session: AsyncSession,
    writer: bulk.Writer,
    records: Sequence[EntityRecord],
    ids: dict[str, int],
    progress: Callable[[int], None],
) -> None:
    await _delete_children(session, [ids[r.ref] for r in records])
    for chunk in _chunks(records):
        rows = [(r.row(), ids[r.ref]) for r in chunk]
        await writer.update(ENTITY, [(*_entity_values(row), entity_id) for row, entity_id in rows])
        await _insert_children(writer, [_children(row, entity_id) for row, entity_id in rows])
        progress(len(chunk))


async def _insert(
    session: AsyncSession,
    writer: bulk.Writer,
    records: Sequence[EntityRecord],
    progress: Callable[[int], None],
) -> None:
    """New entities, a chunk at a time, then the chunk's children: ids are given by the
    database, so the chunk's are read back by ref (not as those above the highest id before
    the import: SQLite gives the id of a row deleted just before again)."""
    for chunk in _chunks(records):
        rows = [r.row() for r in chunk]
        await writer.insert(ENTITY, [_entity_values(row) for row in rows])
        refs = [row["ref"] for row in rows]
        new = await session.execute(select(ENTITY.c.id, ENTITY.c.ref).where(ENTITY.c.ref.in_(refs)))
        ids = {ref: entity_id for entity_id, ref in new}
        await _insert_children(writer, [_children(row, ids[row["ref"]]) for row in rows])
        progress(len(chunk))


# The entity columns the import writes, in order (all but id), each with whether it is JSON
# (written as text).
_ENTITY_COLUMNS = tuple(
    (column.name, isinstance(column.type, JSON)) for column in ENTITY.columns if column.name != "id"
)


def _entity_values(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        [json.dumps(row[name]) if is_json else row[name] for name, is_json in _ENTITY_COLUMNS]
    )


# An entity's owner refs and (type, target) relations, with its id.
Children = tuple[int, list[str], list[tuple[str, str]]]


def _children(row: dict[str, Any], entity_id: int) -> Children:
    return entity_id, row["owners"], [(kind, target) for kind, target in row["relations"]]


async def _insert_children(writer: bulk.Writer, entities: Iterable[Children]) -> None:
    owners: list[tuple[Any, ...]] = []
    relations: list[tuple[Any, ...]] = []
    for entity_id, owned_by, related in entities:
        owners += [(entity_id, owner) for owner in owned_by]
        relations += [(entity_id, kind, target) for kind, target in related]
    await writer.insert(OWNER, owners)
    await writer.insert(RELATION, relations)


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


# Reads -------------------------------------------------------------------------------------


async def revision(session: AsyncSession) -> int:
    value = await session.scalar(select(STATE.c.revision).where(STATE.c.id == 1))
    return int(value or 0)


async def integration_keys(session: AsyncSession) -> set[str]:
    """Every pager integration key in the catalog: secrets, for keeping them out of logs."""
    rows = await session.scalars(select(ENTITY.c.oncall).where(ENTITY.c.oncall.is_not(None)))
    return {
        o["integration_key"] for oncall in rows for o in oncall or () if o.get("integration_key")
    }


async def searchable(session: AsyncSession) -> list[tuple[int, str, str, str, list[str]]]:
    """(id, kind, name, title, aliases) of every entity, for the in-memory lookup index."""
    rows = await session.execute(
        select(ENTITY.c.id, ENTITY.c.kind, ENTITY.c.name, ENTITY.c.title, ENTITY.c.aliases)
    )
    return [(i, k, n, t, list(a or ())) for i, k, n, t, a in rows]


# Built once: building an IN statement per call cost more than running it (profiled on
# `/owner`); an expanding parameter takes any number of values.
_BY_ID = select(CatalogEntity).where(ENTITY.c.id.in_(bindparam("ids", expanding=True)))
_BY_REF = select(CatalogEntity).where(ENTITY.c.ref.in_(bindparam("refs", expanding=True)))


async def entities_by_id(session: AsyncSession, ids: Collection[int]) -> list[CatalogEntity]:
    if not ids:
        return []
    return list(await session.scalars(_BY_ID, {"ids": list(ids)}))


async def entities_by_ref(session: AsyncSession, refs: Collection[str]) -> list[CatalogEntity]:
    if not refs:
        return []
    return list(await session.scalars(_BY_REF, {"refs": list(refs)}))


async def custom_of(session: AsyncSession, refs: Collection[str]) -> dict[str, dict[str, Any]]:
    """The custom metadata of these entities (those with any), by ref."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(dict.fromkeys(refs))):
        rows = await session.execute(
            select(ENTITY.c.ref, ENTITY.c.custom).where(ENTITY.c.ref.in_(chunk))
        )
        found.update({ref: custom for ref, custom in rows if custom})
    return found


async def owned_by(session: AsyncSession, owner_refs: Collection[str]) -> list[CatalogEntity]:
    if not owner_refs:
        return []
    owned = select(OWNER.c.entity_id).where(OWNER.c.owner_ref.in_(owner_refs))
    rows = await session.scalars(
        select(CatalogEntity).where(ENTITY.c.id.in_(owned)).order_by(ENTITY.c.name)
    )
    return list(rows)


BATCH = 1000  # rows handled between two turns of the event loop, in a whole-catalog read


def _of_kinds(kinds: Collection[str]) -> Select[CatalogEntity]:
    query = select(CatalogEntity).order_by(ENTITY.c.name, ENTITY.c.id)
    return query.where(ENTITY.c.kind.in_(kinds)) if kinds else query


async def of_kinds(session: AsyncSession, kinds: Collection[str] = ()) -> list[CatalogEntity]:
    """Every entity of these kinds (every entity when none are given), by name."""
    return list(await session.scalars(_of_kinds(kinds)))


async def of_kinds_in_batches(
    session: AsyncSession, kinds: Collection[str] = ()
) -> AsyncIterator[Sequence[CatalogEntity]]:
    """`of_kinds` a batch at a time, the event loop free between batches."""
    result = await session.stream_scalars(_of_kinds(kinds))
    async for batch in result.partitions(BATCH):
        yield batch


async def outlines(session: AsyncSession) -> AsyncIterator[Sequence[Row[Any]]]:
    """Every entity with what a fan-out over the whole catalog needs (names, owners, Slack
    channels, and what scorecard filters read), without the cost of whole rows; in batches,
    so that the event loop serves requests between them (50,000 rows read at once held it
    for seconds)."""
    columns = (
        *("kind", "namespace", "name", "title", "type", "tier", "lifecycle"),
        *("tags", "owners", "slack_channels"),
    )
    result = await session.stream(select(*(ENTITY.c[name] for name in columns)))
    async for batch in result.partitions(BATCH):
        yield batch


async def related_to(
    session: AsyncSession, relation: str, target_refs: Collection[str], limit: int | None = None
) -> list[CatalogEntity]:
    """Entities with a `relation` to any of the targets (e.g. the members of a team)."""
    if not target_refs:
        return []
    related = select(RELATION.c.entity_id).where(
        RELATION.c.type == relation, RELATION.c.target_ref.in_(target_refs)
    )
    rows = await session.scalars(
        select(CatalogEntity).where(ENTITY.c.id.in_(related)).order_by(ENTITY.c.name).limit(limit)
    )
    return list(rows)


async def people(
    session: AsyncSession, *, slack_user_id: str = "", email: str = ""
) -> list[CatalogEntity]:
    """People (user entities) with that Slack id or e-mail address."""
    conditions = []
    if slack_user_id:
        conditions.append(ENTITY.c.slack_user_id == slack_user_id)
    if email:
        conditions.append(ENTITY.c.email == email.lower())
    if not conditions:
        return []
    rows = await session.scalars(
        select(CatalogEntity).where(ENTITY.c.kind == "user", or_(*conditions))
    )
    return list(rows)


async def groups_with_usergroup(session: AsyncSession, usergroup: str) -> list[CatalogEntity]:
    rows = await session.scalars(
        select(CatalogEntity).where(
            ENTITY.c.kind == "group",
            ENTITY.c.slack_usergroup == usergroup,
        )
    )
    return list(rows)


async def count_by_kind(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(ENTITY.c.kind, func.count()).group_by(ENTITY.c.kind))
    return {kind: int(count) for kind, count in rows}

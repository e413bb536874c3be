"""Stored facts: the last value of each (entity, key), its changes, the deploys CI reports,
and each source's refresh state (lease, backoff, budget). Every method is one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

import switchboard.storage.facts_tables  # noqa: F401  (registers the tables)

FACT = SQLModel.metadata.tables["fact"]
CHANGE = SQLModel.metadata.tables["fact_change"]
DEPLOY = SQLModel.metadata.tables["deploy"]
STATE = SQLModel.metadata.tables["fact_source_state"]
_CHUNK = 300  # rows per statement, well within SQLite's bound-parameter limit
MAX_ERROR = 500  # characters of an error message kept
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Observation:
    """One value a source gave for one entity's fact."""

    entity: str
    key: str
    value: Any
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class StoredFact:
    entity: str
    source: str
    key: str
    value: Any
    observed_at: datetime
    fetched_at: datetime
    error: str
    error_at: datetime | None


@dataclass(frozen=True, slots=True)
class SourceState:
    source: str
    lease_owner: str
    lease_until: datetime | None
    failures: int
    retry_at: datetime | None
    last_success: datetime | None
    last_error: str
    last_error_at: datetime | None
    budget_remaining: int | None
    budget_reset: datetime | None
    facts: int = 0


@dataclass(frozen=True, slots=True)
class DeployRow:
    entity: str
    environment: str
    sha: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    author: str
    commits: list[dict[str, Any]]
    reported_by: str


def _dialect(session: AsyncSession) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class FactsStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # facts

    async def record(
        self, source: str, observations: Sequence[Observation], fetched_at: datetime
    ) -> int:
        """Store what a source said: new values replace old ones (a change is kept as
        history), unchanged ones only move `fetched_at`; any earlier error is cleared.
        Returns how many values changed."""
        changed = 0
        async with self._sessions.begin() as session:
            for chunk in _chunks(observations):
                changed += await _record_chunk(session, source, chunk, fetched_at)
        return changed

    async def fail(
        self, source: str, entities: Sequence[str] | None, error: str, at: datetime
    ) -> None:
        """Mark the facts of `source` (of `entities`, or all of them) as failing with
        `error`; their values stay as they were."""
        where = [FACT.c.source == source]
        async with self._sessions.begin() as session:
            if entities is None:
                await session.execute(
                    update(FACT).where(*where).values(error=error[:MAX_ERROR], error_at=at)
                )
                return
            for chunk in _chunks(entities):
                await session.execute(
                    update(FACT)
                    .where(*where, FACT.c.entity.in_(chunk))
                    .values(error=error[:MAX_ERROR], error_at=at)
                )

    async def facts(self, entity: str) -> list[StoredFact]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(FACT).where(FACT.c.entity == entity).order_by(FACT.c.key)
            )
            return [_fact(row) for row in rows]

    async def facts_of(self, entities: Sequence[str]) -> list[StoredFact]:
        """Every stored fact of these entities, a chunk of them per query."""
        found: list[StoredFact] = []
        async with self._sessions() as session:
            for chunk in _chunks(list(dict.fromkeys(entities))):
                rows = await session.execute(select(FACT).where(FACT.c.entity.in_(chunk)))
                found += [_fact(row) for row in rows]
        return found

    async def fact(self, entity: str, key: str) -> StoredFact | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(FACT).where(FACT.c.entity == entity, FACT.c.key == key)
                )
            ).one_or_none()
            return _fact(row) if row is not None else None

    async def fetched(self, source: str) -> dict[str, datetime]:
        """For each entity with facts from `source`: when the oldest of them was fetched;
        the epoch for an entity whose facts carry an error, so it is tried again first."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(FACT.c.entity, FACT.c.fetched_at, FACT.c.error).where(
                    FACT.c.source == source
                )
            )
            oldest: dict[str, datetime] = {}
            for entity, fetched_at, error in rows:
                at = _EPOCH if error else fetched_at
                if entity not in oldest or at < oldest[entity]:
                    oldest[entity] = at
            return oldest

    async def history(self, entity: str, key: str) -> list[tuple[Any, datetime]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(CHANGE.c.value, CHANGE.c.observed_at)
                .where(CHANGE.c.entity == entity, CHANGE.c.key == key)
                .order_by(CHANGE.c.observed_at, CHANGE.c.id)
            )
            return [(value, at) for value, at in rows]

    # pushed facts and deploys

    async def push(self, entity: str, source: str, values: Mapping[str, Any], at: datetime) -> int:
        """Facts a client pushed: all of them or none (one transaction)."""
        observations = [Observation(entity, key, value, at) for key, value in values.items()]
        return await self.record(source, observations, at)

    async def add_deploy(self, deploy: DeployRow, at: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                DEPLOY.insert().values(
                    entity=deploy.entity,
                    environment=deploy.environment,
                    sha=deploy.sha,
                    status=deploy.status,
                    started_at=deploy.started_at,
                    finished_at=deploy.finished_at,
                    author=deploy.author,
                    commits=deploy.commits,
                    reported_by=deploy.reported_by,
                    received_at=at,
                )
            )

    async def deploys(self, entity: str) -> list[DeployRow]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(DEPLOY).where(DEPLOY.c.entity == entity).order_by(DEPLOY.c.id)
            )
            return [
                DeployRow(
                    r.entity,
                    r.environment,
                    r.sha,
                    r.status,
                    r.started_at,
                    r.finished_at,
                    r.author,
                    list(r.commits),
                    r.reported_by,
                )
                for r in rows
            ]

    # source state: lease, backoff, budget

    async def take_lease(self, source: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take (or renew) the lease of `source` until `until`; True for exactly one caller
        among those asking while nobody holds an unexpired lease."""
        async with self._sessions.begin() as session:
            await session.execute(
                _dialect(session)
                .insert(STATE)
                .values(source=source, lease_owner="", failures=0, last_error="")
                .on_conflict_do_nothing()
            )
            taken = await session.execute(
                update(STATE)
                .where(
                    STATE.c.source == source,
                    or_(
                        STATE.c.lease_until.is_(None),
                        STATE.c.lease_until <= now,
                        STATE.c.lease_owner == owner,
                    ),
                )
                .values(lease_owner=owner, lease_until=until)
            )
            return bool(taken.rowcount)  # type: ignore[attr-defined]

    async def release_lease(self, source: str, owner: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(STATE)
                .where(STATE.c.source == source, STATE.c.lease_owner == owner)
                .values(lease_owner="", lease_until=None)
            )

    async def succeeded(
        self, source: str, at: datetime, budget: tuple[int, datetime] | None
    ) -> None:
        values: dict[str, Any] = {"failures": 0, "retry_at": None, "last_success": at}
        if budget is not None:
            values.update(budget_remaining=budget[0], budget_reset=budget[1])
        await self._set_state(source, values)

    async def failed(
        self,
        source: str,
        error: str,
        at: datetime,
        retry_at: datetime,
        budget: tuple[int, datetime] | None,
    ) -> None:
        """Count a failure of the whole source and hold it back until `retry_at`."""
        async with self._sessions.begin() as session:
            values: dict[str, Any] = {
                "failures": STATE.c.failures + 1,
                "retry_at": retry_at,
                "last_error": error[:MAX_ERROR],
                "last_error_at": at,
            }
            if budget is not None:
                values.update(budget_remaining=budget[0], budget_reset=budget[1])
            await session.execute(update(STATE).where(STATE.c.source == source).values(values))

    async def state(self, source: str) -> SourceState | None:
        async with self._sessions() as session:
            row = (
                await session.execute(select(STATE).where(STATE.c.source == source))
            ).one_or_none()
            if row is None:
                return None
            count = await session.scalar(
                select(func.count()).select_from(FACT).where(FACT.c.source == source)
            )
            return SourceState(
                row.source,
                row.lease_owner,
                row.lease_until,
                row.failures,
                row.retry_at,
                row.last_success,
                row.last_error,
                row.last_error_at,
                row.budget_remaining,
                row.budget_reset,
                int(count or 0),
            )

    async def _set_state(self, source: str, values: dict[str, Any]) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(STATE).where(STATE.c.source == source).values(values))


async def _record_chunk(
    session: AsyncSession, source: str, chunk: Sequence[Observation], fetched_at: datetime
) -> int:
    pairs = [(o.entity, o.key) for o in chunk]
    known = {
        (row.entity, row.key): row.value
        for row in await session.execute(
            select(FACT.c.entity, FACT.c.key, FACT.c.value).where(
                tuple_(FACT.c.entity, FACT.c.key).in_(pairs)
            )
        )
    }
    new: list[dict[str, Any]] = []
    unchanged: list[tuple[str, str]] = []
    changes: list[dict[str, Any]] = []
    for obs in chunk:
        pair = (obs.entity, obs.key)
        if pair in known and known[pair] == obs.value:
            unchanged.append(pair)
            continue
        row = {
            "entity": obs.entity,
            "source": source,
            "key": obs.key,
            "value": obs.value,
            "observed_at": obs.observed_at,
        }
        changes.append(row)
        if pair not in known:
            new.append({**row, "fetched_at": fetched_at, "error": ""})
        else:  # a changed value: rare, one statement each
            await session.execute(
                update(FACT)
                .where(FACT.c.entity == obs.entity, FACT.c.key == obs.key)
                .values(
                    source=source,
                    value=obs.value,
                    observed_at=obs.observed_at,
                    fetched_at=fetched_at,
                    error="",
                    error_at=None,
                )
            )
    if new:
        await session.execute(FACT.insert(), new)
    if changes:
        await session.execute(CHANGE.insert(), changes)
    if unchanged:  # one statement for what did not change: the common case by far
        await session.execute(
            update(FACT)
            .where(tuple_(FACT.c.entity, FACT.c.key).in_(unchanged))
            .values(source=source, fetched_at=fetched_at, error="", error_at=None)
        )
    return len(changes)


def _fact(row: Any) -> StoredFact:
    return StoredFact(
        row.entity,
        row.source,
        row.key,
        row.value,
        row.observed_at,
        row.fetched_at,
        row.error,
        row.error_at,
    )

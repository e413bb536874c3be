"""Stored scorecard results: where each service stands now (`scorecard_score`) and every
change that led there (`scorecard_change`), written by the evaluation job in one
transaction, read by nags and digests to say what got better and what got worse."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Row, delete, false, func, insert, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

SCORE = SQLModel.metadata.tables["scorecard_score"]
CHANGE = SQLModel.metadata.tables["scorecard_change"]
_CHUNK = 400  # rows or pairs per statement, well within SQLite's bound-parameter limit
_EVALUATION_LOCK = 0x53434F5245  # "SCORE": one evaluation writes at a time (PostgreSQL)


@dataclass(frozen=True, slots=True)
class Standing:
    """A service's result on one scorecard, as stored."""

    scorecard: str
    service: str  # entity ref
    level: str  # "" below the first level
    score: float | None
    failing: tuple[str, ...]  # rule ids, sorted
    # of `failing`, those failing only because of private incidents: counted, never named
    # on a public surface
    withheld: tuple[str, ...] = ()
    # of `failing`, those that need a fact we cannot have (a source not configured, or not
    # reported yet): neither passing nor failing, told apart on every surface
    needs: tuple[str, ...] = ()

    @property
    def pair(self) -> tuple[str, str]:
        return self.scorecard, self.service


async def lock_for_evaluation(session: AsyncSession) -> None:
    """Hold the evaluation lock until the transaction ends, so two processes evaluating at
    once write each change once. On SQLite, take the write lock before reading: a read
    transaction that later writes fails at once if another write came in between."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVALUATION_LOCK})
    else:
        await session.execute(delete(SCORE).where(false()))


async def current(
    session: AsyncSession, services: Collection[str] | None = None
) -> dict[tuple[str, str], Standing]:
    """Where each service stands now; only `services` (refs) when given."""
    query = select(SCORE)
    if services is not None:
        query = query.where(SCORE.c.service.in_(list(services)))
    return {(r.scorecard, r.service): _standing(r) for r in await session.execute(query)}


async def changed_between(session: AsyncSession, start: datetime, end: datetime) -> set[str]:
    """The services (refs) with a result recorded after `start`, up to `end`."""
    rows = await session.execute(
        select(CHANGE.c.service).where(CHANGE.c.at > start, CHANGE.c.at <= end).distinct()
    )
    return set(rows.scalars())


async def save(
    session: AsyncSession,
    changed: Sequence[Standing],
    gone: Collection[tuple[str, str]],
    at: datetime,
) -> None:
    """Record new and changed results (now and in the history) and forget the results of
    services that left a scorecard (their history stays); commits the evaluation's
    transaction (the lock taken by `lock_for_evaluation` goes with it)."""
    values: list[dict[str, object]] = [
        {
            "scorecard": s.scorecard,
            "service": s.service,
            "level": s.level,
            "score": s.score,
            "failing": list(s.failing),
            "withheld": list(s.withheld),
            "needs": list(s.needs),
        }
        for s in changed
    ]
    for chunk in _chunks(values):
        await session.execute(insert(CHANGE), [{**row, "at": at} for row in chunk])
        await session.execute(_upsert(session), [{**row, "changed_at": at} for row in chunk])
    pairs = list(gone)
    for start in range(0, len(pairs), _CHUNK):
        await session.execute(
            delete(SCORE).where(
                tuple_(SCORE.c.scorecard, SCORE.c.service).in_(pairs[start : start + _CHUNK])
            )
        )
    await session.commit()


async def as_of(
    session: AsyncSession, moment: datetime, services: Collection[str] | None = None
) -> dict[tuple[str, str], Standing]:
    """Where each service stood at `moment`: its last change at or before it (services with
    no result yet then are absent). Only `services` (refs) when given."""
    last = select(func.max(CHANGE.c.id).label("id")).where(CHANGE.c.at <= moment)
    if services is not None:
        last = last.where(CHANGE.c.service.in_(list(services)))
    last = last.group_by(CHANGE.c.scorecard, CHANGE.c.service)
    rows = await session.execute(select(CHANGE).where(CHANGE.c.id.in_(last.scalar_subquery())))
    return {(r.scorecard, r.service): _standing(r) for r in rows}


def _upsert(session: AsyncSession) -> Executable:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(SCORE)
    upsert: Executable = statement.on_conflict_do_update(
        index_elements=[SCORE.c.scorecard, SCORE.c.service],
        set_={
            name: statement.excluded[name]
            for name in ("level", "score", "failing", "withheld", "needs", "changed_at")
        },
    )
    return upsert


def _standing(row: Row[Any]) -> Standing:
    return Standing(
        row.scorecard,
        row.service,
        row.level,
        row.score,
        tuple(row.failing),
        tuple(row.withheld),
        tuple(row.needs),
    )


def _chunks(rows: list[dict[str, object]]) -> Iterable[list[dict[str, object]]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]

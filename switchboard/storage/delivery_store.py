"""Ledger and nag queries for `bot/platform/delivery.py` and `bot/teams/followup_nags.py`.
Each ledger write (claim, mark sent, release) commits at once, so other processes see it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from switchboard.storage.followup_store import OPEN
from switchboard.storage.tables import FollowUp, Incident

NOTIFICATION = SQLModel.metadata.tables["notification"]
FOLLOWUP = SQLModel.metadata.tables["followup"]
INCIDENT = SQLModel.metadata.tables["incident"]
_CHUNK = 300  # keys per query: three bound parameters each, well within SQLite's limit


@dataclass(frozen=True, slots=True)
class Key:
    """One notification: what it is about, whom it is for, which day or week."""

    kind: str
    subject: str
    period: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.subject}/{self.period}"


class Claim(enum.Enum):
    NEW = "new"  # ours, never tried before
    STALE = "stale"  # ours now, but a process that died may have sent it already
    TAKEN = "taken"  # sent, or being sent by someone else


@dataclass(frozen=True, slots=True)
class Claimed:
    outcome: Claim
    tried_at: datetime | None = None  # for STALE: when the dead process claimed it


async def claim(
    session: AsyncSession, key: Key, channel: str, now: datetime, stale_before: datetime
) -> Claimed:
    """Claim the right to send `key`: insert its row, or take over a claim made before
    `stale_before` that was never marked sent. Exactly one caller gets NEW or STALE."""
    values = {**_where(key), "channel": channel, "claimed_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = await session.execute(
        dialect.insert(NOTIFICATION).values(values).on_conflict_do_nothing()
    )
    if inserted.rowcount:  # type: ignore[attr-defined]
        await session.commit()
        return Claimed(Claim.NEW)
    row = (
        await session.execute(
            select(NOTIFICATION.c.claimed_at, NOTIFICATION.c.sent_at).where(*_match(key))
        )
    ).one_or_none()
    if row is None or row.sent_at is not None or row.claimed_at >= stale_before:
        await session.commit()
        return Claimed(Claim.TAKEN)
    # Only the process that still sees the old claimed_at takes it over.
    taken = await session.execute(
        update(NOTIFICATION)
        .where(*_match(key), NOTIFICATION.c.sent_at.is_(None))
        .where(NOTIFICATION.c.claimed_at == row.claimed_at)
        .values(claimed_at=now, channel=channel)
    )
    await session.commit()
    if not taken.rowcount:  # type: ignore[attr-defined]
        return Claimed(Claim.TAKEN)
    return Claimed(Claim.STALE, row.claimed_at)


async def mark_sent(session: AsyncSession, key: Key, ts: str, now: datetime) -> None:
    await session.execute(
        update(NOTIFICATION).where(*_match(key)).values(sent_at=now, message_ts=ts)
    )
    await session.commit()


async def release(session: AsyncSession, key: Key) -> None:
    """Give an unsent claim back after the send failed, so a later run tries again."""
    await session.execute(
        delete(NOTIFICATION).where(*_match(key), NOTIFICATION.c.sent_at.is_(None))
    )
    await session.commit()


async def sent(session: AsyncSession, keys: Sequence[Key]) -> set[Key]:
    """Which of `keys` were sent: a run skips them without a claim (or a pacing slot) each."""
    found: set[Key] = set()
    for start in range(0, len(keys), _CHUNK):
        wanted = [(k.kind, k.subject, k.period) for k in keys[start : start + _CHUNK]]
        query = select(NOTIFICATION.c.kind, NOTIFICATION.c.subject, NOTIFICATION.c.period).where(
            tuple_(NOTIFICATION.c.kind, NOTIFICATION.c.subject, NOTIFICATION.c.period).in_(wanted),
            NOTIFICATION.c.sent_at.is_not(None),
        )
        found.update(Key(*row) for row in await session.execute(query))
    return found


async def overdue_followups(
    session: AsyncSession, today: date, owner_team: str = ""
) -> list[tuple[FollowUp, Incident]]:
    """Open follow-ups due before `today` and not snoozed past it, oldest due first;
    only `owner_team`'s when given."""
    query = (
        select(FollowUp, Incident)
        .join(Incident, FOLLOWUP.c.incident_id == INCIDENT.c.id)
        .where(FOLLOWUP.c.state == OPEN, FOLLOWUP.c.due < today, _not_snoozed(today))
        .order_by(FOLLOWUP.c.due, FOLLOWUP.c.id)
    )
    if owner_team:
        query = query.where(FOLLOWUP.c.owner_team == owner_team)
    return [(followup, incident) for followup, incident in (await session.execute(query)).all()]


def _not_snoozed(today: date) -> ColumnElement[bool]:
    column = FOLLOWUP.c.nag_snoozed_until
    return or_(column.is_(None), column <= today)


def _where(key: Key) -> dict[str, str]:
    return {"kind": key.kind, "subject": key.subject, "period": key.period}


def _match(key: Key) -> list[ColumnElement[bool]]:
    return [NOTIFICATION.c[name] == value for name, value in _where(key).items()]

"""The tables of live facts: one row per (entity, key), its history of changes, deploys, and
one state row per source (its lease, backoff and rate-limit budget).

A module of its own (not `tables.py`) so that the facts feature lands as new files only;
migration 0009 imports it, which also registers these tables with `SQLModel.metadata`
wherever migrations run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from switchboard.storage.tables import utc_column


def _json() -> Any:
    # JSON `null` is a value (no latest release): keep it as JSON, not as SQL NULL.
    return Field(default=None, sa_column=Column(JSON(none_as_null=False), nullable=True))


class Fact(SQLModel, table=True):
    """The last known value of one fact. A failing fetch sets `error` and keeps `value`."""

    __tablename__ = "fact"
    __table_args__ = (UniqueConstraint("entity", "key", name="uq_fact_entity_key"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(sa_column=Column(String(512), nullable=False, index=True))
    source: str = Field(sa_column=Column(String(128), nullable=False, index=True))
    key: str = Field(sa_column=Column(String(512), nullable=False))
    value: Any = _json()
    observed_at: datetime = utc_column()  # when the source says the value held
    fetched_at: datetime = utc_column()  # when we last heard it from the source
    error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    error_at: datetime | None = utc_column(nullable=True)


class FactChange(SQLModel, table=True):
    """A fact's value from `observed_at` on: one row per change, so trends can be drawn."""

    __tablename__ = "fact_change"
    __table_args__ = (Index("ix_fact_change_entity_key", "entity", "key", "observed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(sa_column=Column(String(512), nullable=False))
    source: str = Field(sa_column=Column(String(128), nullable=False))
    key: str = Field(sa_column=Column(String(512), nullable=False))
    value: Any = _json()
    observed_at: datetime = utc_column()


class Deploy(SQLModel, table=True):
    """One deploy as CI reported it (`POST /api/deploys`); insight builds DORA on these."""

    __tablename__ = "deploy"
    __table_args__ = (Index("ix_deploy_entity_finished", "entity", "finished_at"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(sa_column=Column(String(512), nullable=False))
    environment: str = Field(sa_column=Column(String(128), nullable=False))
    sha: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    started_at: datetime | None = utc_column(nullable=True)
    finished_at: datetime | None = utc_column(nullable=True)
    author: str = Field(default="", sa_column=Column(String(256), nullable=False))
    commits: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    reported_by: str = Field(default="", sa_column=Column(String(128), nullable=False))
    received_at: datetime = utc_column()


class FactSourceState(SQLModel, table=True):
    """One source's refresh state: who holds its lease until when, its consecutive failures
    and when it may be tried again, its last success and error, its rate-limit budget."""

    __tablename__ = "fact_source_state"

    source: str = Field(sa_column=Column(String(128), primary_key=True))
    lease_owner: str = Field(default="", sa_column=Column(String(128), nullable=False))
    lease_until: datetime | None = utc_column(nullable=True)
    failures: int = 0
    retry_at: datetime | None = utc_column(nullable=True)
    last_success: datetime | None = utc_column(nullable=True)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    last_error_at: datetime | None = utc_column(nullable=True)
    budget_remaining: int | None = None
    budget_reset: datetime | None = utc_column(nullable=True)

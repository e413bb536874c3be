"""The database tables. Datetimes are timezone-aware UTC; Slack objects are keyed on ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always reads them back aware: SQLite keeps no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def utc_column(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


def json_column() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class CatalogEntity(SQLModel, table=True):
    """One catalog entity, whole in one row so `/owner` reads it with one query. Owners and
    relations are also kept in tables of their own for the reverse questions ("what does
    this team own?", "who is in it?"), written in the same transaction."""

    __tablename__ = "catalog_entity"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(sa_column=Column(String(512), nullable=False, unique=True))
    kind: str = Field(max_length=32, index=True)
    namespace: str = Field(max_length=128)
    name: str = Field(max_length=256)
    type: str = Field(default="", max_length=64)
    title: str = Field(default="", max_length=512)
    description: str = ""
    tier: int | None = None
    lifecycle: str = Field(default="", max_length=64)
    system: str = Field(default="", max_length=512)
    domain: str = Field(default="", max_length=512)
    slack_usergroup: str = Field(default="", max_length=128)
    slack_user_id: str = Field(default="", max_length=64, index=True)
    email: str = Field(default="", max_length=320, index=True)
    tags: list[str] = json_column()
    aliases: list[str] = json_column()
    links: list[dict[str, str]] = json_column()
    oncall: list[dict[str, str]] = json_column()
    slack_channels: list[str] = json_column()
    owners: list[str] = json_column()
    relations: list[list[str]] = json_column()  # [type, target ref] pairs
    source_file: str = Field(max_length=4096, index=True)
    source_line: int = 0
    content_hash: str = Field(max_length=64)


class CatalogOwner(SQLModel, table=True):
    __tablename__ = "catalog_owner"
    __table_args__ = (Index("ix_catalog_owner_owner_ref", "owner_ref"),)

    entity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("catalog_entity.id", ondelete="CASCADE"), primary_key=True
        )
    )
    owner_ref: str = Field(sa_column=Column(String(512), primary_key=True))


class CatalogRelation(SQLModel, table=True):
    __tablename__ = "catalog_relation"
    __table_args__ = (Index("ix_catalog_relation_target", "type", "target_ref"),)

    entity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("catalog_entity.id", ondelete="CASCADE"), primary_key=True
        )
    )
    type: str = Field(sa_column=Column(String(32), primary_key=True))
    target_ref: str = Field(sa_column=Column(String(512), primary_key=True))


class CatalogState(SQLModel, table=True):
    """A single row whose revision moves on every catalog change, so each process knows when
    its in-memory lookup index is stale (two replicas share one database)."""

    __tablename__ = "catalog_state"

    id: int = Field(default=1, primary_key=True)
    revision: int = 0
    updated_at: datetime = utc_column()


class SlackEvent(SQLModel, table=True):
    """Event ids already handled: Slack retries deliveries, Bolt would run listeners again."""

    __tablename__ = "slack_event"

    event_id: str = Field(sa_column=Column(String(128), primary_key=True))
    received_at: datetime = utc_column()

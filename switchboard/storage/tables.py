"""The database tables. Datetimes are timezone-aware UTC; Slack objects are keyed on ids."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
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


def withheld_column() -> Any:
    """Of a scorecard result's failing rules, those that fail only because of private
    incidents (sorted ids): public surfaces count them but never name them."""
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))


def needs_column() -> Any:
    """Of a scorecard result's failing rules, those that need a fact we cannot have (sorted
    ids): neither passing nor failing, told apart by the digest and nags."""
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))


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
    sonarqube_project: str = Field(default="", max_length=512)
    custom: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
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


class SlackRequest(SQLModel, table=True):
    """Slack's own identity of a state-changing request already carried out (a command's
    trigger id, an action's `action_ts`, a view's id): a signed request replayed within
    Slack's five minutes finds its key here and changes nothing. Claimed in the same
    transaction as the change, so the change and its claim are stored together or not at all."""

    __tablename__ = "slack_request"

    key: str = Field(sa_column=Column(String(255), primary_key=True))
    received_at: datetime = utc_column()


class Incident(SQLModel, table=True):
    """An incident, the truth about it. The Slack side (channel, cards, messages) is brought in
    line with this row by the incident sync, as often as it takes: `version` moves on every
    change, and the `*_version` columns say which version Slack shows."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(sa_column=Column(Integer, nullable=False, unique=True))
    # What made it (a slash command's trigger id, a modal's view id): declaring twice from
    # the same request finds the first incident instead of making a second.
    request_key: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    title: str
    description: str = ""
    severity: str = Field(max_length=20)
    status: str = Field(max_length=30, index=True)
    private: bool = False
    security: bool = False
    declared_by: str = Field(max_length=32)
    declared_at: datetime = utc_column()
    # when the impact started, as people said (declare modal, `/incident started`): None
    # until someone does; insight measures response times from it when it is set
    impact_started_at: datetime | None = utc_column(nullable=True)
    acknowledged_at: datetime | None = utc_column(nullable=True)
    mitigated_at: datetime | None = utc_column(nullable=True)
    resolved_at: datetime | None = utc_column(nullable=True)
    closed_at: datetime | None = utc_column(nullable=True)
    last_update_at: datetime = utc_column()  # the last status update, for reminders
    reminders_snoozed_until: datetime | None = utc_column(nullable=True)
    reminders_off: bool = False
    channel_id: str = Field(default="", max_length=32, index=True)
    channel_name: str = Field(default="", max_length=80)
    card_ts: str = Field(default="", max_length=32)
    announce_channel_id: str = Field(default="", max_length=32)
    announce_ts: str = Field(default="", max_length=32)
    version: int = 1
    topic_version: int = 0
    card_version: int = 0
    announce_version: int = 0
    steps_done: list[str] = json_column()  # one-off setup steps: "purpose", "pages"
    lease_until: datetime | None = utc_column(nullable=True)  # one process syncs it at a time


class IncidentServiceLink(SQLModel, table=True):
    """An affected service (or team), by catalog ref, with the name it had then."""

    __tablename__ = "incident_service"

    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    )
    entity_ref: str = Field(sa_column=Column(String(512), primary_key=True))
    name: str = ""


class IncidentRole(SQLModel, table=True):
    """Who held which role, from when to when: the current holder has no `ended_at`."""

    __tablename__ = "incident_role"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    )
    role: str = Field(max_length=40)
    user_id: str = Field(max_length=32)
    assigned_by: str = Field(max_length=32)
    started_at: datetime = utc_column()
    ended_at: datetime | None = utc_column(nullable=True)


class IncidentParticipant(SQLModel, table=True):
    """Everyone involved; `invited` once they were added to the channel."""

    __tablename__ = "incident_participant"

    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: str = Field(sa_column=Column(String(32), primary_key=True))
    invited: bool = False


class IncidentEvent(SQLModel, table=True):
    """Every change, with who and when. Events with `text` are posted in the incident channel
    in order; `posted_ts` says which already were."""

    __tablename__ = "incident_event"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    )
    at: datetime = utc_column()
    actor: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    text: str = ""  # mrkdwn, already escaped; "" = nothing to post
    data: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    posted_ts: str = Field(default="", max_length=32)


class IncidentPage(SQLModel, table=True):
    """One page of one on-call target, triggered, retried and resolved from this row."""

    __tablename__ = "incident_page"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    )
    entity_ref: str = Field(max_length=512)
    name: str = ""
    provider: str = Field(max_length=20)
    target_type: str = Field(max_length=40)
    target_id: str = Field(max_length=255)
    status: str = Field(default="pending", max_length=20, index=True)
    receipt: str = Field(default="", max_length=255)
    attempts: int = 0
    error: str = ""
    next_attempt_at: datetime = utc_column()


class Notification(SQLModel, table=True):
    """The ledger of scheduled notifications: one row per (kind, subject, period), claimed
    before sending and marked sent after, so no two processes and no restart send the same
    one twice. A claim never marked sent is a send that may not have happened."""

    __tablename__ = "notification"

    kind: str = Field(sa_column=Column(String(40), primary_key=True))
    subject: str = Field(sa_column=Column(String(255), primary_key=True))
    period: str = Field(sa_column=Column(String(64), primary_key=True))
    claimed_at: datetime = utc_column()
    channel: str = Field(default="", max_length=255)  # where it goes, as addressed
    sent_at: datetime | None = utc_column(nullable=True)
    message_ts: str = Field(default="", max_length=32)


class TimelineEntry(SQLModel, table=True):
    """One moment on an incident's timeline: a message people reacted to, a note, or a
    backfilled event. Lifecycle changes come from `incident_event` and are not copied here.
    A message is on an incident's timeline at most once: (incident, channel, ts) is unique."""

    __tablename__ = "timeline_entry"
    __table_args__ = (
        UniqueConstraint("incident_id", "channel_id", "message_ts", name="uq_timeline_message"),
        # Every reaction looks its message up by channel and ts, without the incident.
        Index("ix_timeline_entry_message", "channel_id", "message_ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    )
    source: str = Field(max_length=20)  # "reaction" | "note" | "backfill"
    at: datetime = utc_column()  # when it happened (a message: when it was first posted)
    author: str = Field(default="", max_length=32)  # Slack user id
    added_by: str = Field(default="", max_length=32)
    text: str = ""  # readable: mentions turned into names; whole, however long
    # None (not "") for notes and backfills: NULLs never collide in the unique constraint.
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    thread_ts: str = Field(default="", max_length=32)
    permalink: str = ""
    files: list[dict[str, str]] = json_column()  # [{"name", "url"}]
    reactors: list[str] = json_column()  # who still has a timeline reaction on the message
    deleted: bool = False  # the message was deleted in Slack after it was captured
    edited_at: datetime | None = utc_column(nullable=True)


class FollowUp(SQLModel, table=True):
    """An action item from an incident, owned by a person or a team, tracked to done."""

    __tablename__ = "followup"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    )
    text: str
    owner_user: str = Field(default="", max_length=32, index=True)  # Slack user id
    owner_team: str = Field(default="", max_length=512, index=True)  # catalog group ref
    due: date | None = None
    state: str = Field(default="open", max_length=20, index=True)  # open | done | wont_do
    created_by: str = Field(max_length=32)
    created_at: datetime = utc_column()
    closed_by: str = Field(default="", max_length=32)
    closed_at: datetime | None = utc_column(nullable=True)
    timeline_entry_id: int | None = None  # the timeline entry it came from, if any
    nag_snoozed_until: date | None = None  # no overdue nags about it before this day


class ScorecardScore(SQLModel, table=True):
    """Where each service stands on each scorecard since the last evaluation that changed
    it: what the evaluation job compares a new result with."""

    __tablename__ = "scorecard_score"

    scorecard: str = Field(sa_column=Column(String(255), primary_key=True))
    service: str = Field(sa_column=Column(String(512), primary_key=True))  # entity ref
    level: str = Field(default="", max_length=100)  # "" below the first level
    score: float | None = None  # None when no rule applies
    failing: list[str] = json_column()  # ids of failing and unsupported rules, sorted
    withheld: list[str] = withheld_column()
    needs: list[str] = needs_column()
    changed_at: datetime = utc_column()


class ScorecardChange(SQLModel, table=True):
    """The history of `scorecard_score`: a row for a service's first result on a scorecard
    and for every change since, so where it stood at any moment is its last row before it."""

    __tablename__ = "scorecard_change"
    __table_args__ = (Index("ix_scorecard_change_pair", "scorecard", "service", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    scorecard: str = Field(max_length=255)
    service: str = Field(max_length=512)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    level: str = Field(default="", max_length=100)
    score: float | None = None
    failing: list[str] = json_column()
    withheld: list[str] = withheld_column()
    needs: list[str] = needs_column()

"""The rows insight measures are computed from, read in a few whole-table-range queries
(never one per incident or service): incidents with their services, follow-ups, deploys (as
CI pushed them and as GitHub's deployments fact recorded them), the scorecard history and
who owns what. Reads only."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Text, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

import switchboard.storage.facts_tables  # noqa: F401  (registers the deploy and fact tables)

INCIDENT = SQLModel.metadata.tables["incident"]
SERVICE = SQLModel.metadata.tables["incident_service"]
FOLLOWUP = SQLModel.metadata.tables["followup"]
DEPLOY = SQLModel.metadata.tables["deploy"]
FACT_CHANGE = SQLModel.metadata.tables["fact_change"]
CHANGE = SQLModel.metadata.tables["scorecard_change"]
ENTITY = SQLModel.metadata.tables["catalog_entity"]
RELATION = SQLModel.metadata.tables["catalog_relation"]
GITHUB_DEPLOYMENTS = "git.deployments"  # the fact key of bot/facts/github.py
_CHUNK = 500  # ids per IN (...), well within SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: int
    number: int
    severity: str
    private: bool  # private or security
    declared_at: datetime
    impact_started_at: datetime | None
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    services: tuple[str, ...]  # affected entity refs (services, or teams named directly)


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    id: int
    incident_id: int
    private: bool  # its incident's
    services: tuple[str, ...]  # its incident's
    owner_team: str
    due: date | None
    state: str  # open | done | wont_do
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeployFact:
    entity: str
    environment: str
    sha: str
    status: str  # success | failure | rolled_back (pushed); GitHub's states mapped to these
    finished_at: datetime
    first_commit_at: datetime | None  # the earliest commit authored, when CI said
    source: str  # "push" | "github"


@dataclass(frozen=True, slots=True)
class LevelRow:
    scorecard: str
    service: str
    at: datetime
    level: str  # "" below the first level


@dataclass(frozen=True, slots=True)
class Owned:
    ref: str
    name: str
    kind: str
    owners: tuple[str, ...]


async def incidents(session: AsyncSession, since: datetime, until: datetime) -> list[IncidentRow]:
    """Incidents declared in (since, until], with their affected services: a window ends
    now, and the one before it ends where it starts."""
    # the columns measured only (not the card's text or JSON), and the services in one join
    i = INCIDENT.c
    window = (i.declared_at > since, i.declared_at <= until)
    query = select(
        i.id,
        i.number,
        i.severity,
        i.private,
        i.security,
        i.declared_at,
        i.impact_started_at,
        i.acknowledged_at,
        i.mitigated_at,
        i.resolved_at,
    )
    rows = list(await session.execute(query.where(*window)))
    services: dict[int, set[str]] = defaultdict(set)
    linked = select(SERVICE.c.incident_id, SERVICE.c.entity_ref).join(
        INCIDENT, INCIDENT.c.id == SERVICE.c.incident_id
    )
    for incident_id, ref in await session.execute(linked.where(*window)):
        services[incident_id].add(ref)
    return [
        IncidentRow(
            id=r.id,
            number=r.number,
            severity=r.severity,
            private=bool(r.private or r.security),
            declared_at=_aware(r.declared_at),
            impact_started_at=_aware(r.impact_started_at),
            acknowledged_at=_aware(r.acknowledged_at),
            mitigated_at=_aware(r.mitigated_at),
            resolved_at=_aware(r.resolved_at),
            services=tuple(sorted(services.get(r.id, ()))),
        )
        for r in sorted(rows, key=lambda r: r.number)
    ]


async def _services(session: AsyncSession, ids: list[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(SERVICE.c.incident_id, SERVICE.c.entity_ref).where(
            SERVICE.c.incident_id.in_(chunk)
        )
        for incident_id, ref in await session.execute(query):
            found[incident_id].add(ref)
    return found


async def followups(session: AsyncSession, since: date, until: date) -> list[FollowUpRow]:
    """Follow-ups due in [since, until], and every open one already due before `until`."""
    f = FOLLOWUP.c
    columns = (f.id, f.incident_id, f.owner_team, f.due, f.state, f.closed_at)
    query = select(*columns, INCIDENT.c.private, INCIDENT.c.security).join(
        INCIDENT, INCIDENT.c.id == FOLLOWUP.c.incident_id
    )
    query = query.where(
        FOLLOWUP.c.due.is_not(None),
        or_(
            and_(FOLLOWUP.c.due >= since, FOLLOWUP.c.due <= until),
            and_(FOLLOWUP.c.state == "open", FOLLOWUP.c.due < until),
        ),
    )
    rows = list(await session.execute(query))
    services = await _services(session, sorted({r.incident_id for r in rows}))
    return [
        FollowUpRow(
            id=r.id,
            incident_id=r.incident_id,
            private=bool(r.private or r.security),
            services=tuple(sorted(services.get(r.incident_id, ()))),
            owner_team=r.owner_team,
            due=r.due,
            state=r.state,
            closed_at=_aware(r.closed_at),
        )
        for r in sorted(rows, key=lambda r: r.id)
    ]


async def deploys(
    session: AsyncSession, since: datetime, until: datetime, environments: Collection[str]
) -> list[DeployFact]:
    """Finished deploys to `environments` (compared without case) in (since, until]: those
    CI pushed, and GitHub's deployments that no pushed deploy of the same service, commit and
    environment already stands for."""
    wanted = {e.casefold() for e in environments}
    found: dict[tuple[str, str, str], DeployFact] = {}
    query = select(
        DEPLOY.c.entity,
        DEPLOY.c.environment,
        DEPLOY.c.sha,
        DEPLOY.c.status,
        DEPLOY.c.finished_at,
        cast(DEPLOY.c.commits, Text),  # decoded below, all at once
    ).where(
        DEPLOY.c.finished_at > since,
        DEPLOY.c.finished_at <= until,
        DEPLOY.c.status.in_(("success", "failure", "rolled_back")),
    )
    folded = _Folded()  # a few environment names on many rows: folded once each
    rows = [
        r
        for r in await session.execute(query.order_by(DEPLOY.c.id))  # the last report wins
        if folded[r[1]] in wanted
    ]
    for (entity, environment, sha, status, finished, _), commits in zip(
        rows, _decoded([r[5] for r in rows]), strict=True
    ):
        deploy = DeployFact(
            entity, environment, sha, status, _aware(finished), _first_commit(commits), "push"
        )
        found[(entity, sha, folded[environment])] = deploy
    for deploy in await _github_deploys(session, since, until, wanted):
        found.setdefault((deploy.entity, deploy.sha, deploy.environment.casefold()), deploy)
    return sorted(found.values(), key=lambda d: (d.finished_at, d.entity, d.sha))


# GitHub's deployment status states, as a deploy's outcome; the others are not finished.
_GITHUB_STATES = {"success": "success", "failure": "failure", "error": "failure"}


async def _github_deploys(
    session: AsyncSession, since: datetime, until: datetime, wanted: set[str]
) -> list[DeployFact]:
    """Every deployment the GitHub source saw (each change of the fact holds the latest of
    each environment), once each, dated by its `created_at`."""
    query = select(FACT_CHANGE.c.entity, FACT_CHANGE.c.value).where(
        FACT_CHANGE.c.key == GITHUB_DEPLOYMENTS, FACT_CHANGE.c.observed_at > since
    )
    seen: dict[tuple[str, str, str], DeployFact] = {}
    for entity, value in await session.execute(query.order_by(FACT_CHANGE.c.id)):
        for item in value if isinstance(value, list) else []:
            deploy = _github_deploy(entity, item)
            if deploy is None or deploy.environment.casefold() not in wanted:
                continue
            if since < deploy.finished_at <= until:
                seen[(entity, deploy.sha, deploy.environment.casefold())] = deploy
    return list(seen.values())


def _github_deploy(entity: str, item: Any) -> DeployFact | None:
    if not isinstance(item, dict):
        return None
    status = _GITHUB_STATES.get(str(item.get("state", "")))
    at = _parse_time(item.get("created_at"))
    sha, environment = item.get("sha"), item.get("environment")
    if status is None or at is None or not isinstance(sha, str) or not isinstance(environment, str):
        return None
    return DeployFact(entity, environment, sha.lower(), status, at, None, "github")


async def levels(session: AsyncSession, until: datetime) -> list[LevelRow]:
    """The scorecard history up to `until`, in order: where each service stood from when."""
    query = select(CHANGE.c.scorecard, CHANGE.c.service, CHANGE.c.at, CHANGE.c.level).where(
        CHANGE.c.at <= until
    )
    rows = await session.execute(query.order_by(CHANGE.c.at, CHANGE.c.id))
    return [LevelRow(s, svc, _aware(at), level) for s, svc, at, level in rows]


async def catalog(session: AsyncSession) -> list[Owned]:
    """Every component and team of the catalog, with its owners."""
    query = select(ENTITY.c.ref, ENTITY.c.name, ENTITY.c.title, ENTITY.c.kind, ENTITY.c.owners)
    rows = await session.execute(query.where(ENTITY.c.kind.in_(("component", "group"))))
    return [
        Owned(ref, title or name, kind, tuple(owners or ()))
        for ref, name, title, kind, owners in rows
    ]


async def teams_of(session: AsyncSession, slack_user_id: str) -> list[str]:
    """The refs of the catalog teams the person with this Slack id is a member of."""
    people = select(ENTITY.c.id).where(
        ENTITY.c.kind == "user", ENTITY.c.slack_user_id == slack_user_id
    )
    query = select(RELATION.c.target_ref).where(
        RELATION.c.type == "memberOf", RELATION.c.entity_id.in_(people.scalar_subquery())
    )
    return sorted(set(await session.scalars(query)))


class _Folded(dict[str, str]):
    """Each name's `casefold()`, computed on first use."""

    def __missing__(self, name: str) -> str:
        self[name] = folded = name.casefold()
        return folded


def _decoded(texts: list[str | None]) -> list[Any]:
    """Each JSON text's value: one `json.loads` of them all (a call per row costs more than
    the decoding), each on its own when one of them is not JSON (an empty list then)."""
    try:
        values = json.loads("[" + ",".join(t or "null" for t in texts) + "]")
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != len(texts):  # "1,2" is not one value
        return [_decoded_one(t) for t in texts]
    return values


def _decoded_one(text: str | None) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return []


def _first_commit(commits: Any) -> datetime | None:
    """The earliest `authored_at` of a deploy's commits (as `POST /api/deploys` stored them:
    ISO 8601 with an offset)."""
    first = None
    for commit in commits or ():
        moment = _parse_time(commit.get("authored_at")) if isinstance(commit, dict) else None
        if moment is not None and (first is None or moment < first):
            first = moment
    return first


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _aware(value: Any) -> Any:
    """Aware UTC, whatever the dialect handed back (SQLite keeps no zone)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value

"""Postmortem drafts: an incident's record (facts, services and their owners, people and
roles, milestones, the whole timeline, follow-ups) rendered as Markdown with Jinja2 and shared
in the incident channel as a file. Drafts are made from the rows every time, so a later one
shows the record as it is then. Our own template renders here; a team's renders in the
sandbox, in a child process under limits (`switchboard.bot.platform.templating`)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import html
import json
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.bot.catalog.api import from_row
from switchboard.bot.incidents.messages import ref
from switchboard.bot.incidents.postmortem_view import (
    Facts,
    FileLink,
    Item,
    Milestone,
    Moment,
    Person,
    Record,
    RoleTurn,
    Service,
    sample_record,
)
from switchboard.bot.incidents.service import IncidentService, Refused
from switchboard.bot.incidents.views import IncidentView, incident_view
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.templating import OPTIONS, configure, render_team_template
from switchboard.bot.platform.templating import (
    TemplateFailure as TemplateFailure,  # for its callers
)
from switchboard.bot.platform.text import duration, shorten
from switchboard.storage import (
    catalog_store,
    delivery_store,
    incident_store,
    postmortem_stats_store,
    timeline_store,
)
from switchboard.storage.delivery_store import Claim, Key
from switchboard.storage.tables import (
    FollowUp,
    Incident,
    IncidentEvent,
    IncidentParticipant,
    IncidentRole,
    IncidentServiceLink,
    TimelineEntry,
)

Clock = Callable[[], datetime]
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
BUILT_IN = "postmortem.md.j2"
# The message the draft is shared with, in Slack mrkdwn: user text goes through `slack`.
COMMENT = (
    "Postmortem draft for *{{ incident.ref }}*: {{ incident.title | truncate(200) | slack }}. "
    "Fill in what the record cannot know (impact, contributing factors, lessons learned)."
)
# Slack's markup in our event texts: <@U..>, <#C..|name>, <!subteam^S..|@handle>, <url|label>.
_MARKUP = re.compile(r"<([@#!])?([^>|]+)(?:\|([^>]*))?>")
_BOLD = re.compile(r"\*([^*\n]+)\*")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)")
_STATES = {"open": "open", "done": "done", "wont_do": "won't do"}
SHARED_KIND = "postmortem-draft"  # in the notification ledger: (kind, incident id, content)


@dataclass(frozen=True, slots=True)
class Draft:
    view: IncidentView
    filename: str
    markdown: str
    shared: bool = False  # by `publish`: False when this very draft was shared before


def check_template(path: str) -> None:
    """A team's template checked when the config is loaded, rendered from a sample record
    with every part present, and searched for attribute access the sandbox refuses in
    branches the sample does not reach: `TemplateFailure` says `file:line: problem`."""
    if path:
        render_team_template(path, sample_record().variables(), check=True)


class PostmortemService:
    def __init__(self, deps: Deps, incidents: IncidentService) -> None:
        self._sessions = deps.sessions
        self._config = deps.config
        self._incidents = incidents
        self._gateway = deps.gateway
        self._clock = deps.clock
        self._custom = deps.config.incidents.postmortem_template
        # Ours, trusted: rendered here. The comment on the upload is ours too.
        self._env = configure(Environment(loader=FileSystemLoader(TEMPLATES), **OPTIONS))

    async def draft(self, incident_id: int) -> Draft:
        """The current draft of one incident, rendered from its rows now."""
        draft, _ = await self._draft(incident_id)
        return draft

    async def publish(self, incident_id: int) -> Draft:
        """Share the current draft in the incident channel as a Markdown file, unless this
        very draft (the same record, the same template; when it was made aside) was shared
        before: `/incident postmortem` and then resolving post one draft, not two. The
        notification ledger remembers what was shared, so two processes agree too."""
        draft, record = await self._draft(incident_id)
        key = Key(SHARED_KIND, str(incident_id), self._fingerprint(record))
        if not await self._claim(key, draft.view.incident.channel_id):
            return draft
        comment = self._env.from_string(COMMENT).render(record.variables())
        # Both go in the upload's URL: a long title would make it longer than servers take.
        title = shorten(f"Postmortem draft: {draft.view.ref} {record.incident.title}", 250)
        try:
            await self._gateway.upload_file(
                draft.view.incident.channel_id, draft.filename, draft.markdown, title, comment
            )
        except BaseException:
            async with self._sessions() as session:  # not shared: a later try may share it
                await delivery_store.release(session, key)
            raise
        async with self._sessions() as session:
            await delivery_store.mark_sent(session, key, "", self._clock())
        return dataclasses.replace(draft, shared=True)

    async def _claim(self, key: Key, channel: str) -> bool:
        now = self._clock()
        stale = now - timedelta(seconds=self._config.delivery.lease_seconds)
        async with self._sessions() as session:
            claimed = await delivery_store.claim(session, key, channel, now, stale)
        return claimed.outcome is not Claim.TAKEN

    def _fingerprint(self, record: Record) -> str:
        """What the draft says, but not when it was made: the record's values and the
        template's text (a team's own file; what it includes is not counted)."""
        values = dataclasses.asdict(dataclasses.replace(record, generated_at=""))
        template = Path(self._custom) if self._custom else TEMPLATES / BUILT_IN
        try:
            source = template.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # it rendered a moment ago; say it changed
            source = str(self._clock())
        text = json.dumps([values, source], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    async def requested(self, number: int | None, channel_id: str, actor: str) -> Draft:
        """`/incident postmortem`: the named incident's (or this channel's) draft, shared in
        its channel. A private incident's only by its participants."""
        view = await self._incidents.find(number, channel_id)
        incident = view.incident
        assert incident.id is not None
        if incident.private and actor not in await self._incidents.participants(incident.id):
            raise Refused(f"{view.ref} is private: only its participants may draft its postmortem.")
        if not incident.channel_id:
            raise Refused(f"{view.ref} has no channel yet; try again in a moment.")
        return await self.publish(incident.id)

    async def _draft(self, incident_id: int) -> tuple[Draft, Record]:
        view, record = await self._record(incident_id)
        markdown = await asyncio.to_thread(self._render, record)
        return Draft(view, f"postmortem-{view.ref}.md", markdown), record

    def _render(self, record: Record) -> str:
        if self._custom:
            return render_team_template(self._custom, record.variables())
        return self._env.get_template(BUILT_IN).render(record.variables())

    async def _record(self, incident_id: int) -> tuple[IncidentView, Record]:
        async with self._sessions() as session:
            incident = await incident_store.by_id(session, incident_id)
            if incident is None:
                raise Refused("That incident no longer exists.")
            links = await incident_store.services(session, incident_id)
            roles = await postmortem_stats_store.role_history(session, incident_id)
            participants = await incident_store.participants(session, incident_id)
            events = await incident_store.events(session, incident_id)
            entries = await timeline_store.entries(session, incident_id)
            followups = await postmortem_stats_store.followups(session, incident_id)
            services = await self._services(session, links, followups)
            users = _user_ids(incident, roles, participants, events, entries, followups)
            names = await postmortem_stats_store.people_names(session, users)
        people = _People(names | await self._slack_names(users - names.keys()))
        view = incident_view(incident, links, [r for r in roles if r.ended_at is None])
        record = Record(
            incident=self._facts(incident, people),
            services=services.affected,
            participants=sorted(
                (people(p.user_id) for p in participants), key=lambda p: p.name.casefold()
            ),
            roles=[self._turn(r, people) for r in roles],
            milestones=self._milestones(incident),
            timeline=sorted(
                [
                    *self._events(incident, events, people),
                    *(self._entry(e, people) for e in entries),
                ],
                key=lambda m: m.when,
            ),
            followups=[_item(f, people, services.teams) for f in followups],
            timezone=self._config.timezone,
            generated_at=self._at(self._clock()),
        )
        return view, record

    async def _services(
        self, session: AsyncSession, links: list[IncidentServiceLink], followups: list[FollowUp]
    ) -> _Catalog:
        """The affected services with their owners, and the teams follow-ups belong to."""
        rows = await catalog_store.entities_by_ref(session, [s.entity_ref for s in links])
        entities = {row.ref: from_row(row) for row in rows}
        owner_refs = {o for e in entities.values() for o in e.owners}
        owner_refs |= {f.owner_team for f in followups if f.owner_team}
        owner_rows = await catalog_store.entities_by_ref(session, owner_refs)
        owners = {row.ref: from_row(row) for row in owner_rows}
        named = {r: _owner_name(e.display_name, e.slack_channels) for r, e in owners.items()}
        affected = []
        for link in links:
            entity = entities.get(link.entity_ref)
            if entity is None:  # gone from the catalog since
                who = ["unknown: no longer in the catalog"]
            elif entity.kind == "group":  # a team was named as affected: it owns itself
                who = [_owner_name(entity.display_name, entity.slack_channels)]
            else:
                who = [named.get(o, o.partition("/")[2] or o) for o in entity.owners]
            affected.append(Service(one_line(link.name or link.entity_ref), link.entity_ref, who))
        teams = {r: e.display_name for r, e in owners.items()}
        return _Catalog(affected, teams)

    async def _slack_names(self, users: Collection[str]) -> dict[str, str]:
        """Slack's names of the people the catalog does not know (their ids if Slack fails)."""
        ids = list(users)
        names = await asyncio.gather(*(self._gateway.user_name(u) for u in ids))
        return dict(zip(ids, names, strict=True))

    def _facts(self, incident: Incident, people: _People) -> Facts:
        severity = self._config.incidents.severity(incident.severity)
        return Facts(
            ref=ref(incident.number),
            number=incident.number,
            title=one_line(incident.title),
            severity=incident.severity,
            severity_description=severity.description if severity else "",
            status=incident.status,
            private=incident.private,
            security=incident.security,
            channel=incident.channel_name,
            description=incident.description,
            declared_by=people(incident.declared_by),
        )

    def _turn(self, role: IncidentRole, people: _People) -> RoleTurn:
        return RoleTurn(
            role=role.role,
            person=people(role.user_id),
            assigned_by=people(role.assigned_by),
            start=self._at(role.started_at),
            end=self._at(role.ended_at) if role.ended_at else "",
        )

    def _milestones(self, incident: Incident) -> list[Milestone]:
        stamps = {
            "declared": incident.declared_at,
            "acknowledged": incident.acknowledged_at,
            "mitigated": incident.mitigated_at,
            "resolved": incident.resolved_at,
            "closed": incident.closed_at,
        }
        return [
            Milestone(name, self._at(at), duration(at - incident.declared_at))
            if at
            else Milestone(name, "", "")
            for name, at in stamps.items()
        ]

    def _events(
        self, incident: Incident, events: list[IncidentEvent], people: _People
    ) -> Iterable[Moment]:
        """Lifecycle changes: what was said in the channel, and the declaration."""
        for event in events:
            if event.kind == "declared":
                who = people(event.actor)
                text = f"{who} declared {ref(incident.number)}: {one_line(incident.title)}"
            elif event.kind == "update" and event.data.get("value"):
                # The channel got it shortened; the record keeps it whole.
                text = f"**Status update** from {people(event.actor)}: {event.data['value']}"
            elif event.text:
                text = _markdown(event.text, people)
            else:
                continue
            yield Moment(
                self._at(event.at), "lifecycle", None, text, "", [], False, False, event.at
            )

    def _entry(self, entry: TimelineEntry, people: _People) -> Moment:
        return Moment(
            at=self._at(entry.at),
            source=entry.source,
            author=people(entry.author) if entry.author else None,
            text=entry.text,
            permalink=entry.permalink,
            files=[FileLink(one_line(f.get("name", "")), f.get("url", "")) for f in entry.files],
            deleted=entry.deleted,
            edited=entry.edited_at is not None,
            when=entry.at,
        )

    def _at(self, at: datetime) -> str:
        return at.astimezone(self._config.tz).strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True, slots=True)
class _Catalog:
    affected: list[Service]
    teams: dict[str, str]  # team ref -> name, for follow-ups owned by a team


class _People:
    """Slack user ids as people, by name."""

    def __init__(self, names: dict[str, str]) -> None:
        self._names = names

    def __call__(self, user_id: str) -> Person:
        return Person(user_id, one_line(self._names.get(user_id, "")) or user_id)


def one_line(text: str) -> str:
    """User text for a heading or a list item's first line: its words on one line."""
    return " ".join(text.split())


def _markdown(mrkdwn: str, people: _People) -> str:
    """One of our event texts (mrkdwn, user text escaped) as Markdown for people to read."""

    def replace(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil == "@":
            return str(people(target))
        if sigil == "!":
            return label or "@" + target.split("^")[-1]
        if sigil == "#":
            return "#" + (label or target)
        return f"[{label}]({target})" if label else target

    return html.unescape(_BOLD.sub(r"**\1**", _MARKUP.sub(replace, mrkdwn)))


def _item(followup: FollowUp, people: _People, teams: dict[str, str]) -> Item:
    if followup.owner_user:
        owner = str(people(followup.owner_user))
    else:
        owner = teams.get(followup.owner_team, followup.owner_team.partition("/")[2])
    return Item(
        text=followup.text,
        owner=one_line(owner),
        due=followup.due.isoformat() if followup.due else "",
        state=_STATES.get(followup.state, followup.state),
    )


def _owner_name(name: str, channels: Collection[str]) -> str:
    channel = next(iter(channels), "")
    return one_line(f"{name} ({channel})" if channel else name)


def _user_ids(
    incident: Incident,
    roles: list[IncidentRole],
    participants: list[IncidentParticipant],
    events: list[IncidentEvent],
    entries: list[TimelineEntry],
    followups: list[FollowUp],
) -> set[str]:
    ids = {incident.declared_by}
    ids |= {r.user_id for r in roles} | {r.assigned_by for r in roles}
    ids |= {p.user_id for p in participants}
    ids |= {e.actor for e in events} | {u for e in events for u in _USER_MENTION.findall(e.text)}
    ids |= {e.author for e in entries} | {f.owner_user for f in followups}
    return ids - {""}

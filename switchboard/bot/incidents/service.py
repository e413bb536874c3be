"""Declaring and changing incidents. Every change is one transaction on the incident's rows
(with an event saying who and when); Slack is brought in line afterwards by `IncidentSync`,
which retries until it is, so a Slack outage never loses or doubles a change."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.bot.catalog.api import CatalogReader, Contacts
from switchboard.bot.incidents import impact_time
from switchboard.bot.incidents.commands import ACTIONS, Act
from switchboard.bot.incidents.messages import oncall_invited, ref
from switchboard.bot.incidents.modal_fields import AssignField, DeclareField, PageField
from switchboard.bot.incidents.views import IncidentData, IncidentView, incident_view
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.logs import about_incident
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.bot.platform.text import safe
from switchboard.storage import incident_store, request_store
from switchboard.storage.tables import (
    Incident,
    IncidentEvent,
    IncidentPage,
    IncidentParticipant,
    IncidentRole,
    IncidentServiceLink,
)

Clock = Callable[[], datetime]

# Tries at storing a declare when concurrent ones take its number first.
DECLARE_ATTEMPTS = 10
# A Slack user id as the bot offers and stores it (a crafted value is refused, not echoed).
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


log = logging.getLogger(__name__)


class Refused(Exception):
    """The user may not do this, or it makes no sense now; the message says why (mrkdwn).
    `field` names the modal input it is about, when it is about one."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class Replayed(Exception):
    """This very Slack request (its trigger id, action or view) was carried out before: a
    replay, or Slack sending it again. It is acknowledged and changes nothing."""


@dataclass(frozen=True, slots=True)
class DeclareRequest:
    request_key: str  # the trigger or view id: one incident per request, however often sent
    actor: str
    title: str
    severity: str
    services: tuple[str, ...] = ()  # catalog refs
    description: str = ""
    private: bool = False
    security: bool = False
    impact_started: str = ""  # as typed in the declare modal ("" = not said)


class IncidentService:
    def __init__(self, deps: Deps, catalog: CatalogReader) -> None:
        self._sessions = deps.sessions
        self._config = deps.config.incidents
        self._catalog = catalog
        self._gateway = deps.gateway
        self._clock = deps.clock
        self._tz = deps.config.tz

    # reading

    async def view(self, incident_id: int) -> IncidentView | None:
        async with self._sessions() as session:
            incident = await incident_store.by_id(session, incident_id)
            return await _view(session, incident) if incident else None

    async def find(self, number: int | None, channel_id: str) -> IncidentView:
        """The incident named by number, else the one whose channel this is."""
        async with self._sessions() as session:
            if number is not None:
                incident = await incident_store.by_number(session, number)
                if incident is None:
                    raise Refused(f"There is no incident {ref(number)}.")
            else:
                incident = await incident_store.by_channel(session, channel_id)
                if incident is None:
                    raise Refused(
                        "This is not an incident channel. Name the incident: "
                        "`/incident status INC-4 identified`."
                    )
            return await _view(session, incident)

    async def listing(self, *, open_only: bool, limit: int, user: str = "") -> list[IncidentView]:
        async with self._sessions() as session:
            rows = await incident_store.listing(
                session, open_only=open_only, limit=limit, user=user
            )
            return await _views(session, rows)

    async def open_for(self, user: str) -> tuple[list[IncidentView], set[int]]:
        """Open incidents, and the ids of those `user` takes part in."""
        async with self._sessions() as session:
            rows = await incident_store.listing(session, open_only=True, limit=30)
            ids = [i.id for i in rows if i.id is not None]
            return await _views(session, rows), await incident_store.taking_part(session, user, ids)

    async def participants(self, incident_id: int) -> set[str]:
        async with self._sessions() as session:
            return {p.user_id for p in await incident_store.participants(session, incident_id)}

    async def resolve_services(self, names: Sequence[str]) -> list[str]:
        """Catalog refs for what was typed after `service:`; an unknown name is refused with
        the closest matches."""
        refs = []
        for name, (entity, close) in zip(names, await self._catalog.find_many(names), strict=True):
            if entity is None:
                hint = ", ".join(f"`{e.name}`" for e in close[:5])
                raise Refused(
                    f"No service called `{safe(name, 100)}` in the catalog."
                    + (f" Did you mean {hint}?" if hint else "")
                )
            refs.append(entity.ref)
        return refs

    # declaring

    async def declare(self, request: DeclareRequest) -> tuple[Incident, bool]:
        """Store the incident (the truth from then on). Returns it, and whether it is new:
        a repeated request returns the incident the first one made. A new incident is
        stored with its sync lease held (`lease_until`): the declaring process syncs it
        (`IncidentSync.run(..., held=...)`) without writing the row once more first; if
        that process dies, the scheduler's sync takes over when the lease runs out."""
        await self._may_declare(request.actor)
        severity = self._config.severity(request.severity)
        if severity is None:
            raise Refused(f"{_shown(request.severity)} is not a severity.", DeclareField.SEVERITY)
        found = await self._catalog.contacts_of(request.services)  # one read for them all
        contacts = []
        for service in request.services:
            contact = found.get(service)
            if contact is None:  # not something the services search offered
                raise Refused(f"{_shown(service)} is not in the catalog.", DeclareField.SERVICES)
            contacts.append(contact)
        request = dataclasses.replace(request, severity=severity.name)
        impact = self._impact_start(request.impact_started)
        # Asked of Slack before the transaction: not while it holds the numbering lock.
        people = await self._people(request.actor, contacts)
        for attempt in range(DECLARE_ATTEMPTS):
            async with self._sessions() as session:
                existing = await incident_store.by_request_key(session, request.request_key)
                if existing:
                    return existing, False
                try:
                    incident, rows = await self._insert(session, request, contacts, people)
                    incident.impact_started_at = impact
                    await incident_store.save(session, *rows)
                except IntegrityError:  # another process took the number, or the request
                    await session.rollback()
                    if attempt == DECLARE_ATTEMPTS - 1:
                        raise
                    # Under a burst of declares, step aside a random moment: not in lockstep.
                    await asyncio.sleep(random.uniform(0, 0.05 * (attempt + 1)))
                    continue
                about_incident(ref(incident.number))
                log.info("declared %s", ref(incident.number))
                return incident, True
        raise AssertionError("unreachable")

    def _impact_start(self, typed: str) -> datetime | None:
        """When the declarer says the impact started (Refused on the `started` field)."""
        if not typed.strip():
            return None
        now = self._clock()
        try:
            return impact_time.checked(impact_time.parse_moment(typed, self._tz, now), now)
        except impact_time.BadMoment as bad:
            raise Refused(str(bad), "started") from None

    async def _may_declare(self, actor: str) -> None:
        group = self._config.declare_group
        if group and actor not in await self._members(group):
            raise Refused(f"Only members of <!subteam^{group}> may declare incidents here.")

    async def _insert(
        self,
        session: AsyncSession,
        request: DeclareRequest,
        contacts: list[Contacts],
        people: list[str],
    ) -> tuple[Incident, list[incident_store.Row]]:
        """The new incident, written for its id, and its rows for `save` to commit: its
        services, `people` taking part (to be invited), its pages, the declared event, and
        the note naming who is on call for each service (said in the channel once the
        invitations went out, as every event is)."""
        now = self._clock()
        incident = Incident(
            number=await incident_store.next_number(session),
            request_key=request.request_key,
            title=request.title,
            description=request.description,
            severity=request.severity,
            status=self._config.initial_status,
            private=request.private or request.security,
            security=request.security,
            declared_by=request.actor,
            declared_at=now,
            last_update_at=now,
            lease_until=now + timedelta(seconds=self._config.lease_seconds),
        )
        incident_id = await incident_store.insert(session, incident)
        rows: list[incident_store.Row] = [
            IncidentServiceLink(
                incident_id=incident_id, entity_ref=c.entity.ref, name=c.entity.display_name
            )
            for c in contacts
        ]
        # A new incident has nobody yet: no need to ask the database who takes part.
        rows += [IncidentParticipant(incident_id=incident_id, user_id=u) for u in people]
        rows += self._page_rows(incident_id, contacts, now)
        rows.append(self._event(incident_id, request.actor, "declared", "", now))
        on_call = [(c.entity.display_name, _user_ids(c.oncall_now)) for c in contacts]
        if said := oncall_invited(on_call):
            rows.append(self._event(incident_id, "", "note", said, now))
        return incident, rows

    async def _people(self, actor: str, contacts: list[Contacts]) -> list[str]:
        """Who takes part from the start, each once: the declarer, the services' owners
        (their user groups' members too) and whoever is on call for them now."""
        owners = [u for c in contacts for u in (*c.users, *_user_ids(c.oncall_now))]
        for group in {g for c in contacts for g in c.usergroups}:
            owners += await self._members(group)
        return [u for u in dict.fromkeys([actor, *owners]) if u]

    async def _members(self, usergroup: str) -> list[str]:
        try:
            return await self._gateway.usergroup_members(usergroup)
        except SlackFailure:
            return []

    @staticmethod
    def _page_rows(incident_id: int, contacts: list[Contacts], now: datetime) -> list[IncidentPage]:
        return [
            IncidentPage(
                incident_id=incident_id,
                entity_ref=contact.entity.ref,
                name=contact.entity.display_name,
                provider=target.provider,
                target_type=target.target_type,
                target_id=target.target_id,
                next_attempt_at=now,
            )
            for contact in contacts
            for target in contact.oncall
        ]

    # changing

    async def act(self, act: Act, actor: str, channel_id: str, *, key: str = "") -> IncidentView:
        """A typed `/incident` action, on the incident it names or whose channel this is."""
        view = await self.find(act.number, channel_id)
        assert view.incident.id is not None
        return await self.change(view.incident.id, actor, act.action, act.value, act.user, key=key)

    async def change(
        self,
        incident_id: int,
        actor: str,
        action: str,
        value: str = "",
        user: str = "",
        *,
        key: str = "",
    ) -> IncidentView:
        """Apply one action (status, severity, assign, update, resolve, close, page), from
        whatever surface. `key` is Slack's identity of the request ("" for none: the command
        line, tests): a request carried out before raises `Replayed` and changes nothing."""
        now = self._clock()
        async with self._sessions() as session:
            # Checked first: a replay of "status identified" must not be told "identified
            # already"; claimed last, with the change, so a refused request claims nothing.
            if key and await request_store.seen(session, key):
                raise Replayed(key)
            incident = await incident_store.by_id(session, incident_id)
            if incident is None:
                raise Refused("That incident no longer exists.")
            about_incident(ref(incident.number))
            value = self._checked(action, value, user)
            await self._may_change(session, incident, actor, action, value)
            text = await self._apply(session, incident, actor, action, value, user, now)
            incident.version += 1
            if incident.acknowledged_at is None:
                incident.acknowledged_at = now  # the first responder action
            event = self._event(incident_id, actor, action, text, now, value=value, user=user)
            incident_store.add(session, incident, event)
            if key and not await request_store.claim(session, key, now):
                raise Replayed(key)  # a concurrent delivery of the same request won
            await incident_store.save(session)
            return await _view(session, incident)

    def _checked(self, action: str, value: str, user: str) -> str:
        """`value` as the bot offered it (a status, a severity, a role; for assign, `user`
        a Slack user id), else refused: a crafted value is never stored or echoed."""
        config = self._config
        if action == "status" and config.status(value) is None:
            names = ", ".join(f"`{s.name}`" for s in config.statuses)
            raise Refused(f"{_shown(value)} is not a status. Choose one of {names}.", "status")
        if action == "severity":
            severity = config.severity(value)
            if severity is None:
                names = ", ".join(f"`{s.name}`" for s in config.severities)
                raise Refused(
                    f"{_shown(value)} is not a severity. Choose one of {names}.", "severity"
                )
            return severity.name
        if action == "assign":
            if value not in config.roles:
                names = ", ".join(f"`{r}`" for r in config.roles)
                raise Refused(
                    f"{_shown(value)} is not a role. Choose one of {names}.", AssignField.ROLE
                )
            if not USER_ID.match(user):
                raise Refused("Choose a person from your workspace.", AssignField.USER)
        if action in ("page", "update") and not value.strip():
            raise Refused(f"What should I {action}?", PageField.TARGET if action == "page" else "")
        if action not in ACTIONS:
            raise Refused(f"Unknown action {_shown(action)}.")
        return value

    def _target_status(self, incident: Incident, action: str, value: str) -> str:
        """The status `action` moves the incident into; "" for an action that moves none."""
        if action == "resolve":
            return self._config.resolved_status
        if action == "close":
            return self._config.final_status
        return value if action == "status" else ""

    async def _may_change(
        self, session: AsyncSession, incident: Incident, actor: str, action: str, value: str
    ) -> None:
        """The one check of who may change an incident, whatever the surface: nothing on a
        closed one; a private one, its participants only; a restricted target status (by
        default the last), its commander and the responders group only."""
        assert incident.id is not None
        await self._may_act(session, incident, actor, "change it")
        target = self._target_status(incident, action, value)
        if target and self._config.restricted(target):
            await self._may_lead(session, incident, actor, target)

    async def _may_act(
        self, session: AsyncSession, incident: Incident, actor: str, what: str
    ) -> None:
        assert incident.id is not None
        if incident.closed_at is not None:
            raise Refused(f"{ref(incident.number)} is closed.")
        if incident.private and actor not in await _members_of(session, incident.id):
            raise Refused(f"{ref(incident.number)} is private: only its participants may {what}.")

    async def _may_lead(
        self, session: AsyncSession, incident: Incident, actor: str, target: str
    ) -> None:
        assert incident.id is not None
        roles = await incident_store.current_roles(session, incident.id)
        lead = self._config.roles[0]
        commander = next((r.user_id for r in roles if r.role == lead), "")
        group = self._config.responders_group
        if actor == commander or (group and actor in await self._members(group)):
            return
        who = f"the {lead}" + (f" or <!subteam^{group}>" if group else "")
        what = "close" if target == self._config.final_status else f"set *{target}* on"
        raise Refused(f"Only {who} may {what} {ref(incident.number)}.")

    async def may_act(self, incident_id: int, actor: str, what: str) -> IncidentView:
        """The incident, when `actor` may act on it (open a form to change it); else Refused
        saying why. The same rule as `change`, for the buttons that open a modal first."""
        async with self._sessions() as session:
            incident = await incident_store.by_id(session, incident_id)
            if incident is None:
                raise Refused("That incident no longer exists.")
            await self._may_act(session, incident, actor, what)
            return await _view(session, incident)

    async def may_take_part(self, incident: IncidentData, actor: str, what: str) -> None:
        """Record keeping (notes, backfills, follow-ups) on a private incident is for its
        participants only; on a closed one it goes on (a postmortem adds to the record)."""
        assert incident.id is not None
        async with self._sessions() as session:
            members = await _members_of(session, incident.id)
        if incident.private and actor not in members:
            raise Refused(f"{ref(incident.number)} is private: only its participants may {what}.")

    async def _apply(
        self,
        session: AsyncSession,
        incident: Incident,
        actor: str,
        action: str,
        value: str,
        user: str,
        now: datetime,
    ) -> str:
        assert incident.id is not None
        who = f"<@{actor}>"
        if action == "status" or action in ("resolve", "close"):
            status = {
                "resolve": self._config.resolved_status,
                "close": self._config.final_status,
            }.get(action, value)
            return self._set_status(incident, status, who, now)
        if action == "severity":
            if value == incident.severity:
                raise Refused(f"{ref(incident.number)} is {value} already.")
            old, incident.severity = incident.severity, value
            return f"{who} changed the severity from *{old}* to *{value}*."
        if action == "assign":
            await incident_store.end_role(session, incident.id, value, now)
            role = IncidentRole(
                incident_id=incident.id, role=value, user_id=user, assigned_by=actor, started_at=now
            )
            incident_store.add(session, role)
            await incident_store.add_participants(session, incident.id, [user])
            return f"{who} made <@{user}> the {value}."
        if action == "update":
            incident.last_update_at = now
            incident.reminders_snoozed_until = None
            return f"*Status update* from {who}: {safe(value, 2800)}"
        if action == "page":
            return await self._page_more(session, incident, who, value, now)
        raise Refused(f"Unknown action {action}.")

    def _set_status(self, incident: Incident, status: str, who: str, now: datetime) -> str:
        if status == incident.status:
            raise Refused(f"{ref(incident.number)} is {status} already.")
        names = [s.name for s in self._config.statuses]
        old, incident.status = incident.status, status
        incident.last_update_at = now
        reached = names.index(status)
        for s in self._config.statuses[: reached + 1]:  # later milestones imply earlier ones
            if s.milestone and getattr(incident, f"{s.milestone}_at") is None:
                setattr(incident, f"{s.milestone}_at", now)
        if incident.resolved_at is not None and reached < names.index(self._config.resolved_status):
            incident.resolved_at = None  # reopened
        return f"{who} changed the status from *{old}* to *{status}*."

    async def _page_more(
        self, session: AsyncSession, incident: Incident, who: str, target: str, now: datetime
    ) -> str:
        assert incident.id is not None
        entity, close = await self._catalog.find(target)
        if entity is None:
            hint = ", ".join(f"`{e.name}`" for e in close[:5])
            raise Refused(
                f"Nothing called `{safe(target, 100)}` in the catalog."
                + (f" Did you mean {hint}?" if hint else "")
            )
        contacts = await self._catalog.contacts(entity.ref)
        if contacts is None or not contacts.oncall:
            raise Refused(
                f"The catalog says nothing about how to page {safe(entity.display_name, 100)}."
            )
        incident_store.add(session, *self._page_rows(incident.id, [contacts], now))
        await incident_store.add_participants(session, incident.id, contacts.users)
        return f"{who} is paging the on-call of *{safe(entity.display_name, 100)}*."

    async def pager_acknowledged(self, provider: str, key: str, who: str) -> int | None:
        """A pager says someone acknowledged our page: the incident's acknowledged milestone
        (when it is the first response) and a line in the channel. Returns the incident id,
        None for a page that is not ours."""
        now = self._clock()
        async with self._sessions() as session:
            page = await incident_store.page_by_receipt(session, provider, key)
            incident = await incident_store.by_id(session, page.incident_id) if page else None
            if page is None or incident is None:
                return None
            if incident.acknowledged_at is None:
                incident.acknowledged_at = now
            text = (
                f"{safe(who, 100) or 'Someone'} acknowledged the page for *{safe(page.name, 100)}*."
            )
            event = self._event(page.incident_id, "", "pager-ack", text, now)
            await incident_store.save(session, incident, event)
            return page.incident_id

    async def snooze(self, incident_id: int, actor: str, minutes: int, *, key: str = "") -> None:
        async with self._sessions() as session:
            incident = await self._reminded(session, incident_id, actor, key)
            incident.reminders_snoozed_until = self._clock() + timedelta(minutes=minutes)
            said = f"<@{actor}> snoozed status reminders for {minutes} minutes."
            event = self._event(incident_id, actor, "snooze", said, self._clock())
            await incident_store.save(session, incident, event)

    async def stop_reminders(self, incident_id: int, actor: str, *, key: str = "") -> None:
        async with self._sessions() as session:
            incident = await self._reminded(session, incident_id, actor, key)
            incident.reminders_off = True
            said = f"<@{actor}> turned status reminders off."
            event = self._event(incident_id, actor, "reminders-off", said, self._clock())
            await incident_store.save(session, incident, event)

    async def _reminded(
        self, session: AsyncSession, incident_id: int, actor: str, key: str
    ) -> Incident:
        """The incident whose reminders `actor` snoozes or stops, claimed for `key`."""
        if key and not await request_store.claim(session, key, self._clock()):
            raise Replayed(key)
        incident = await incident_store.by_id(session, incident_id)
        if incident is None:
            raise Refused("That incident no longer exists.")
        await self._may_act(session, incident, actor, "change its reminders")
        return incident

    @staticmethod
    def _event(
        incident_id: int, actor: str, kind: str, text: str, at: datetime, **data: str
    ) -> IncidentEvent:
        return IncidentEvent(
            incident_id=incident_id,
            at=at,
            actor=actor,
            kind=kind,
            text=text,
            data={k: v for k, v in data.items() if v},
        )


def _shown(value: str) -> str:
    """A value from a payload, for a refusal: escaped, in backticks it cannot break out of."""
    quoted = safe(value.replace("`", "'"), 100)
    return f"`{quoted}`"


async def _members_of(session: AsyncSession, incident_id: int) -> set[str]:
    return {p.user_id for p in await incident_store.participants(session, incident_id)}


async def _view(session: AsyncSession, incident: Incident) -> IncidentView:
    (view,) = await _views(session, [incident])
    return view


async def _views(session: AsyncSession, incidents: Sequence[Incident]) -> list[IncidentView]:
    """Views of many incidents in three queries, whatever their number (a listing)."""
    ids = [i.id for i in incidents if i.id is not None]
    services = await incident_store.services_of(session, ids)
    roles = await incident_store.current_roles_of(session, ids)
    return [
        incident_view(i, services.get(i.id or 0, []), roles.get(i.id or 0, [])) for i in incidents
    ]


def _user_ids(users: Sequence[str]) -> list[str]:
    """The Slack user ids among `users` (a stored fact is checked again before it is
    mentioned, or stored as a participant)."""
    return [u for u in users if USER_ID.match(u)]

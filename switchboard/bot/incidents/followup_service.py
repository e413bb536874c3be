"""Follow-ups: action items from incidents, owned by a person or a team, tracked to done or
won't do. The row is stored first; the incident channel hears of it afterwards, so a failed
post loses nothing."""

from __future__ import annotations

import logging
from typing import Any

from switchboard.bot.catalog.api import CatalogReader, parse_owner_text
from switchboard.bot.incidents.followup_messages import (
    USAGE,
    BadField,
    Draft,
    Listing,
    Scope,
    announcement,
    modal,
    origin,
    parse,
)
from switchboard.bot.incidents.modal_fields import FollowUpField
from switchboard.bot.incidents.service import (
    USER_ID,
    IncidentService,
    Refused,
    Replayed,
)
from switchboard.bot.incidents.views import (
    IncidentData,
    IncidentView,
    Item,
    followup_data,
    followup_item,
    incident_data,
)
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.bot.platform.text import safe
from switchboard.storage import followup_store, incident_store, request_store
from switchboard.storage.followup_store import Filter
from switchboard.storage.tables import FollowUp

log = logging.getLogger(__name__)
PAGE = 20  # follow-ups a listing shows: two blocks each and four more stay within Slack's 50


class FollowUpService:
    def __init__(self, deps: Deps, incidents: IncidentService, catalog: CatalogReader) -> None:
        self._sessions = deps.sessions
        self._config = deps.config
        self._incidents = incidents
        self._catalog = catalog
        self._gateway = deps.gateway
        self._clock = deps.clock

    # adding

    async def add_typed(
        self, number: int | None, channel_id: str, actor: str, text: str, *, key: str = ""
    ) -> Item:
        """`/incident followup <text> [<@owner>] [team:<name>] [due:YYYY-MM-DD]`, on the
        incident named, or whose channel this is. `key`: Slack's identity of the request (a
        request carried out before raises `Replayed`)."""
        draft = parse(text)
        view = await self._incidents.find(number, channel_id)
        return await self._add(view, actor, draft, key)

    async def add(self, incident_id: int, actor: str, draft: Draft, *, key: str = "") -> Item:
        """A follow-up from the "Add follow-up" modal."""
        return await self._add(await self._view(incident_id), actor, draft, key)

    async def form(self, value: str, actor: str) -> dict[str, Any]:
        """The "Add follow-up" modal for a "Follow up" button's value; refused before it is
        shown to someone who may not add follow-ups to the incident."""
        view = await self._view(origin(value)[0])
        await self._may_touch(view.incident, actor, "add follow-ups to it")
        return modal(value, view.incident.number)

    async def _add(self, view: IncidentView, actor: str, draft: Draft, key: str) -> Item:
        incident = view.incident
        assert incident.id is not None
        await self._may_touch(incident, actor, "add follow-ups to it")
        if draft.owner_user and not USER_ID.match(draft.owner_user):
            raise BadField(FollowUpField.OWNER, "Choose the owner from your workspace.")
        owner_user, owner_team = draft.owner_user, await self._team(draft.team)
        if not (owner_user or owner_team):
            owner_team = await self._owning_team(view)
            owner_user = "" if owner_team else incident.declared_by
        followup = FollowUp(
            incident_id=incident.id,
            text=draft.text,
            owner_user=owner_user,
            owner_team=owner_team,
            due=draft.due,
            created_by=actor,
            created_at=self._clock(),
            timeline_entry_id=draft.timeline_entry_id,
        )
        async with self._sessions() as session:
            if key and not await request_store.claim(session, key, self._clock()):
                raise Replayed(key)
            await followup_store.add(session, followup)
        return Item(followup_data(followup), incident)

    async def _team(self, name: str) -> str:
        """The catalog ref of the team called `name`; "" for no name."""
        if not name:
            return ""
        entity, close = await self._catalog.find(f"team:{name}")
        if entity is None:
            hint = ", ".join(f"`{e.name}`" for e in close[:5])
            raise BadField(
                FollowUpField.TEAM,
                f"No team called `{safe(name, 100)}` in the catalog."
                + (f" Did you mean {hint}?" if hint else ""),
            )
        return entity.ref

    async def _owning_team(self, view: IncidentView) -> str:
        """The team owning the incident's first affected service; "" when there is none."""
        if not view.services:
            return ""
        contacts = await self._catalog.contacts(view.services[0].entity_ref)
        if contacts is None:  # gone from the catalog since the incident was declared
            return ""
        entity = contacts.entity
        if entity.kind == "group":  # a team itself was affected
            return entity.ref
        # Owner refs are `kind:namespace/name`: the teams are the `group:` ones.
        return next((owner for owner in entity.owners if owner.startswith("group:")), "")

    # listing

    async def listing(self, viewer: str, channel_id: str, text: str) -> Listing:
        """`/incident followups [team:<name>|<@user>]`: with nobody named, the follow-ups of
        the incident whose channel this is, elsewhere the viewer's own open ones."""
        return await self._relist(await self._scope(viewer, channel_id, text), viewer)

    async def _scope(self, viewer: str, channel_id: str, text: str) -> Scope:
        query = parse_owner_text(text)
        if query.kind == "person":
            return Scope("user", query.value)
        if query.kind == "team":
            return Scope("team", await self._team(query.value))
        if query.kind != "usage":
            raise Refused(USAGE)
        async with self._sessions() as session:
            incident = await incident_store.by_channel(session, channel_id)
        return Scope("incident", str(incident.id)) if incident else Scope("user", viewer)

    async def _relist(self, scope: Scope, viewer: str) -> Listing:
        """What `scope` lists, as `viewer` may see it: follow-ups of private incidents they
        take no part in are only counted (or, configured so, not even that)."""
        incident, which = None, _filter(scope)
        async with self._sessions() as session:
            if which.incident_id is not None:
                row = await incident_store.by_id(session, which.incident_id)
                if row is None:
                    raise Refused("That incident no longer exists.")
                incident = incident_data(row)
            rows = await followup_store.visible(session, which, viewer, PAGE)
            readable, hidden = await followup_store.count(session, which, viewer)
        return Listing(
            scope,
            [followup_item(followup, of) for followup, of in rows],
            more=readable - len(rows),
            hidden=hidden if self._config.incidents.private_in_public == "count" else 0,
            today=self._clock().astimezone(self._config.tz).date(),
            incident=incident,
            may_add=incident is not None and await self._may(incident, viewer),
        )

    # closing

    async def close(
        self, followup_id: int, actor: str, state: str, scope: Scope, *, key: str = ""
    ) -> tuple[Item, Listing]:
        """Mark an open follow-up done or won't do; returns it and its listing, again."""
        async with self._sessions() as session:
            followup = await followup_store.by_id(session, followup_id)
            if followup is None:
                raise Refused("That follow-up no longer exists.")
            row = await incident_store.by_id(session, followup.incident_id)
            assert row is not None  # its follow-ups go with it
            incident = incident_data(row)
            await self._may_touch(incident, actor, "close its follow-ups")
            if key and not await request_store.claim(session, key, self._clock()):
                raise Replayed(key)
            if not await followup_store.close(session, followup, state, actor, self._clock()):
                raise Refused("That follow-up was closed already.")
        return Item(followup_data(followup), incident), await self._relist(scope, actor)

    # telling the channel

    async def announce(self, item: Item, actor: str) -> None:
        """Say a new or closed follow-up in the incident channel. Only said: a failure is
        logged, the follow-up stays as stored."""
        channel = item.incident.channel_id
        if not channel:
            return
        try:
            await self._gateway.post(channel, announcement(item, actor))
        except SlackFailure as failure:
            log.warning("follow-up %s not said in %s: %s", item.followup.id, channel, failure)

    # permissions

    async def _view(self, incident_id: int) -> IncidentView:
        view = await self._incidents.view(incident_id)
        if view is None:
            raise Refused("That incident no longer exists.")
        return view

    async def _may(self, incident: IncidentData, user: str) -> bool:
        try:
            await self._may_touch(incident, user, "add follow-ups to it")
        except Refused:
            return False
        return True

    async def _may_touch(self, incident: IncidentData, user: str, what: str) -> None:
        """The incidents' own rule for record keeping (one rule, every surface)."""
        await self._incidents.may_take_part(incident, user, what)


def _filter(scope: Scope) -> Filter:
    if scope.kind == "incident":
        return Filter(incident_id=int(scope.key))
    if scope.kind == "team":
        return Filter(owner_team=scope.key, open_only=True)
    return Filter(owner_user=scope.key, open_only=True)

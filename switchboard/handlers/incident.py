"""Listeners for `/incident`, its modals, the buttons on incident cards and reminders."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.config import IncidentsConfig
from switchboard.bot.incidents import commands, messages, modals
from switchboard.bot.incidents.commands import (
    Act,
    Declare,
    Help,
    Invalid,
    ListOpen,
    OpenDeclareModal,
    Record,
)
from switchboard.bot.incidents.service import DeclareRequest, IncidentService, Refused
from switchboard.bot.incidents.sync import IncidentSync
from switchboard.bot.owner import OwnerService
from switchboard.bot.slack_gateway import SlackFailure, SlackGateway
from switchboard.handlers.lookup import answer_after_ack
from switchboard.handlers.middleware import FAILED

log = logging.getLogger(__name__)
COMMAND = "/incident"
SNOOZE_MINUTES = 30
DECLARE_FAILED = (
    "I could not store your incident: something on my side failed (the database?). "
    "Nothing was declared; try again in a minute."
)
Body = dict[str, Any]


class RecordHandler(Protocol):
    """Answers one kind of record-keeping command (`note`, `timeline`, `followup`...)."""

    verbs: tuple[str, ...]

    async def record(
        self, ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any], parsed: Record
    ) -> None: ...

    def register(self, app: AsyncApp) -> None: ...


class IncidentHandlers:
    """The Slack edge of incidents: parse, call the service, reply; then let the sync bring
    the channel and cards in line (after the ack, so Slack never waits for it)."""

    def __init__(
        self,
        config: IncidentsConfig,
        incidents: IncidentService,
        sync: IncidentSync,
        catalog: OwnerService,
        gateway: SlackGateway,
        lane: asyncio.Semaphore,
    ) -> None:
        """`lane` bounds the answers worked on at once after their acks (see lookup.py)."""
        self.config = config
        self.incidents = incidents
        self.sync = sync
        self.catalog = catalog
        self.gateway = gateway
        self.records: dict[str, RecordHandler] = {}
        self.lane = lane

    def add(self, handler: RecordHandler) -> None:
        """Let `handler` answer its record-keeping verbs of `/incident`."""
        for verb in handler.verbs:
            self.records[verb] = handler

    def register(self, app: AsyncApp) -> None:
        for handler in dict.fromkeys(self.records.values()):
            handler.register(app)
        app.command(COMMAND)(self.command)
        app.view(modals.DECLARE)(self.declare_submitted)
        app.view(modals.ASSIGN)(self.assign_submitted)
        app.view(modals.PAGE)(self.page_submitted)
        app.options(modals.SERVICES_SEARCH)(self.search_services)
        app.options(modals.PAGE_SEARCH)(self.search_targets)
        for action in (messages.STATUS_ACTION, messages.SEVERITY_ACTION):
            app.action(action)(self.select_changed)
        app.action(messages.RESOLVE_ACTION)(self.resolve_clicked)
        app.action(messages.ASSIGN_ACTION)(self.assign_clicked)
        app.action(messages.PAGE_ACTION)(self.page_clicked)
        app.action(messages.SNOOZE_ACTION)(self.snooze_clicked)
        app.action(messages.DISMISS_ACTION)(self.dismiss_clicked)

    # the slash command

    async def command(self, ack: AsyncAck, command: Body, respond: AsyncRespond) -> None:
        parsed = commands.parse(command.get("text") or "", self.config)
        user, channel = command["user_id"], command.get("channel_id", "")
        if isinstance(parsed, Help):
            await _say(ack, commands.HELP)
        elif isinstance(parsed, Invalid):
            await _say(ack, parsed.message)
        elif isinstance(parsed, ListOpen):
            await ack()
            await answer_after_ack(respond, lambda: self._listing(user), COMMAND, FAILED, self.lane)
        elif isinstance(parsed, OpenDeclareModal):
            await ack()
            await self.gateway.open_view(
                command["trigger_id"], modals.declare(self.config, channel)
            )
        elif isinstance(parsed, Declare):
            await self._declare_from_text(ack, respond, command, parsed)
        elif isinstance(parsed, Act):
            await self._refusing(ack, lambda: self.incidents.act(parsed, user, channel))
        elif isinstance(parsed, Record):
            handler = self.records.get(parsed.verb)
            if handler is None:
                await _say(ack, f"`/incident {parsed.verb}` is not available yet.")
            else:
                await handler.record(ack, respond, command, parsed)

    async def _listing(self, user: str) -> dict[str, Any]:
        views, mine = await self.incidents.open_for(user)
        return {"text": messages.listing(views, self.config, mine)}

    async def _declare_from_text(
        self, ack: AsyncAck, respond: AsyncRespond, command: Body, parsed: Declare
    ) -> None:
        # Ack at once: Slack waits for nothing; the rest is told through the response URL.
        await _say(ack, "Declaring your incident…")
        try:
            services = await self.incidents.resolve_services(parsed.services)
            request = DeclareRequest(
                request_key=f"trigger:{command['trigger_id']}",
                actor=command["user_id"],
                title=parsed.title,
                severity=parsed.severity,
                services=tuple(services),
            )
            incident, _ = await self.incidents.declare(request)
        except Refused as refusal:
            await respond(text=str(refusal))
            return
        except Exception:
            # Already acked: say so here, or the declarer waits for nothing.
            log.exception("declare failed")
            await respond(text=DECLARE_FAILED)
            return
        await self._synced(incident.id, respond)

    async def _synced(self, incident_id: int | None, respond: AsyncRespond | None = None) -> None:
        assert incident_id is not None
        done = await self.sync.run(incident_id)
        view = await self.incidents.view(incident_id)
        if respond is None or view is None:
            return
        if view.incident.channel_id:
            note = "" if done else " Some Slack steps failed; I keep retrying them."
            await respond(text=f"*{view.ref}* is declared: <#{view.incident.channel_id}>.{note}")
        else:
            await respond(text=f"*{view.ref}* is stored; Slack is slow, its channel will follow.")

    async def _refusing(
        self, ack: AsyncAck, change: Callable[[], Awaitable[messages.IncidentView]]
    ) -> None:
        try:
            view = await change()
        except Refused as refusal:
            await _say(ack, str(refusal))
            return
        await ack()
        await self._synced(view.incident.id)

    # modals

    async def declare_submitted(self, ack: AsyncAck, body: Body, view: Body) -> None:
        values = view["state"]["values"]
        title = _value(values, "title").strip()
        if not title:
            await ack(response_action="errors", errors={"title": "Give the incident a title."})
            return
        options = {
            o["value"]
            for o in values.get("options", {}).get("value", {}).get("selected_options") or []
        }
        services = (
            values.get("services", {}).get(modals.SERVICES_SEARCH, {}).get("selected_options") or []
        )
        request = DeclareRequest(
            request_key=f"view:{view['id']}",
            actor=body["user"]["id"],
            title=title,
            severity=_selected(values, "severity") or self.config.lowest_severity.name,
            services=tuple(o["value"] for o in services),
            description=_value(values, "description").strip(),
            private="private" in options,
            security="security" in options,
        )
        try:
            incident, _ = await self.incidents.declare(request)
        except Refused as refusal:
            await ack(response_action="errors", errors={"title": str(refusal)})
            return
        await ack()
        await self._synced(incident.id)
        await self._tell(view.get("private_metadata", ""), request.actor, incident.id)

    async def _tell(self, channel: str, user: str, incident_id: int | None) -> None:
        """Tell whoever declared from the modal where the incident lives."""
        view = await self.incidents.view(incident_id or 0)
        if not channel or view is None or not view.incident.channel_id:
            return
        try:
            await self.gateway.post_ephemeral(
                channel, user, f"*{view.ref}* is declared: <#{view.incident.channel_id}>."
            )
        except SlackFailure as failure:
            log.info("could not tell %s about %s: %s", user, view.ref, failure.error)

    async def assign_submitted(self, ack: AsyncAck, body: Body, view: Body) -> None:
        values = view["state"]["values"]
        role, user = _selected(values, "role"), values["user"]["value"].get("selected_user")
        await self._view_change(
            ack, body, view, "assign", role or self.config.roles[0], user or "", "user"
        )

    async def page_submitted(self, ack: AsyncAck, body: Body, view: Body) -> None:
        target = view["state"]["values"]["target"][modals.PAGE_SEARCH].get("selected_option") or {}
        await self._view_change(ack, body, view, "page", target.get("value", ""), "", "target")

    async def _view_change(
        self, ack: AsyncAck, body: Body, view: Body, action: str, value: str, user: str, block: str
    ) -> None:
        incident_id = int(view["private_metadata"])
        try:
            await self.incidents.change(incident_id, body["user"]["id"], action, value, user)
        except Refused as refusal:
            await ack(response_action="errors", errors={block: str(refusal)})
            return
        await ack()
        await self._synced(incident_id)

    async def search_services(self, ack: AsyncAck, payload: Body) -> None:
        found = await self.catalog.suggest(payload.get("value", ""), teams=False)
        await ack(options=[_entity_option(e.ref, e.display_name, e.type or e.kind) for e in found])

    async def search_targets(self, ack: AsyncAck, payload: Body) -> None:
        found = await self.catalog.suggest(payload.get("value", ""), teams=True)
        options = [
            _entity_option(
                ("team:" if e.kind == "group" else "") + e.name,
                e.display_name,
                "team" if e.kind == "group" else e.type or e.kind,
            )
            for e in found
        ]
        await ack(options=options)

    # card buttons

    async def select_changed(
        self, ack: AsyncAck, body: Body, action: Body, respond: AsyncRespond
    ) -> None:
        incident, _, value = action["selected_option"]["value"].partition(":")
        kind = "status" if action["action_id"] == messages.STATUS_ACTION else "severity"
        await self._button_change(ack, respond, body, int(incident), kind, value)

    async def resolve_clicked(
        self, ack: AsyncAck, body: Body, action: Body, respond: AsyncRespond
    ) -> None:
        await self._button_change(ack, respond, body, int(action["value"]), "resolve", "")

    async def _button_change(
        self,
        ack: AsyncAck,
        respond: AsyncRespond,
        body: Body,
        incident_id: int,
        kind: str,
        value: str,
    ) -> None:
        await ack()
        try:
            await self.incidents.change(incident_id, body["user"]["id"], kind, value)
        except Refused as refusal:
            await respond(text=str(refusal), response_type="ephemeral", replace_original=False)
            return
        await self._synced(incident_id)

    async def assign_clicked(self, ack: AsyncAck, body: Body, action: Body) -> None:
        await ack()
        view = await self.incidents.view(int(action["value"]))
        if view is not None:
            await self.gateway.open_view(
                body["trigger_id"],
                modals.assign(self.config, int(action["value"]), view.incident.number),
            )

    async def page_clicked(self, ack: AsyncAck, body: Body, action: Body) -> None:
        await ack()
        view = await self.incidents.view(int(action["value"]))
        if view is not None:
            await self.gateway.open_view(
                body["trigger_id"], modals.page(int(action["value"]), view.incident.number)
            )

    async def snooze_clicked(
        self, ack: AsyncAck, body: Body, action: Body, respond: AsyncRespond
    ) -> None:
        await ack()
        await self.incidents.snooze(int(action["value"]), body["user"]["id"], SNOOZE_MINUTES)
        await respond(
            text=f"Reminders snoozed for {SNOOZE_MINUTES} minutes.", replace_original=True
        )
        await self._synced(int(action["value"]))

    async def dismiss_clicked(
        self, ack: AsyncAck, body: Body, action: Body, respond: AsyncRespond
    ) -> None:
        await ack()
        await self.incidents.stop_reminders(int(action["value"]), body["user"]["id"])
        await respond(text="Status reminders are off for this incident.", replace_original=True)
        await self._synced(int(action["value"]))


async def _say(ack: AsyncAck, text: str) -> None:
    await ack(text=text, response_type="ephemeral")


def _value(values: Body, block: str) -> str:
    return str(values.get(block, {}).get("value", {}).get("value") or "")


def _selected(values: Body, block: str) -> str | None:
    option = values.get(block, {}).get("value", {}).get("selected_option") or {}
    return str(option["value"]) if option.get("value") else None


def _entity_option(value: str, name: str, kind: str) -> dict[str, Any]:
    label = f"{name} ({kind})" if kind else name
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": value[:150]}

"""Listeners for `/incident`, its modals, the buttons on incident cards and reminders."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.catalog.reader import CatalogReader
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
from switchboard.bot.incidents.modal_fields import (
    PAGE_SEARCH,
    SERVICES_SEARCH,
    AssignField,
    DeclareField,
    PageField,
    Visibility,
)
from switchboard.bot.incidents.service import DeclareRequest, IncidentService, Refused, Replayed
from switchboard.bot.incidents.sync import IncidentSync
from switchboard.bot.incidents.views import IncidentView
from switchboard.bot.platform.config import IncidentsConfig
from switchboard.bot.platform.slack_gateway import SlackFailure, SlackGateway
from switchboard.handlers.incident_requests import (
    AssignValues,
    CardSelect,
    Clicked,
    Command,
    DeclareValues,
    ForIncident,
    IncidentButton,
    PageValues,
    Submitted,
    Suggest,
)
from switchboard.handlers.lookup import answer_after_ack
from switchboard.handlers.payloads import FAILED, parse

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
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Record
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
        catalog: CatalogReader,
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
        app.options(SERVICES_SEARCH)(self.search_services)
        app.options(PAGE_SEARCH)(self.search_targets)
        for action in (messages.STATUS_ACTION, messages.SEVERITY_ACTION):
            app.action(action)(self.select_changed)
        app.action(messages.RESOLVE_ACTION)(self.resolve_clicked)
        app.action(messages.ASSIGN_ACTION)(self.assign_clicked)
        app.action(messages.PAGE_ACTION)(self.page_clicked)
        app.action(messages.SNOOZE_ACTION)(self.snooze_clicked)
        app.action(messages.DISMISS_ACTION)(self.dismiss_clicked)

    # the slash command

    async def command(self, ack: AsyncAck, command: Body, respond: AsyncRespond) -> None:
        request = parse(Command, command)
        parsed = commands.parse(request.text, self.config)
        user, channel = request.user_id, request.channel_id
        if isinstance(parsed, Help):
            await _say(ack, commands.HELP)
        elif isinstance(parsed, Invalid):
            await _say(ack, parsed.message)
        elif isinstance(parsed, ListOpen):
            await ack()
            await answer_after_ack(respond, lambda: self._listing(user), COMMAND, FAILED, self.lane)
        elif isinstance(parsed, OpenDeclareModal):
            await ack()
            await self.gateway.open_view(request.trigger_id, modals.declare(self.config, channel))
        elif isinstance(parsed, Declare):
            await self._declare_from_text(ack, respond, request, parsed)
        elif isinstance(parsed, Act):
            await self._refusing(
                ack, lambda: self.incidents.act(parsed, user, channel, key=request.key)
            )
        elif isinstance(parsed, Record):
            handler = self.records.get(parsed.verb)
            if handler is None:
                await _say(ack, f"`/incident {parsed.verb}` is not available yet.")
            else:
                await handler.record(ack, respond, request, parsed)

    async def _listing(self, user: str) -> dict[str, Any]:
        views, mine = await self.incidents.open_for(user)
        return {"text": messages.listing(views, self.config, mine)}

    async def _declare_from_text(
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Declare
    ) -> None:
        # What can be refused at once is refused in the ack (the catalog's index is in
        # memory: well within Slack's 3 s); only then "Declaring…", and the rest is told
        # through the response URL.
        try:
            services = await self.incidents.resolve_services(parsed.services)
        except Refused as refusal:
            await _say(ack, str(refusal))
            return
        await _say(ack, "Declaring your incident…")
        try:
            request = DeclareRequest(
                request_key=command.key,
                actor=command.user_id,
                title=parsed.title,
                severity=parsed.severity,
                services=tuple(services),
            )
            incident, new = await self.incidents.declare(request)
        except Refused as refusal:
            await respond(text=str(refusal))
            return
        except Exception:
            # Already acked: say so here, or the declarer waits for nothing.
            log.exception("declare failed")
            await respond(text=DECLARE_FAILED)
            return
        await self._synced(incident.id, respond, held=incident.lease_until if new else None)

    async def _synced(
        self,
        incident_id: int | None,
        respond: AsyncRespond | None = None,
        held: datetime | None = None,
    ) -> None:
        """Sync the incident (`held`: the lease a declare stored it with) and tell how it went."""
        assert incident_id is not None
        done = await self.sync.run(incident_id, held)
        view = await self.incidents.view(incident_id)
        if respond is None or view is None:
            return
        if view.incident.channel_id:
            note = "" if done else " Some Slack steps failed; I keep retrying them."
            await respond(text=f"*{view.ref}* is declared: <#{view.incident.channel_id}>.{note}")
        else:
            await respond(text=f"*{view.ref}* is stored; Slack is slow, its channel will follow.")

    async def _refusing(self, ack: AsyncAck, change: Callable[[], Awaitable[IncidentView]]) -> None:
        try:
            view = await change()
        except Refused as refusal:
            await _say(ack, str(refusal))
            return
        except Replayed:
            await ack()  # carried out when it first came
            return
        await ack()
        await self._synced(view.incident.id)

    # modals

    async def declare_submitted(self, ack: AsyncAck, body: Body) -> None:
        submitted = parse(Submitted[DeclareValues], body)
        values = submitted.values
        title = (values.title.value.value if values.title else None) or ""
        if not title.strip():
            errors: dict[str, str] = {DeclareField.TITLE: "Give the incident a title."}
            await ack(response_action="errors", errors=errors)
            return
        options = (
            {o.value for o in values.options.value.selected_options} if values.options else set()
        )
        severity = values.severity.value.selected_option if values.severity else None
        services = values.services.search.selected_options if values.services else ()
        request = DeclareRequest(
            request_key=submitted.key,
            actor=submitted.user.id,
            title=title.strip(),
            severity=severity.value if severity else self.config.lowest_severity.name,
            services=tuple(o.value for o in services),
            description=(
                (values.description.value.value if values.description else None) or ""
            ).strip(),
            private=Visibility.PRIVATE in options,
            security=Visibility.SECURITY in options,
            impact_started=(values.started.value.value if values.started else None) or "",
        )
        try:
            incident, new = await self.incidents.declare(request)
        except Refused as refusal:
            shown = (DeclareField.SEVERITY, DeclareField.SERVICES, DeclareField.STARTED)
            field = refusal.field if refusal.field in shown else DeclareField.TITLE
            await ack(response_action="errors", errors={field: str(refusal)})
            return
        await ack()
        await self._synced(incident.id, held=incident.lease_until if new else None)
        await self._tell(submitted.view.private_metadata, request.actor, incident.id)

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

    async def assign_submitted(self, ack: AsyncAck, body: Body) -> None:
        submitted = parse(Submitted[AssignValues], body)
        values = submitted.values
        role = values.role.value.selected_option if values.role else None
        user = values.user.value.selected_user or ""
        change = ("assign", role.value if role else self.config.roles[0], user)
        await self._view_change(ack, submitted, change, (AssignField.ROLE, AssignField.USER))

    async def page_submitted(self, ack: AsyncAck, body: Body) -> None:
        submitted = parse(Submitted[PageValues], body)
        target = submitted.values.target.search.selected_option
        change = ("page", target.value if target else "", "")
        await self._view_change(ack, submitted, change, (PageField.TARGET,))

    async def _view_change(
        self,
        ack: AsyncAck,
        submitted: Submitted[Any],
        change: tuple[str, str, str],
        blocks: tuple[str, ...],
    ) -> None:
        """Apply `change` (action, value, user) to the modal's incident; a refusal is shown
        on the input it is about (else on the first of `blocks`)."""
        incident_id = parse(ForIncident, {"incident": submitted.view.private_metadata}).incident
        action, value, user = change
        try:
            await self.incidents.change(
                incident_id, submitted.user.id, action, value, user, key=submitted.key
            )
        except Refused as refusal:
            block = refusal.field if refusal.field in blocks else blocks[0]
            await ack(response_action="errors", errors={block: str(refusal)})
            return
        except Replayed:
            await ack()
            return
        await ack()
        await self._synced(incident_id)

    async def search_services(self, ack: AsyncAck, body: Body) -> None:
        typed = parse(Suggest, body).value
        found = await self.catalog.suggest(typed, teams=False)
        await ack(options=[_entity_option(e.ref, e.display_name, e.type or e.kind) for e in found])

    async def search_targets(self, ack: AsyncAck, body: Body) -> None:
        found = await self.catalog.suggest(parse(Suggest, body).value, teams=True)
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

    async def select_changed(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[CardSelect], body)
        incident_id, value = clicked.action.selected_option.value
        kind = "status" if clicked.action.action_id == messages.STATUS_ACTION else "severity"
        await self._button_change(ack, respond, clicked, incident_id, kind, value)

    async def resolve_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[IncidentButton], body)
        await self._button_change(ack, respond, clicked, clicked.action.value, "resolve", "")

    async def _button_change(
        self,
        ack: AsyncAck,
        respond: AsyncRespond,
        clicked: Clicked[Any],
        incident_id: int,
        kind: str,
        value: str,
    ) -> None:
        await ack()
        try:
            await self.incidents.change(incident_id, clicked.user.id, kind, value, key=clicked.key)
        except Refused as refusal:
            await _tell_only(respond, str(refusal))
            return
        except Replayed:
            return
        await self._synced(incident_id)

    async def assign_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[IncidentButton], body)
        await ack()
        view = await self._may_open(respond, clicked)
        if view is not None:
            modal = modals.assign(self.config, clicked.action.value, view.incident.number)
            await self.gateway.open_view(clicked.trigger_id, modal)

    async def page_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[IncidentButton], body)
        await ack()
        view = await self._may_open(respond, clicked)
        if view is not None:
            modal = modals.page(clicked.action.value, view.incident.number)
            await self.gateway.open_view(clicked.trigger_id, modal)

    async def _may_open(
        self, respond: AsyncRespond, clicked: Clicked[IncidentButton]
    ) -> IncidentView | None:
        """The incident, when the clicker may change it (else they are told why): a form is
        not opened for someone whose submission would be refused."""
        try:
            return await self.incidents.may_act(clicked.action.value, clicked.user.id, "change it")
        except Refused as refusal:
            await _tell_only(respond, str(refusal))
            return None

    async def snooze_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[IncidentButton], body)
        await ack()
        incident_id = clicked.action.value
        try:
            await self.incidents.snooze(
                incident_id, clicked.user.id, SNOOZE_MINUTES, key=clicked.key
            )
        except Refused as refusal:
            await _tell_only(respond, str(refusal))
            return
        except Replayed:
            return
        await respond(
            text=f"Reminders snoozed for {SNOOZE_MINUTES} minutes.", replace_original=True
        )
        await self._synced(incident_id)

    async def dismiss_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[IncidentButton], body)
        await ack()
        incident_id = clicked.action.value
        try:
            await self.incidents.stop_reminders(incident_id, clicked.user.id, key=clicked.key)
        except Refused as refusal:
            await _tell_only(respond, str(refusal))
            return
        except Replayed:
            return
        await respond(text="Status reminders are off for this incident.", replace_original=True)
        await self._synced(incident_id)


async def _say(ack: AsyncAck, text: str) -> None:
    await ack(text=text, response_type="ephemeral")


async def _tell_only(respond: AsyncRespond, text: str) -> None:
    """An ephemeral answer to whoever clicked, leaving the message clicked as it is."""
    await respond(text=text, response_type="ephemeral", replace_original=False)


def _entity_option(value: str, name: str, kind: str) -> dict[str, Any]:
    label = f"{name} ({kind})" if kind else name
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": value[:150]}

"""Listeners for the timeline: reactions, edited and deleted messages, `/incident note`,
`/incident timeline` and its buttons, and the backfill modal."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.incidents import messages, modals
from switchboard.bot.incidents.commands import Record
from switchboard.bot.incidents.followup_messages import followup_button
from switchboard.bot.incidents.modal_fields import BackfillField
from switchboard.bot.incidents.service import IncidentService, Refused, Replayed
from switchboard.bot.incidents.timeline import TimelineService
from switchboard.bot.incidents.views import IncidentView
from switchboard.bot.platform.slack_gateway import SlackGateway
from switchboard.handlers.incident_requests import (
    BackfillValues,
    Clicked,
    Command,
    ForIncident,
    IncidentButton,
    PageButton,
    Submitted,
)
from switchboard.handlers.payloads import parse

# What manifest.yml subscribes to for the timeline; message events arrive as "message".
EVENTS = ("reaction_added", "reaction_removed", "message.channels", "message.groups")
Body = dict[str, Any]


class TimelineHandlers:
    verbs: tuple[str, ...] = ("note", "timeline")

    def __init__(
        self,
        timeline: TimelineService,
        incidents: IncidentService,
        gateway: SlackGateway,
        timezone: str,
    ) -> None:
        self.timeline = timeline
        self.incidents = incidents
        self.gateway = gateway
        self.timezone = timezone

    def register(self, app: AsyncApp) -> None:
        app.event("reaction_added")(self.reaction_added)
        app.event("reaction_removed")(self.reaction_removed)
        app.event("message")(self.message)
        app.action(re.compile(f"^{messages.TIMELINE_NEXT}:"))(self.page_clicked)
        app.action(messages.TIMELINE_ADD)(self.add_clicked)
        app.view(modals.BACKFILL)(self.backfill_submitted)

    async def reaction_added(self, event: Body) -> None:
        item = event.get("item") or {}
        if item.get("type") == "message":
            await self.timeline.reaction_added(
                item["channel"], item["ts"], event["reaction"], event["user"]
            )

    async def reaction_removed(self, event: Body) -> None:
        item = event.get("item") or {}
        if item.get("type") == "message":
            await self.timeline.reaction_removed(
                item["channel"], item["ts"], event["reaction"], event["user"]
            )

    async def message(self, event: Body) -> None:
        """Edits and deletions of captured messages; other messages are not ours to keep."""
        subtype, channel = event.get("subtype"), event.get("channel", "")
        if subtype == "message_changed":
            changed = event.get("message") or {}
            await self.timeline.message_changed(
                channel, changed.get("ts", ""), changed.get("text", "")
            )
        elif subtype == "message_deleted":
            await self.timeline.message_deleted(channel, event.get("deleted_ts", ""))

    async def record(
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Record
    ) -> None:
        channel, user = command.channel_id, command.user_id
        try:
            if parsed.verb == "note":
                number = await self.timeline.note(
                    parsed.number, channel, user, parsed.text, key=command.key
                )
                await ack(
                    text=f"Added to the timeline of {messages.ref(number)}.",
                    response_type="ephemeral",
                )
                return
            view = await self.incidents.find(parsed.number, channel)
            page = int(parsed.text) if parsed.text.isdigit() and len(parsed.text) < 6 else 1
            await ack(**await self._page(view, page, user))
        except Refused as refusal:
            await ack(text=str(refusal), response_type="ephemeral")
        except Replayed:
            await ack()

    async def _page(self, view: IncidentView, page: int, viewer: str) -> Body:
        assert view.incident.id is not None
        incident_id = view.incident.id
        moments = await self.timeline.moments_for(view, viewer)
        text, blocks = messages.timeline_page(
            view,
            moments,
            page,
            ZoneInfo(self.timezone),
            accessory=lambda moment: followup_button(incident_id, moment.entry_id),
        )
        return {"text": text, "blocks": blocks, "response_type": "ephemeral"}

    async def page_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[PageButton], body)
        await ack()
        incident_id, page = clicked.action.value
        view = await self.incidents.view(incident_id)
        if view is None:
            return
        try:
            answer = await self._page(view, page, clicked.user.id)
        except Refused as refusal:
            answer = {"text": str(refusal), "response_type": "ephemeral"}
        await respond(replace_original=True, **answer)

    async def add_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[IncidentButton], body)
        await ack()
        try:
            view = await self.incidents.view(clicked.action.value)
            if view is None:
                raise Refused("That incident no longer exists.")
            await self.incidents.may_take_part(
                view.incident, clicked.user.id, "add to its timeline"
            )
        except Refused as refusal:
            await respond(text=str(refusal), response_type="ephemeral", replace_original=False)
            return
        modal = modals.backfill(clicked.action.value, view.incident.number, self.timezone)
        await self.gateway.open_view(clicked.trigger_id, modal)

    async def backfill_submitted(self, ack: AsyncAck, body: Body) -> None:
        submitted = parse(Submitted[BackfillValues], body)
        incident_id = parse(ForIncident, {"incident": submitted.view.private_metadata}).incident
        values = submitted.values
        date = values.date.value.selected_date or ""
        time = values.time.value.selected_time or ""
        text = (values.text.value.value or "").strip()
        try:
            at = datetime.fromisoformat(f"{date}T{time}").replace(tzinfo=ZoneInfo(self.timezone))
        except ValueError:
            errors: dict[str, str] = {BackfillField.DATE: "Pick a date and a time."}
            await ack(response_action="errors", errors=errors)
            return
        incident = await self.incidents.view(incident_id)
        if incident is None:
            await ack()
            return
        try:
            await self.timeline.note(
                incident.incident.number, "", submitted.user.id, text, at, key=submitted.key
            )
        except Refused as refusal:
            shown = (BackfillField.DATE, BackfillField.TEXT)
            field = refusal.field if refusal.field in shown else BackfillField.TIME
            await ack(response_action="errors", errors={field: str(refusal)})
            return
        except Replayed:
            pass
        await ack()

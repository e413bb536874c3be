"""Listeners for follow-ups: `/incident followup` and `/incident followups`, the "Follow up"
button and its modal, and the Done / Won't do buttons of listings."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.incidents import followup_messages
from switchboard.bot.incidents.commands import Record
from switchboard.bot.incidents.followup_messages import BadField
from switchboard.bot.incidents.followup_service import FollowUpService
from switchboard.bot.incidents.modal_fields import FollowUpField
from switchboard.bot.incidents.service import Refused, Replayed
from switchboard.bot.platform.slack_gateway import SlackGateway
from switchboard.handlers.incident_requests import (
    Clicked,
    Command,
    FollowUpOrigin,
    FollowUpValues,
    Submitted,
    TextButton,
)
from switchboard.handlers.payloads import Malformed, Payload, parse

Body = dict[str, Any]


class FollowUpHandlers:
    """A `RecordHandler` for the verbs `followup` and `followups`."""

    verbs: tuple[str, ...] = ("followup", "followups")

    def __init__(self, service: FollowUpService, gateway: SlackGateway) -> None:
        self.service = service
        self.gateway = gateway

    def register(self, app: AsyncApp) -> None:
        app.action(followup_messages.OPEN_ACTION)(self.open_clicked)
        app.view(followup_messages.MODAL)(self.submitted)
        for action in followup_messages.CLOSING:
            app.action(action)(self.close_clicked)

    async def record(
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Record
    ) -> None:
        if parsed.verb == "followup":
            await self._add(ack, command, parsed)
        else:
            await self._list(ack, command.user_id, command.channel_id, parsed.text)

    async def _add(self, ack: AsyncAck, command: Command, parsed: Record) -> None:
        user = command.user_id
        try:
            item = await self.service.add_typed(
                parsed.number, command.channel_id, user, parsed.text, key=command.key
            )
        except Refused as refusal:
            await _say(ack, str(refusal))
            return
        except Replayed:
            await ack()
            return
        await _say(ack, followup_messages.confirmation(item))
        await self.service.announce(item, user)

    async def _list(self, ack: AsyncAck, user: str, channel: str, text: str) -> None:
        try:
            found = await self.service.listing(user, channel, text)
        except Refused as refusal:
            await _say(ack, str(refusal))
            return
        text, blocks = followup_messages.listing(found)
        await ack(text=text, blocks=blocks, response_type="ephemeral")

    async def open_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[TextButton], body)
        origin = parse(FollowUpOrigin, {"value": clicked.action.value})
        await ack()
        try:
            form = await self.service.form(origin.value, clicked.user.id)
        except Refused as refusal:
            await respond(text=str(refusal), response_type="ephemeral", replace_original=False)
            return
        await self.gateway.open_view(clicked.trigger_id, form)

    async def submitted(self, ack: AsyncAck, body: Body) -> None:
        submitted = parse(Submitted[FollowUpValues], body)
        parse(FollowUpOrigin, {"value": submitted.view.private_metadata})
        user = submitted.user.id
        try:
            incident_id, draft = followup_messages.read_modal(
                body["view"]
            )  # its shape checked above
            item = await self.service.add(incident_id, user, draft, key=submitted.key)
        except BadField as refusal:
            await ack(response_action="errors", errors={refusal.field: str(refusal)})
            return
        except Refused as refusal:
            await ack(response_action="errors", errors={FollowUpField.TEXT: str(refusal)})
            return
        except Replayed:
            await ack()
            return
        await ack()
        await self.service.announce(item, user)

    async def close_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        clicked = parse(Clicked[TextButton], body)
        closing = parse(Closing, {"value": clicked.action.value})
        state = followup_messages.CLOSING.get(clicked.action.action_id)
        if state is None:
            raise Malformed(f"close_clicked: unknown action {clicked.action.action_id[:50]!r}")
        await ack()
        user = clicked.user.id
        followup_id, scope = followup_messages.read_close(closing.value)
        try:
            item, found = await self.service.close(followup_id, user, state, scope, key=clicked.key)
        except Refused as refusal:
            await respond(text=str(refusal), response_type="ephemeral", replace_original=False)
            return
        except Replayed:
            return
        text, blocks = followup_messages.listing(
            found, notice=followup_messages.announcement(item, user)
        )
        await respond(text=text, blocks=blocks, replace_original=True)
        await self.service.announce(item, user)


class Closing(Payload):
    """A Done / Won't do button's value: `<follow-up id> <scope kind>:<scope key>`."""

    value: Annotated[
        str,
        StringConstraints(
            pattern=r"^\d{1,9} (incident:\d{1,9}|team:\S{1,300}|user:[UW][A-Z0-9]{2,30})$"
        ),
    ]


async def _say(ack: AsyncAck, text: str) -> None:
    await ack(text=text, response_type="ephemeral")

"""Listeners for follow-ups: `/incident followup` and `/incident followups`, the "Follow up"
button and its modal, and the Done / Won't do buttons of listings."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.incidents import followups
from switchboard.bot.incidents.commands import Record
from switchboard.bot.incidents.followup_service import FollowUpService
from switchboard.bot.incidents.followups import BadField
from switchboard.bot.incidents.service import Refused
from switchboard.bot.slack_gateway import SlackGateway

Body = dict[str, Any]


class FollowUpHandlers:
    """A `RecordHandler` for the verbs `followup` and `followups`."""

    verbs: tuple[str, ...] = ("followup", "followups")

    def __init__(self, service: FollowUpService, gateway: SlackGateway) -> None:
        self.service = service
        self.gateway = gateway

    def register(self, app: AsyncApp) -> None:
        app.action(followups.OPEN_ACTION)(self.open_clicked)
        app.view(followups.MODAL)(self.submitted)
        for action in followups.CLOSING:
            app.action(action)(self.close_clicked)

    async def record(
        self, ack: AsyncAck, respond: AsyncRespond, command: Body, parsed: Record
    ) -> None:
        user, channel = command["user_id"], command.get("channel_id", "")
        if parsed.verb == "followup":
            await self._add(ack, user, channel, parsed)
        else:
            await self._list(ack, user, channel, parsed.text)

    async def _add(self, ack: AsyncAck, user: str, channel: str, parsed: Record) -> None:
        try:
            item = await self.service.add_typed(parsed.number, channel, user, parsed.text)
        except Refused as refusal:
            await _say(ack, str(refusal))
            return
        await _say(ack, followups.confirmation(item))
        await self.service.announce(item, user)

    async def _list(self, ack: AsyncAck, user: str, channel: str, text: str) -> None:
        try:
            found = await self.service.listing(user, channel, text)
        except Refused as refusal:
            await _say(ack, str(refusal))
            return
        text, blocks = followups.listing(found)
        await ack(text=text, blocks=blocks, response_type="ephemeral")

    async def open_clicked(
        self, ack: AsyncAck, body: Body, action: Body, respond: AsyncRespond
    ) -> None:
        await ack()
        try:
            form = await self.service.form(action["value"], body["user"]["id"])
        except Refused as refusal:
            await respond(text=str(refusal), response_type="ephemeral", replace_original=False)
            return
        await self.gateway.open_view(body["trigger_id"], form)

    async def submitted(self, ack: AsyncAck, body: Body, view: Body) -> None:
        user = body["user"]["id"]
        try:
            incident_id, draft = followups.read_modal(view)
            item = await self.service.add(incident_id, user, draft)
        except BadField as refusal:
            await ack(response_action="errors", errors={refusal.field: str(refusal)})
            return
        except Refused as refusal:
            await ack(response_action="errors", errors={"text": str(refusal)})
            return
        await ack()
        await self.service.announce(item, user)

    async def close_clicked(
        self, ack: AsyncAck, body: Body, action: Body, respond: AsyncRespond
    ) -> None:
        await ack()
        user = body["user"]["id"]
        state = followups.CLOSING[action["action_id"]]
        followup_id, scope = followups.read_close(action["value"])
        try:
            item, found = await self.service.close(followup_id, user, state, scope)
        except Refused as refusal:
            await respond(text=str(refusal), response_type="ephemeral", replace_original=False)
            return
        text, blocks = followups.listing(found, notice=followups.announcement(item, user))
        await respond(text=text, blocks=blocks, replace_original=True)
        await self.service.announce(item, user)


async def _say(ack: AsyncAck, text: str) -> None:
    await ack(text=text, response_type="ephemeral")

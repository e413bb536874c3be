"""Listeners for the catch-up: someone joined a channel (`member_joined_channel`), and
`/incident catchup`."""

from __future__ import annotations

from typing import Any, Literal

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from switchboard.bot.incidents.catchup import CatchUpService
from switchboard.bot.incidents.commands import Record
from switchboard.bot.incidents.service import Refused
from switchboard.handlers.incident_requests import Command
from switchboard.handlers.payloads import ChannelId, Payload, UserId, parse

EVENT = "member_joined_channel"  # scopes channels:read and groups:read


class Joined(Payload):
    """`member_joined_channel`: who joined which channel (`inviter` and the rest unread)."""

    type: Literal["member_joined_channel"]
    user: UserId
    channel: ChannelId


class CatchUpHandlers:
    verbs: tuple[str, ...] = ("catchup",)

    def __init__(self, catchups: CatchUpService) -> None:
        self.catchups = catchups

    def register(self, app: AsyncApp) -> None:
        app.event(EVENT)(self.joined)

    async def joined(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """Its catch-up to whoever joined an incident's channel (the bot itself excepted:
        Bolt delivers the bot's own joins)."""
        joined = parse(Joined, event)
        await self.catchups.joined(joined.channel, joined.user, context.bot_user_id or "")

    async def record(
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Record
    ) -> None:
        slow = self.catchups.summary is not None  # an outside call: answered after the ack
        if slow:
            await ack()
        try:
            text = await self.catchups.on_demand(parsed.number, command.channel_id, command.user_id)
        except Refused as refusal:
            text = str(refusal)
        if slow:
            await respond(text=text, response_type="ephemeral")
        else:
            await ack(text=text, response_type="ephemeral")

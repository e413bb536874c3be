"""`/incident started <time>`: when the impact started, in the configured time zone."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.incidents.commands import Record
from switchboard.bot.incidents.impact import ImpactService
from switchboard.bot.incidents.service import Refused, Replayed
from switchboard.bot.incidents.sync import IncidentSync
from switchboard.handlers.incident_requests import Command


class StartedHandlers:
    verbs: tuple[str, ...] = ("started",)

    def __init__(self, impact: ImpactService, sync: IncidentSync) -> None:
        self.impact = impact
        self.sync = sync

    def register(self, app: AsyncApp) -> None:
        """Nothing of its own to listen to: it answers through `/incident`."""

    async def record(
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Record
    ) -> None:
        try:
            incident_id, answer = await self.impact.started(
                parsed.number, command.channel_id, command.user_id, parsed.text, key=command.key
            )
        except Refused as refusal:
            await ack(text=str(refusal), response_type="ephemeral")
            return
        except Replayed:
            await ack()
            return
        await ack(text=answer, response_type="ephemeral")
        await self.sync.run(incident_id)  # the timeline line, in the channel

"""`/incident postmortem` and `/incident stats`: the record of incidents, read back."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.incidents import stats
from switchboard.bot.incidents.commands import Record
from switchboard.bot.incidents.postmortem import PostmortemService, TemplateFailure
from switchboard.bot.incidents.service import Refused
from switchboard.bot.incidents.stats import StatsService
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.bot.platform.text import safe
from switchboard.handlers.incident_requests import Command


class PostmortemStatsHandlers:
    verbs: tuple[str, ...] = ("postmortem", "stats")

    def __init__(self, postmortems: PostmortemService, stats_service: StatsService) -> None:
        self.postmortems = postmortems
        self.stats = stats_service

    def register(self, app: AsyncApp) -> None:
        """Nothing of their own to listen to: both answer through `/incident`."""

    async def record(
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Record
    ) -> None:
        if parsed.verb == "stats":
            await self._stats(ack, parsed)
        else:
            await self._postmortem(ack, respond, command, parsed)

    async def _stats(self, ack: AsyncAck, parsed: Record) -> None:
        try:
            found = await self.stats.stats(stats.parse_days(parsed.text))
        except Refused as refusal:
            await ack(text=str(refusal), response_type="ephemeral")
            return
        text, blocks = stats.blocks(found)
        await ack(text=text, blocks=blocks, response_type="ephemeral")

    async def _postmortem(
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Record
    ) -> None:
        # Rendering and uploading can take longer than Slack waits for the ack.
        await ack(text="Drafting the postmortem…", response_type="ephemeral")
        try:
            draft = await self.postmortems.requested(
                parsed.number, command.channel_id, command.user_id
            )
        except Refused as refusal:
            answer = str(refusal)
        except TemplateFailure as failure:
            answer = f"I could not draft the postmortem: {safe(str(failure), 1000)}"
        except SlackFailure as failure:
            answer = f"Slack did not take the draft ({failure.error}). Try again in a moment."
        else:
            channel = draft.view.incident.channel_id
            answer = f"The postmortem draft of *{draft.view.ref}* is in <#{channel}>."
            if not draft.shared:
                answer += (
                    " It has not changed since it was shared there, so it is not posted again."
                )
        await respond(text=answer, response_type="ephemeral")

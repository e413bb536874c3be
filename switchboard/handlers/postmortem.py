"""`/incident postmortem`: the record of an incident, drafted and shared. (`/incident stats` is
insight's: `handlers/insight.py`.)"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.incidents.commands import Record
from switchboard.bot.incidents.postmortem import PostmortemService, TemplateFailure
from switchboard.bot.incidents.service import Refused
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.bot.platform.text import safe
from switchboard.handlers.incident_requests import Command


class PostmortemHandlers:
    verbs: tuple[str, ...] = ("postmortem",)

    def __init__(self, postmortems: PostmortemService) -> None:
        self.postmortems = postmortems

    def register(self, app: AsyncApp) -> None:
        """Nothing of its own to listen to: it answers through `/incident`."""

    async def record(
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

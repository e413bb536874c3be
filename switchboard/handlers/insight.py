"""`/incident stats [days] [service:<id>|team:<name>] [sev:<severity>]`: insight's measures,
only to whoever asked; `/incident stats chart [...]`: the last twelve weeks as a chart in
this channel, for everyone in it (public incidents only)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.incidents.commands import Record
from switchboard.bot.insight.api import (
    ChartSharing,
    InsightService,
    Scope,
    Unclear,
    messages,
    parse_asked,
)
from switchboard.bot.platform.delivery import Key
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.handlers.incident_requests import Command

log = logging.getLogger(__name__)
CHART = "chart"
CHART_KIND = "insight-chart"  # the ledger's kind: one chart per command, however often sent
FAILED = "I could not work the numbers out (the database?). Try again in a minute."


class InsightHandlers:
    verbs: tuple[str, ...] = ("stats",)

    def __init__(self, insight: InsightService, sharing: ChartSharing) -> None:
        self.insight = insight
        self.sharing = sharing

    def register(self, app: AsyncApp) -> None:
        """Nothing of its own to listen to: it answers through `/incident`."""

    async def record(
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Record
    ) -> None:
        words = parsed.text.split()
        chart = bool(words) and words[0].casefold() == CHART
        try:  # refused in the ack: the catalog's index is in memory
            scope = await self.insight.scope(parse_asked(" ".join(words[chart:])))
        except Unclear as unclear:
            await ack(text=str(unclear), response_type="ephemeral")
            return
        if chart:
            await ack(text="Drawing the chart…", response_type="ephemeral")
            await respond(text=await self._chart(command, scope), response_type="ephemeral")
            return
        await ack()
        try:
            found = await self.insight.insight(scope, public=False)
        except Exception:
            log.exception("/incident stats failed")
            await respond(text=FAILED, response_type="ephemeral")
            return
        text, blocks = messages.blocks(found)
        await respond(text=text, blocks=blocks, response_type="ephemeral")

    async def _chart(self, command: Command, scope: Scope) -> str:
        try:
            data = await self.insight.chart(scope)
            shared = await self.sharing.share(
                Key(CHART_KIND, command.key, ""),
                command.channel_id,
                data,
                f"<@{command.user_id}> asked for `/incident stats chart`: {messages.PUBLIC_NOTE}",
            )
        except SlackFailure as failure:
            hint = " Invite me to this channel first." if failure.error == "not_in_channel" else ""
            return f"Slack did not take the chart ({failure.error}).{hint}"
        except Exception:
            log.exception("/incident stats chart failed")
            return FAILED
        if shared.reason == "empty":
            return f"No public incidents in the last 12 weeks ({scope.label}): no chart."
        if shared.reason == "taken":
            return "That chart is shared already."
        return "The chart is in this channel."

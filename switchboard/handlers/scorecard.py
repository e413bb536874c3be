"""Listeners for `/scorecard` and the buttons on its answers."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.scorecards.messages import PICK_ACTION, SHARE_ACTION, render
from switchboard.bot.scorecards.service import ScorecardService

log = logging.getLogger(__name__)

# Slack shows an error unless a slash command is answered within 3 s.
ANSWER_WITHIN = 2.5
UNAVAILABLE = "Switchboard cannot evaluate scorecards right now. Please try again in a minute."

COMMAND = "/scorecard"


def register(app: AsyncApp, scorecards: ScorecardService) -> None:
    async def scorecard_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        try:
            async with asyncio.timeout(ANSWER_WITHIN):
                answer = await scorecards.answer(command.get("text") or "")
        except Exception:
            log.exception("/scorecard failed")
            await ack(text=UNAVAILABLE, response_type="ephemeral")
            return
        await ack(response_type="ephemeral", **render(answer))

    async def pick(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        answer = await scorecards.for_ref(str(action.get("value", "")))
        await respond(replace_original=True, **render(answer))

    async def share(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        answer = await scorecards.for_ref(str(action.get("value", "")))
        user = str(body.get("user", {}).get("id", ""))
        await respond(
            response_type="in_channel", replace_original=False, **render(answer, shared_by=user)
        )

    app.command(COMMAND)(scorecard_command)
    app.action(re.compile(f"^{PICK_ACTION}:"))(pick)
    app.action(SHARE_ACTION)(share)

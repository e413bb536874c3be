"""The Snooze button of follow-up nags (Done / Won't do are the follow-up listing's own)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.nags import SNOOZE_ACTION, FollowUpNags

Body = dict[str, Any]


def register(app: AsyncApp, nags: FollowUpNags) -> None:
    async def snooze_clicked(
        ack: AsyncAck, body: Body, action: Body, respond: AsyncRespond
    ) -> None:
        await ack()
        text = await nags.snooze(action["value"], body["user"]["id"])
        await respond(text=text, replace_original=True)

    app.action(SNOOZE_ACTION)(snooze_clicked)

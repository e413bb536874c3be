"""The Snooze button of follow-up nags (Done / Won't do are the follow-up listing's own)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.teams.followup_nags import SNOOZE_ACTION, FollowUpNags
from switchboard.handlers.payloads import ButtonClick, Payload, RowId, parse

Body = dict[str, Any]


class FollowUps(Payload):
    """The Snooze button's value: the ids of the follow-ups its nag named, comma-separated
    (a nag names a few; Slack's 2,000 characters hold at most a few hundred)."""

    ids: Annotated[tuple[RowId, ...], Field(min_length=1, max_length=500)]


def register(app: AsyncApp, nags: FollowUpNags) -> None:
    async def snooze_clicked(ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        click = parse(ButtonClick, body)
        followups = parse(FollowUps, {"ids": click.action.value.split(",")})
        await ack()
        text = await nags.snooze(followups.ids, click.user.id)
        await respond(text=text, replace_original=True)

    app.action(SNOOZE_ACTION)(snooze_clicked)

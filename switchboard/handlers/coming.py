"""`/scorecard` is declared in the manifest (one Slack app, created once), but scorecards
arrive in a later release. Until then they answer plainly instead of
leaving Slack to show "dispatch_failed"."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from switchboard.bot.text import safe

NOT_YET = "`{command}` is not available in this version of Switchboard yet. (You sent: {text})"

COMMANDS = ("/scorecard",)


def register(app: AsyncApp) -> None:
    async def not_yet(ack: AsyncAck, command: dict[str, Any]) -> None:
        text = safe(command.get("text") or "", 500) or "nothing"
        await ack(
            text=NOT_YET.format(command=command["command"], text=text), response_type="ephemeral"
        )

    for command in COMMANDS:
        app.command(command)(not_yet)

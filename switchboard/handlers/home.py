"""The App Home tab, published whenever someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from switchboard.bot.home import DECLARE_ACTION, HomeService

EVENT = "app_home_opened"


def register(app: AsyncApp, home: HomeService) -> None:
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await home.publish(str(event["user"]))

    async def declare_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await home.open_declare(str(body["trigger_id"]))

    app.event(EVENT)(home_opened)
    app.action(DECLARE_ACTION)(declare_clicked)

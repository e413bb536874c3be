"""The App Home tab, published whenever someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from switchboard.bot.home import HomeService

EVENT = "app_home_opened"


def register(app: AsyncApp, home: HomeService) -> None:
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await home.publish(str(event["user"]))

    app.event(EVENT)(home_opened)

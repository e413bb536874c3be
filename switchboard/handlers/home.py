"""The App Home tab, published whenever someone opens it."""

from __future__ import annotations

from typing import Literal

from slack_bolt.async_app import AsyncApp

from switchboard.bot.home import HomeService
from switchboard.handlers.payloads import Payload, UserId, parse

EVENT = "app_home_opened"


class HomeOpened(Payload):
    """`app_home_opened`: who opened which tab (Slack sends no `tab` in older payloads)."""

    user: UserId
    tab: Literal["home", "messages", "about"] = "home"


def register(app: AsyncApp, home: HomeService) -> None:
    async def home_opened(event: dict[str, object]) -> None:
        opened = parse(HomeOpened, event)
        if opened.tab == "home":
            await home.publish(opened.user)

    app.event(EVENT)(home_opened)

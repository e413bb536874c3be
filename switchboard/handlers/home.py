"""The App Home tab, published whenever someone opens it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints
from slack_bolt.async_app import AsyncAck, AsyncApp

from switchboard.bot.home import DECLARE_ACTION, HomeService
from switchboard.handlers.payloads import Payload, UserId, parse

EVENT = "app_home_opened"


class HomeOpened(Payload):
    """`app_home_opened`: who opened which tab (Slack sends no `tab` in older payloads)."""

    user: UserId
    tab: Literal["home", "messages", "about"] = "home"


class DeclareClicked(Payload):
    """The Home tab's Declare button: the trigger that opens the declare modal."""

    trigger_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]


def register(app: AsyncApp, home: HomeService) -> None:
    async def home_opened(event: dict[str, object]) -> None:
        opened = parse(HomeOpened, event)
        if opened.tab == "home":
            await home.publish(opened.user)

    async def declare_clicked(ack: AsyncAck, body: dict[str, object]) -> None:
        clicked = parse(DeclareClicked, body)
        await ack()
        await home.open_declare(clicked.trigger_id)

    app.event(EVENT)(home_opened)
    app.action(DECLARE_ACTION)(declare_clicked)

"""The App Home tab."""

from __future__ import annotations

from typing import Any

from switchboard.bot.catalog.service import CatalogService
from switchboard.bot.owner_message import USAGE
from switchboard.bot.slack_gateway import SlackGateway


class HomeService:
    def __init__(self, catalog: CatalogService, gateway: SlackGateway) -> None:
        self._catalog = catalog
        self._gateway = gateway

    async def publish(self, user_id: str) -> None:
        await self._gateway.publish_home(user_id, home_view(await self._catalog.counts()))


def home_view(counts: dict[str, int]) -> dict[str, Any]:
    services = sum(n for kind, n in counts.items() if kind not in ("group", "user"))
    summary = (
        f"The catalog knows *{services}* services and other components, "
        f"*{counts.get('group', 0)}* teams and *{counts.get('user', 0)}* people."
    )
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Switchboard"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": USAGE}},
        ],
    }

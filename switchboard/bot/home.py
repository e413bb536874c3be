"""The App Home tab: my open incidents, recent ones, and the catalog at a glance."""

from __future__ import annotations

from typing import Any

from switchboard.bot import blocks as kit
from switchboard.bot.catalog.service import CatalogService
from switchboard.bot.config import IncidentsConfig
from switchboard.bot.incidents.messages import IncidentView, incident_line
from switchboard.bot.incidents.service import IncidentService
from switchboard.bot.owner_message import USAGE
from switchboard.bot.slack_gateway import SlackGateway

RECENT = 10


class HomeService:
    def __init__(
        self,
        catalog: CatalogService,
        incidents: IncidentService,
        config: IncidentsConfig,
        gateway: SlackGateway,
    ) -> None:
        self._catalog = catalog
        self._incidents = incidents
        self._config = config
        self._gateway = gateway

    async def publish(self, user_id: str) -> None:
        mine = await self._incidents.listing(open_only=True, limit=RECENT, user=user_id)
        recent = await self._incidents.listing(open_only=False, limit=RECENT)
        counts = await self._catalog.counts()
        await self._gateway.publish_home(user_id, self.view(mine, recent, counts))

    def view(
        self, mine: list[IncidentView], recent: list[IncidentView], counts: dict[str, int]
    ) -> dict[str, Any]:
        mine_ids = {v.incident.id for v in mine}
        shown = [
            v
            for v in recent
            if v.incident.id in mine_ids
            or not v.incident.private
            or self._config.private_in_public == "count"
        ]
        lines_mine = [incident_line(v, self._config, show_private=True) for v in mine]
        lines_recent = [incident_line(v, self._config, v.incident.id in mine_ids) for v in shown]
        services = sum(n for kind, n in counts.items() if kind not in ("group", "user"))
        summary = (
            f"The catalog knows *{services}* services and other components, "
            f"*{counts.get('group', 0)}* teams and *{counts.get('user', 0)}* people."
        )
        return {
            "type": "home",
            "blocks": [
                kit.header("Your open incidents"),
                kit.section("\n".join(lines_mine) or "None. Declare one with `/incident declare`."),
                kit.header("Recent incidents"),
                kit.section("\n".join(lines_recent) or "None yet."),
                {"type": "divider"},
                kit.header("Service catalog"),
                kit.section(summary),
                kit.section(USAGE),
            ],
        }

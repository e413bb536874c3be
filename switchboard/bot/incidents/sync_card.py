"""The incident's summary card in its channel: posted once, updated on every change."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.bot.incidents import messages
from switchboard.bot.incidents.sync_posting import Poster
from switchboard.bot.incidents.views import IncidentView
from switchboard.bot.platform.config import IncidentsConfig
from switchboard.bot.platform.slack_gateway import SlackGateway
from switchboard.storage.tables import Incident


@dataclass(frozen=True, slots=True)
class CardStep:
    gateway: SlackGateway
    config: IncidentsConfig
    poster: Poster

    async def run(self, incident: Incident, view: IncidentView, in_doubt: bool) -> None:
        """Post or update the card of `incident` (its row), rendered from `view`."""
        if incident.card_version >= incident.version:
            return
        version = incident.version
        text, blocks = messages.card(view, self.config, buttons=True)
        bar = messages.severity_bar(view, self.config)
        if not incident.card_ts:
            incident.card_ts = await self.poster.post_once(
                incident.channel_id,
                f"card:{incident.id}",
                incident.declared_at,
                in_doubt,
                text,
                blocks,
                bar,
            )
        else:
            await self.gateway.update(incident.channel_id, incident.card_ts, text, blocks, bar)
        incident.card_version = version

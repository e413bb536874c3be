"""App Home: the tab each person opens, over the catalog, incidents and follow-ups."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from switchboard.bot.home import HomeService
from switchboard.handlers import home
from switchboard.wiring.catalog import CatalogFeature
from switchboard.wiring.core import Core, Feature
from switchboard.wiring.incidents import IncidentsFeature
from switchboard.wiring.insight import InsightFeature


@dataclass
class HomeFeature(Feature):
    service: HomeService

    def listeners(self, bolt: AsyncApp, lane: asyncio.Semaphore) -> None:
        home.register(bolt, self.service)


def wire_home(
    core: Core, catalog: CatalogFeature, incidents: IncidentsFeature, insight: InsightFeature
) -> HomeFeature:
    return HomeFeature(
        HomeService(
            catalog.service,
            incidents.service,
            core.config.incidents,
            core.gateway,
            incidents.followups,
            insight.service.home_lines,
        )
    )

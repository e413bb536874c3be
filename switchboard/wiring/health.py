"""`/owner`'s health line (`bot/health.py`): given to the catalog's reader, over the
scorecards' stored results, incidents and live facts."""

from __future__ import annotations

from switchboard.bot.health import ServiceHealth
from switchboard.wiring.catalog import CatalogFeature
from switchboard.wiring.core import Core
from switchboard.wiring.facts import FactsFeature
from switchboard.wiring.scorecards import ScorecardsFeature


def wire_health(
    core: Core, catalog: CatalogFeature, facts: FactsFeature, scorecards: ScorecardsFeature
) -> ServiceHealth:
    health = ServiceHealth(
        core.sessions,
        scorecards.service,
        scorecards.results,
        facts.live,
        core.clock,
        core.config.tz,
    )
    catalog.reader.health = health.line
    return health

"""Insight: the measures (response, standards against outcomes, DORA, follow-through), their
charts shared once through the ledger, and `/incident stats`; the digest and App Home read
them too (given to them by their wiring)."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.bot.insight.api import ChartSharing, InsightService
from switchboard.handlers.insight import InsightHandlers
from switchboard.wiring.catalog import CatalogFeature
from switchboard.wiring.core import Core, Feature
from switchboard.wiring.incidents import IncidentsFeature
from switchboard.wiring.scorecards import ScorecardsFeature


@dataclass
class InsightFeature(Feature):
    service: InsightService
    charts: ChartSharing


def wire_insight(
    core: Core, catalog: CatalogFeature, scorecards: ScorecardsFeature, incidents: IncidentsFeature
) -> InsightFeature:
    service = InsightService(core.deps, catalog.reader, lambda: scorecards.service.scorecards)
    feature = InsightFeature(service, ChartSharing(core.deps))
    # `/incident stats` is insight's: answered after the incidents' own verbs are registered
    incidents.more_records.append(InsightHandlers(service, feature.charts))
    return feature

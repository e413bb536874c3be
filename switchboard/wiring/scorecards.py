"""Scorecards: the loaded scorecards and their evaluation over the catalog and live facts,
`/scorecard`, and the job that evaluates every service and stores what changed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from switchboard.bot.platform.jobs import Job, Run, every
from switchboard.bot.scorecards.results import ScorecardResults
from switchboard.bot.scorecards.service import ScorecardService
from switchboard.handlers import scorecard
from switchboard.wiring.catalog import CatalogFeature
from switchboard.wiring.core import Core, Feature
from switchboard.wiring.facts import FactsFeature


@dataclass
class ScorecardsFeature(Feature):
    core: Core
    service: ScorecardService
    results: ScorecardResults

    def listeners(self, bolt: AsyncApp, lane: asyncio.Semaphore) -> None:
        scorecard.register(bolt, self.service, lane)

    async def reload_files(self) -> None:
        """Read the scorecard files again (a malformed one keeps the scorecards it had)."""
        await self.service.reload(self.core.config.scorecards.paths)

    def jobs(self) -> list[Job]:
        config = self.core.config

        async def evaluate(run: Run) -> str:
            await self.service.ensure_loaded(config.scorecards.paths)  # a run on its own
            if not self.service.scorecards:
                return "no scorecards loaded (scorecards.paths): nothing to evaluate"
            return (await self.results.evaluate()).summary()

        return [
            Job(
                "scorecard-evaluation",
                "evaluate every service on every scorecard and store what changed",
                every(config.tz, minutes=config.scorecards.evaluate_minutes),
                evaluate,
                at_start=True,
            )
        ]


def wire_scorecards(core: Core, catalog: CatalogFeature, facts: FactsFeature) -> ScorecardsFeature:
    live = facts.live
    service = ScorecardService(
        core.sessions, catalog.reader, core.clock, live.facts_of, live.sources
    )
    live.github_paths = service.github_paths  # GitHub looks for the paths rules ask about
    live.github_searches = service.github_searches  # and runs the code searches they ask
    feature = ScorecardsFeature(core, service, ScorecardResults(core.sessions, service, core.clock))
    catalog.before_sync.append(feature.reload_files)
    return feature

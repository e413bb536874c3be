"""What each team hears: overdue follow-ups, scorecard nags, the weekly digest and
initiative reminders, each a per-team job, and the nags' snooze buttons."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from switchboard.bot.platform.jobs import Job, cron
from switchboard.bot.teams.digest import WeeklyDigest
from switchboard.bot.teams.followup_nags import CHECK_MINUTES, FollowUpNags
from switchboard.bot.teams.initiative_reminders import InitiativeReminders
from switchboard.bot.teams.scorecard_nags import ScorecardNags
from switchboard.handlers import nags
from switchboard.wiring.catalog import CatalogFeature
from switchboard.wiring.core import Core, Feature
from switchboard.wiring.insight import InsightFeature
from switchboard.wiring.scorecards import ScorecardsFeature


@dataclass
class TeamsFeature(Feature):
    core: Core
    followup_nags: FollowUpNags
    scorecard_nags: ScorecardNags
    digest: WeeklyDigest
    initiative_reminders: InitiativeReminders

    def listeners(self, bolt: AsyncApp, lane: asyncio.Semaphore) -> None:
        nags.register(bolt, self.followup_nags)

    def jobs(self) -> list[Job]:
        config = self.core.config
        # Each checks every few minutes whether a team's time has come (in its time zone).
        every_check = cron(config.tz, minute=f"*/{CHECK_MINUTES}")
        daily, scorecards_at = config.nags.followups_at, config.nags.scorecards_at
        jobs = (
            (
                "followup-nags",
                f"overdue follow-ups to their owners, daily from {daily}",
                self.followup_nags,
            ),
            (
                "scorecard-nags",
                f"services that got worse, to their teams, daily from {scorecards_at}",
                self.scorecard_nags,
            ),
            (
                "weekly-digest",
                f"each team's week, {config.digest.day} from {config.digest.at}",
                self.digest,
            ),
            (
                "initiative-reminders",
                f"initiatives nearing their deadline, daily from {scorecards_at}",
                self.initiative_reminders,
            ),
        )
        return [
            Job(name, text, every_check, job.run, per_team=True, at_start=True)
            for name, text, job in jobs
        ]


def wire_teams(
    core: Core, catalog: CatalogFeature, scorecards: ScorecardsFeature, insight: InsightFeature
) -> TeamsFeature:
    deps, reader = core.deps, catalog.reader
    service, results = scorecards.service, scorecards.results
    return TeamsFeature(
        core,
        FollowUpNags(deps, reader),
        ScorecardNags(deps, reader, service, results),
        WeeklyDigest(deps, reader, service, results, insight.service, insight.charts),
        InitiativeReminders(deps, reader, service, results),
    )

"""The weekly digest in each team's channel (`digest.day` at `digest.at`, configured time
zone): the team's services with their scorecard level and its change over the week, the
services at risk, the rules most failed, open and overdue follow-ups, the week's incidents
(private ones counted, never named) and initiative progress.

The job looks every few minutes and sends this week's digest to each team that has not had
it, so a bot that was down on the day sends it when it is back (and a bot started for the
first time sends the current week's at once). Every team that owns something in the catalog
gets one; one per team per week through the ledger."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from switchboard.bot.catalog.api import CatalogReader, Entity
from switchboard.bot.incidents.api import followup_item, incident_data
from switchboard.bot.insight.api import ChartSharing, InsightService, TeamWeeks, messages
from switchboard.bot.platform.delivery import Key, Outgoing, Report
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.jobs import Run
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.bot.platform.text import safe
from switchboard.bot.scorecards.api import ScorecardResults, ScorecardService
from switchboard.bot.teams.channels import SkipLog, channel_of, team_ref
from switchboard.bot.teams.digest_message import TeamWeek, render
from switchboard.bot.teams.reports import (
    TeamJob,
    load_catalog,
    team_progress,
    teams_owning_something,
)
from switchboard.storage import digest_store

log = logging.getLogger(__name__)
KIND = "digest"
CHART_KIND = "digest-chart"  # the chart beside each digest, through the same ledger
RENDER_BATCH = 25  # digests rendered before the next delivery step gets its turn
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class _Target:
    team: Entity
    channel: str
    note: str


class WeeklyDigest(TeamJob):
    what = "weekly digest"

    def __init__(
        self,
        deps: Deps,
        owner: CatalogReader,
        scorecards: ScorecardService,
        results: ScorecardResults,
        insight: InsightService | None = None,
        charts: ChartSharing | None = None,
    ) -> None:
        """Without `insight` and `charts`, the digest has no "How we are doing" nor chart."""
        super().__init__(deps, owner, scorecards, results)
        self._insight = insight
        self._charts = charts

    def moment(self, now: datetime) -> datetime:
        """This week's digest time: the latest `digest.day` at `digest.at` not after `now`."""
        local = now.astimezone(self._config.tz)
        at = time.fromisoformat(self._config.digest.at)
        back = (local.weekday() - WEEKDAYS.index(self._config.digest.day)) % 7
        moment = datetime.combine(local.date() - timedelta(days=back), at, self._config.tz)
        return moment if moment <= local else moment - timedelta(days=7)

    async def run(self, run: Run) -> str:
        moment = self.moment(self._clock())
        period = moment.date().isoformat()
        entities = await load_catalog(self._sessions)
        teams = teams_owning_something(entities)
        if run.team:
            wanted = await team_ref(self._owner, run.team)
            teams = [team for team in teams if team.ref == wanted]
        done = await self._delivery.sent([_key(team.ref, period) for team in teams])
        charted = await self._charted(teams, period)
        targets, charts, skipped = [], [], []
        for team in teams:
            sent, drawn = _key(team.ref, period) in done, _chart_key(team.ref, period) in charted
            if sent and drawn:
                continue
            channel, note = channel_of(team, self._config.delivery.fallback_channel)
            if not channel:
                skipped += [] if sent else [SkipLog.skipped(team.ref)]
                continue
            if not sent:
                targets.append(_Target(team, channel, note))
            if not drawn:  # with its digest, or after it (a chart Slack refused before)
                charts.append(_Target(team, channel, note))
        self._skips.warn(self._local_now().date(), skipped)
        head = f"weekly digest of {period}"
        if not targets and not charts:
            return "\n".join([f"{head}: nothing to send, {len(done)} sent earlier", *skipped])
        doing = await self._doing(sorted({t.team.ref for t in [*targets, *charts]}), moment)
        report = Report()
        if targets:
            unevaluated = await self._evaluated()
            weeks = await self._weeks([t.team for t in targets], entities, moment)
            for ref, week in weeks.items():
                week.unevaluated = unevaluated
                week.doing = messages.how_we_are_doing(doing[ref]) if ref in doing else []
            report = await self._send(targets, weeks, period)  # the runner logs the outcome
        said = await self._share_charts(charts, doing, period)
        earlier = f", {len(done)} sent earlier" if done else ""
        return "\n".join([f"{head}: {report.summary()}{earlier}{said}", *skipped])

    async def _charted(self, teams: list[Entity], period: str) -> set[Key]:
        """The charts of this week shared already (all of them, without insight)."""
        keys = [_chart_key(team.ref, period) for team in teams]
        return set(keys) if self._charts is None else await self._delivery.sent(keys)

    async def _doing(self, teams: list[str], moment: datetime) -> dict[str, TeamWeeks]:
        """Insight's "How we are doing" and chart of each team (public incidents only)."""
        if self._insight is None or not teams:
            return {}
        try:
            return await self._insight.for_teams(sorted(teams), moment)
        except Exception:  # the digest goes out without it rather than not at all
            log.exception("weekly digest: insight failed; sending without it")
            return {}

    async def _share_charts(
        self, targets: list[_Target], doing: dict[str, TeamWeeks], period: str
    ) -> str:
        """Each team's 12-week chart beside its digest, once per team and week (the
        ledger); a team with no incidents in them gets none (and that is recorded too)."""
        if self._charts is None or not doing:
            return ""
        shared, failed = 0, []
        for target in targets:
            data = doing[target.team.ref].chart
            key = _chart_key(target.team.ref, period)
            comment = f"The last 12 weeks of *{safe(target.team.display_name, 100)}*."
            try:
                shared += bool(
                    (await self._charts.share(key, target.channel, data, comment)).file_id
                )
            except SlackFailure as failure:
                failed.append(f"{target.team.ref} ({failure.error})")
            except Exception as error:  # one team's chart never stops the others'
                log.exception("weekly digest: the chart of %s failed", target.team.ref)
                failed.append(f"{target.team.ref} ({type(error).__name__})")
        said = f", {shared} chart{'s' if shared != 1 else ''} shared" if shared else ""
        return said + (f", charts not shared: {', '.join(failed)}" if failed else "")

    async def _send(
        self, targets: list[_Target], weeks: dict[str, TeamWeek], period: str
    ) -> Report:
        """Render and deliver a few teams at a time: the first digests are on their way
        (paced) while the rest are rendered, instead of all waiting for the last one."""
        report = Report()
        sending = []
        for start in range(0, len(targets), RENDER_BATCH):
            batch = [
                Outgoing(_key(t.team.ref, period), t.channel, *render(weeks[t.team.ref], t.note))
                for t in targets[start : start + RENDER_BATCH]
            ]
            sending.append(asyncio.create_task(self._delivery.deliver(batch)))
            await asyncio.sleep(0)  # let the batches already handed over start
        for part in await asyncio.gather(*sending):
            report.merge(part)
        return report

    async def _weeks(
        self, teams: list[Entity], entities: dict[str, Entity], moment: datetime
    ) -> dict[str, TeamWeek]:
        """Each team's week: results now and a week before, follow-ups, incidents."""
        start = moment - timedelta(days=7)
        now, before = await self._results.now(), await self._results.as_of(start)
        async with self._sessions() as session:
            followups = await digest_store.open_followups(session)
            incidents = await digest_store.declared_between(session, start, moment)
            ids = {i.id for i in incidents} | {f.incident_id for f, _ in followups}
            affected = await digest_store.services_of(session, {i for i in ids if i})
        scorecards = {s.id: s for s in self._scorecards.scorecards}
        today = self._local_now().date()
        count = self._config.incidents.private_in_public == "count"
        weeks = {t.ref: TeamWeek(t, start, moment, today, count) for t in teams}
        for week in weeks.values():
            week.configured = self._scorecards.configured
        owners = {ref: set(e.owners) for ref, e in entities.items()}
        owned: dict[str, list[Entity]] = defaultdict(list)
        for entity in entities.values():
            for team in set(entity.owners) & weeks.keys():
                owned[team].append(entity)
        for team, week in weeks.items():
            week.initiatives = team_progress(scorecards.values(), owned[team], now, today)
        for pair, standing in sorted(now.items()):
            scorecard, service = scorecards.get(pair[0]), entities.get(pair[1])
            if scorecard is None or service is None:
                continue
            for team in owners[service.ref] & weeks.keys():
                weeks[team].add_result(scorecard, service, standing, before.get(pair))
        for item in (followup_item(f, i) for f, i in followups):
            owner_team, incident_id = item.followup.owner_team, item.incident.id or 0
            for team in _teams_of(owner_team, affected[incident_id], owners):
                if team in weeks:
                    weeks[team].followups.append(item)
        for incident in (incident_data(i) for i in incidents):
            for team in _teams_of("", affected[incident.id or 0], owners):
                if team in weeks:
                    weeks[team].incidents.append(incident)
        return weeks


def _key(team: str, period: str) -> Key:
    return Key(KIND, team, period)


def _chart_key(team: str, period: str) -> Key:
    return Key(CHART_KIND, team, period)


def _teams_of(owner_team: str, services: set[str], owners: dict[str, set[str]]) -> set[str]:
    """A follow-up owned by a team is that team's; any other, like an incident, belongs to
    the teams owning the services its incident affected."""
    if owner_team:
        return {owner_team}
    return {team for ref in services for team in owners.get(ref, set())}

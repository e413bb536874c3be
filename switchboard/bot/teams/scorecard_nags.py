"""Scorecard nags: once a day, from `nags.scorecards_at` in the configured time zone, each
team hears in its channel (else `delivery.fallback_channel`) of its services that got worse
since the same time the day before: dropped a level, or fail a rule they passed then. Each
service is listed with what to fix. Services failing as they were are left to the weekly
digest: a nag says what changed, so it is worth reading every time.

Decided from the stored results (the evaluation job records every change): each day's nag
covers the 24 hours up to that day's nag time. One nag per team per day through the ledger,
so restarts and replicas neither lose nor repeat one."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from switchboard.bot.catalog.api import Entity, from_row
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.delivery import Key, Outgoing
from switchboard.bot.platform.jobs import Run
from switchboard.bot.platform.text import safe
from switchboard.bot.scorecards.api import Scorecard, Standing, rank, unnamed_rules
from switchboard.bot.teams.channels import SkipLog, team_channel, team_ref
from switchboard.bot.teams.reports import TeamJob
from switchboard.storage import catalog_store

KIND = "scorecard-nag"
MAX_RULES = 8  # rules listed per service; the rest are counted


@dataclass(frozen=True, slots=True)
class Worse:
    """One service that got worse on one scorecard."""

    scorecard: Scorecard
    service: Entity
    before: Standing
    now: Standing

    @property
    def dropped(self) -> bool:
        return rank(self.scorecard, self.now.level) < rank(self.scorecard, self.before.level)

    @property
    def new_failures(self) -> set[str]:
        """Rules failing now that did not before; a rule that needs a fact we cannot have
        is not failing (it is told apart where the level drops because of it)."""
        return set(self.now.failing) - set(self.before.failing) - set(self.now.needs)


class ScorecardNags(TeamJob):
    what = "scorecard nags"

    async def run(self, run: Run) -> str:
        now = self._local_now()
        if not run.manual and now.time() < self._from:
            return f"not due: scorecard nags go out from {self._config.nags.scorecards_at}"
        today = now.date()
        if unevaluated := await self._evaluated():
            return f"scorecard nags for {today}: {unevaluated}"
        # Each day's nag covers the day up to today's nag time: fixed windows, so a change
        # is told once even when the nag goes out later than that time.
        end = datetime.combine(today, self._from, self._config.tz)
        by_team = await self._worse_by_team(end - timedelta(days=1), min(end, now))
        if run.team:
            wanted = await team_ref(self._owner, run.team)
            by_team = {team: items for team, items in by_team.items() if team == wanted}
        done = await self._delivery.sent([_key(team, today) for team in by_team])
        messages, skipped = [], []
        for team, items in sorted(by_team.items()):
            if _key(team, today) in done:
                continue
            channel, note = await team_channel(
                self._owner, self._config.delivery.fallback_channel, team
            )
            if channel:
                messages.append(_nag(_key(team, today), channel, note, items))
            else:
                skipped.append(SkipLog.skipped(team))
        self._skips.warn(today, skipped)
        report = await self._delivery.deliver(messages)
        earlier = f", {len(done)} nagged earlier today" if done else ""
        head = f"scorecard nags for {today}: {len(by_team)} team(s) with services that got worse"
        return "\n".join([f"{head}; {report.summary()}{earlier}", *skipped])

    async def _worse_by_team(self, start: datetime, end: datetime) -> dict[str, list[Worse]]:
        """The services worse at `end` than at `start`, under each owning team's ref."""
        changed = await self._results.changed_between(start, end)
        if not changed:
            return {}
        before = await self._results.as_of(start, changed)
        now = await self._results.as_of(end, changed)
        loaded = {s.id: s for s in self._scorecards.scorecards}
        async with self._sessions() as session:
            rows = await catalog_store.entities_by_ref(session, changed)
        services = {row.ref: from_row(row) for row in rows}
        by_team: dict[str, list[Worse]] = defaultdict(list)
        for pair, current in sorted(now.items()):
            scorecard, service, earlier = (
                loaded.get(pair[0]),
                services.get(pair[1]),
                before.get(pair),
            )
            if scorecard is None or service is None or earlier is None:
                continue  # a scorecard not loaded now, a service gone, or a first result
            worse = Worse(scorecard, service, earlier, current)
            if worse.dropped or worse.new_failures:
                for team in service.owners:
                    if team.startswith("group:"):
                        by_team[team].append(worse)
        return by_team


def _key(team: str, today: date) -> Key:
    return Key(KIND, team, today.isoformat())


def _nag(key: Key, channel: str, note: str, items: list[Worse]) -> Outgoing:
    services = len({item.service.ref for item in items})
    text = (
        f":chart_with_downwards_trend: {services} of your services got worse on a scorecard"
        f" since yesterday{note}"
    )
    groups = [[kit.section(_describe(item))] for item in items]
    footer = [kit.context("`/scorecard <service>` shows every rule and what blocks each level.")]
    blocks = kit.fit([kit.section(text)], groups, footer, "service")
    return Outgoing(key, channel, text, blocks)


def _describe(item: Worse) -> str:
    """`*payments* · Production readiness: Gold → Silver`, then the rules to fix."""
    scorecard, before, now = item.scorecard, item.before, item.now
    level = f"{before.level or 'no level'} → *{now.level or 'no level'}*"
    head = f"*{safe(item.service.display_name, 200)}* · {safe(scorecard.name, 200)}: " + (
        level if item.dropped else f"still {now.level or 'below the first level'}"
    )
    titles = {rule.id: rule.title for rule in scorecard.rules}
    new = item.new_failures
    # What to fix: the rules it newly fails first, then those that cost it its level.
    lost = scorecard.levels[: rank(scorecard, before.level)]
    levels = {rule.id: rule.level for rule in scorecard.rules}
    wanted = [r for r in now.failing if r in new] + [
        r for r in now.failing if r not in new and item.dropped and levels.get(r) in lost
    ]
    # Rules that private incidents fail count, but are never named here.
    named = [r for r in wanted if r not in now.withheld]
    lines = [
        f"• {safe(titles.get(rule, rule), 200)}"
        + (" (newly failing)" if rule in new else "")
        + (" (needs a source: `/scorecard` says which)" if rule in now.needs else "")
        for rule in named[:MAX_RULES]
    ]
    if len(named) > MAX_RULES:
        lines.append(f"• …and {len(named) - MAX_RULES} more")
    if unnamed := len(wanted) - len(named):
        lines.append(f"• {unnamed_rules(unnamed)}")
    return "\n".join([head, "To fix:", *lines] if lines else [head])

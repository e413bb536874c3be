"""Initiative reminders: as an initiative's deadline nears (its `reminders`, in days before
it), each team with services in it that are not there yet hears so in its channel, naming
them and what each still needs. One reminder per team, initiative, deadline and threshold
through the ledger; from `nags.scorecards_at`, with the scorecard nags."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from switchboard.bot.catalog.api import Entity
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.delivery import Key, Outgoing
from switchboard.bot.platform.jobs import Run
from switchboard.bot.platform.text import safe
from switchboard.bot.scorecards.api import Progress, Scorecard, due_reminder, unnamed_rules
from switchboard.bot.teams.channels import SkipLog, channel_of, team_ref
from switchboard.bot.teams.reports import (
    TeamJob,
    load_catalog,
    team_progress,
    teams_owning_something,
)

KIND = "initiative-reminder"
MAX_LISTED = 20  # services listed per reminder; the rest are counted


class InitiativeReminders(TeamJob):
    what = "initiative reminders"

    async def run(self, run: Run) -> str:
        now = self._local_now()
        if not run.manual and now.time() < self._from:
            return f"not due: initiative reminders go out from {self._config.nags.scorecards_at}"
        today = now.date()
        if unevaluated := await self._evaluated():
            return f"initiative reminders for {today}: {unevaluated}"
        due = [s for s in self._scorecards.scorecards if _reminding(s, today)]
        if not due:
            return "no initiative is at a reminder today"
        entities = await load_catalog(self._sessions)
        teams = teams_owning_something(entities)
        if run.team:
            wanted = await team_ref(self._owner, run.team)
            teams = [team for team in teams if team.ref == wanted]
        standings = await self._results.now()
        owned: dict[str, list[Entity]] = defaultdict(list)
        for entity in entities.values():
            for owner in entity.owners:
                owned[owner].append(entity)
        messages, skipped = [], []
        for team in teams:
            behind = [
                (scorecard, progress, threshold)
                for scorecard, progress in team_progress(due, owned[team.ref], standings, today)
                if not progress.done
                and (threshold := due_reminder(progress.initiative, today)) is not None
            ]
            if not behind:
                continue
            channel, note = channel_of(team, self._config.delivery.fallback_channel)
            if not channel:
                skipped.append(SkipLog.skipped(team.ref))
                continue
            names = {e.ref: e.display_name for e in owned[team.ref]}
            messages += [
                _reminder(team, channel, note, scorecard, progress, names, threshold)
                for scorecard, progress, threshold in behind
            ]
        self._skips.warn(today, skipped)
        report = await self._delivery.deliver(messages)
        return "\n".join([f"initiative reminders for {today}: {report.summary()}", *skipped])


def _reminding(scorecard: Scorecard, today: date) -> bool:
    return any(due_reminder(i, today) is not None for i in scorecard.initiatives)


def _reminder(
    team: Entity,
    channel: str,
    note: str,
    scorecard: Scorecard,
    progress: Progress,
    names: dict[str, str],
    threshold: int,
) -> Outgoing:
    initiative = progress.initiative
    key = Key(KIND, f"{initiative.id}/{team.ref}", f"{initiative.deadline}/{threshold}d")
    days = progress.days_left
    when = "today" if days == 0 else f"in {days} day{'' if days == 1 else 's'}"
    behind = len(progress.missing)
    text = (
        f":hourglass_flowing_sand: Initiative *{safe(initiative.name, 200)}* is due {when} "
        f"({initiative.deadline}): {behind} of your {progress.total} services "
        f"{'is' if behind == 1 else 'are'} not there yet{note}"
    )
    titles = {rule.id: rule.title for rule in scorecard.rules}
    target = initiative.level or titles.get(initiative.rule, initiative.rule)
    lines = [
        f"• *{safe(names.get(s.service, s.service), 200)}* needs "
        + safe(
            ", ".join(
                [titles.get(r, r) for r in s.needs]
                + ([unnamed_rules(s.unnamed)] if s.unnamed else [])
            )
            or target,
            500,
        )
        for s in progress.missing[:MAX_LISTED]
    ]
    if behind > MAX_LISTED:
        lines.append(f"…and {behind - MAX_LISTED} more")
    blocks = [kit.section(text), *(kit.section(c) for c in kit.chunks(lines))]
    blocks.append(kit.context(f"Target: {safe(target, 100)} on {safe(scorecard.name, 100)}"))
    return Outgoing(key, channel, text, blocks[: kit.MAX_BLOCKS])

"""The weekly digest as a Slack message: what one team's week holds (`TeamWeek`), and its
rendering. Every list is cut to a few lines and counted beyond, so a team with thousands of
services still gets one message within Block Kit's limits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from switchboard.bot.catalog.api import Entity
from switchboard.bot.incidents.api import IncidentData, Item
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.blocks import Block
from switchboard.bot.platform.text import safe
from switchboard.bot.scorecards.api import (
    Progress,
    Scorecard,
    Standing,
    initiative_progress_line,
    rank,
    unnamed_rules,
    what_it_needs,
)

MAX_LINES = 15  # per list; the rest are counted
MAX_RULES = 5
AT_RISK = ":warning:"
RISK_DAYS = 30  # a service missing an initiative due this soon is at risk


@dataclass(frozen=True, slots=True)
class Result:
    scorecard: Scorecard
    service: Entity
    now: Standing
    before: Standing | None  # None: first scored during the week

    @property
    def move(self) -> int:
        """Levels gained (positive) or lost (negative) over the week."""
        if self.before is None:
            return 0
        return rank(self.scorecard, self.now.level) - rank(self.scorecard, self.before.level)

    @property
    def at_risk(self) -> str:
        """Why the service is at risk ("" when it is not): it lost a level this week, or is
        below the scorecard's first level. (Missing an initiative due soon is another.)"""
        if self.move < 0:
            return f"dropped from {self.before.level if self.before else ''} to {_level(self)}"
        if self.scorecard.levels and not self.now.level:
            return f"below {self.scorecard.levels[0]}"
        return ""


@dataclass(slots=True)
class TeamWeek:
    team: Entity
    start: datetime
    end: datetime
    today: date
    count_private: bool  # say how many private incidents there were (never which)
    results: list[Result] = field(default_factory=list)
    followups: list[Item] = field(default_factory=list)  # open ones
    incidents: list[IncidentData] = field(default_factory=list)  # declared in the week
    initiatives: list[tuple[Scorecard, Progress]] = field(default_factory=list)
    unevaluated: str = ""  # why no scorecard was evaluated; "" when they were
    # the facts sources set up here (scorecards' `configured`), to say what a rule needs
    configured: Collection[str] | None = None
    doing: list[str] = field(default_factory=list)  # insight's "How we are doing" lines

    def add_result(
        self, scorecard: Scorecard, service: Entity, now: Standing, before: Standing | None
    ) -> None:
        self.results.append(Result(scorecard, service, now, before))


def render(week: TeamWeek, note: str) -> tuple[str, list[Block]]:
    """(notification text, blocks)."""
    name = week.team.display_name
    days = f"{week.start:%-d %b} to {week.end - timedelta(days=1):%-d %b %Y}"
    text = f"Weekly digest for {safe(name, 200)}: {days}"
    blocks: list[Block] = [kit.header(f"Weekly digest · {name}"), kit.context(days + note)]
    scored = (
        [
            ("Services", _services(week)),
            ("At risk", _at_risk(week)),
            ("Most-failed rules", _most_failed(week)),
        ]
        if not week.unevaluated
        # Nothing evaluated: say so once, rather than "nothing at risk" and "no scorecard
        # applies", which would be false.
        else [("Services", [week.unevaluated[:1].upper() + week.unevaluated[1:] + "."])]
    )
    followed = [("Follow-ups", _followups(week)), ("Incidents this week", _incidents(week))]
    if not week.unevaluated:
        followed.append(("Initiatives", _initiatives(week)))
    if week.doing:
        followed.append(("How we are doing", week.doing))
    for title, lines in scored + followed:
        blocks.append(kit.section(f"*{title}*"))
        blocks += [kit.section(chunk) for chunk in kit.chunks(lines)]
    blocks.append(kit.context(f"{_scorecard_command(week.team)} shows every service and rule."))
    return text, blocks[: kit.MAX_BLOCKS]


def _scorecard_command(team: Entity) -> str:
    """The command that answers for this team, as typed: its name (never a placeholder,
    whose `<...>` Slack would read as a link), which cannot break out of the code span."""
    return f"`/scorecard team:{safe(team.name.replace('`', ''), 100)}`"


def _services(week: TeamWeek) -> list[str]:
    if not week.results:
        return ["No scorecard applies to your services."]
    lines: list[str] = []
    by_scorecard: dict[str, list[Result]] = {}
    for result in week.results:
        by_scorecard.setdefault(result.scorecard.name, []).append(result)
    for name, results in sorted(by_scorecard.items()):
        lines.append(f"_{safe(name, 200)}_")
        # Changes first: they are what the week has to say.
        results.sort(key=lambda r: (r.move == 0, r.move, r.service.name))
        lines += [_service_line(r) for r in results[:MAX_LINES]]
        lines += _more(len(results) - MAX_LINES, "service")
    return lines


def _service_line(result: Result) -> str:
    score = "" if result.now.score is None else f" · {result.now.score:.0%}"
    if result.before is None:
        change = " (new this week)"
    elif result.move > 0:
        change = f" :arrow_up: from {result.before.level or 'no level'}"
    elif result.move < 0:
        change = f" :arrow_down: from {result.before.level or 'no level'}"
    else:
        change = ""
    return f"• {safe(result.service.display_name, 200)}: *{_level(result)}*{change}{score}"


def _at_risk(week: TeamWeek) -> list[str]:
    risky = [
        (r.service.display_name, r.scorecard.name, why) for r in week.results if (why := r.at_risk)
    ]
    names = {r.service.ref: r.service.display_name for r in week.results}
    for _, progress in week.initiatives:
        if progress.days_left <= RISK_DAYS:
            when = f"due {progress.initiative.deadline}"
            risky += [
                (
                    names.get(s.service, s.service),
                    progress.initiative.name,
                    f"not there yet, {when}",
                )
                for s in progress.missing
            ]
    if not risky:
        return ["Nothing at risk. :tada:"]
    lines = [
        f"{AT_RISK} {safe(service, 200)} ({safe(about, 100)}): {why}"
        for service, about, why in risky[:MAX_LINES]
    ]
    return lines + _more(len(risky) - MAX_LINES, "service")


def _initiatives(week: TeamWeek) -> list[str]:
    if not week.initiatives:
        return ["No initiative covers your services."]
    names = {r.service.ref: r.service.display_name for r in week.results}
    return [f"• {initiative_progress_line(s, p, names)}" for s, p in week.initiatives]


def _most_failed(week: TeamWeek) -> list[str]:
    failed: Counter[tuple[str, str]] = Counter()
    needing: Counter[tuple[str, str]] = Counter()  # rules needing a fact: not failures
    scored: Counter[str] = Counter()
    titles: dict[tuple[str, str], str] = {}
    needs: dict[tuple[str, str], str] = {}
    unnamed = 0  # failures of rules that private incidents fail: counted, never named
    for result in week.results:
        scored[result.scorecard.id] += 1
        rules = {rule.id: rule for rule in result.scorecard.rules}
        unnamed += len(result.now.withheld)
        for rule in result.now.failing:
            if rule in result.now.withheld:
                continue
            key = (result.scorecard.id, rule)
            titles[key] = rules[rule].title if rule in rules else rule
            if rule in result.now.needs:
                needing[key] += 1
                if key not in needs and rule in rules:
                    needs[key] = what_it_needs(result.scorecard, rules[rule], week.configured)
            else:
                failed[key] += 1
    if not failed and not unnamed and not needing:
        return ["Every rule passes. :tada:" if week.results else "No rules to report."]
    lines = [
        f"• {safe(titles[key], 200)}: {count} of {scored[key[0]]} service(s)"
        for key, count in failed.most_common(MAX_RULES)
    ]
    if unnamed:
        lines.append(f"• {unnamed_rules(unnamed)} (failing, counted in the levels)")
    lines += [
        f"• :electric_plug: {safe(titles[key], 200)}: not evaluated for {count} of "
        f"{scored[key[0]]} service(s), {safe(needs.get(key, 'needs a source'), 200)}"
        for key, count in needing.most_common(MAX_RULES)
    ]
    return lines


def _followups(week: TeamWeek) -> list[str]:
    if not week.followups:
        return ["No open follow-ups."]
    overdue = [
        item
        for item in week.followups
        if item.followup.due is not None and item.followup.due < week.today
    ]
    named = [item for item in overdue if not item.incident.private]
    hidden = len(overdue) - len(named)
    lines = [f"{len(week.followups)} open, {len(overdue)} overdue."]
    lines += [_followup_line(item) for item in named[:MAX_LINES]]
    lines += _more(len(named) - MAX_LINES, "overdue follow-up")
    if hidden and week.count_private:
        lines.append(f"…and {hidden} overdue from private incidents (not named here)")
    return lines


def _followup_line(item: Item) -> str:
    followup, incident = item.followup, item.incident
    owner = f"<@{followup.owner_user}>" if followup.owner_user else "the team"
    return f"• {safe(followup.text, 300)} (INC-{incident.number}, due {followup.due}, {owner})"


def _incidents(week: TeamWeek) -> list[str]:
    public = [i for i in week.incidents if not i.private]
    private = len(week.incidents) - len(public)
    counted = week.count_private
    if not public and not (private and counted):
        return ["No incidents. :tada:"]
    lines = [
        f"• INC-{i.number} · {safe(i.severity, 20)} · {safe(i.title, 300)} · {safe(i.status, 30)}"
        for i in public[:MAX_LINES]
    ]
    lines += _more(len(public) - MAX_LINES, "incident")
    if private and counted:
        lines.append(f"{private} private incident{'' if private == 1 else 's'} (not named here)")
    return lines


def _level(result: Result) -> str:
    return result.now.level or "no level"


def _more(count: int, what: str) -> list[str]:
    return [f"…and {count} more {what}{'' if count == 1 else 's'}"] if count > 0 else []

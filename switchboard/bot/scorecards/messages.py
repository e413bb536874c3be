"""Block Kit for `/scorecard` answers. Every catalog, scorecard or user string goes through
`safe`; every message stays within Slack's limits (50 blocks, 3000 characters a section),
cutting whole scorecards, rules or services and saying how many were left out."""

from __future__ import annotations

from typing import Any

from switchboard.bot.catalog.api import Entity, did_you_mean, share_button
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.blocks import chunks as _chunks
from switchboard.bot.platform.blocks import fit as _fit
from switchboard.bot.platform.text import safe, shorten
from switchboard.bot.scorecards.initiatives import Progress
from switchboard.bot.scorecards.model import (
    EXEMPT,
    FAIL,
    NEEDS,
    PASS,
    RuleOutcome,
    Scorecard,
    ServiceResult,
    Unsupported,
)
from switchboard.bot.scorecards.service import (
    Answer,
    NoScorecards,
    ScorecardResult,
    ServiceScores,
    Suggestions,
    TeamRow,
    TeamScores,
    Usage,
)

Block = dict[str, Any]
Message = dict[str, Any]

PICK_ACTION = "scorecard_pick"  # buttons `scorecard_pick:<n>`, value = the entity ref
SHARE_ACTION = "scorecard_share"
MAX_LISTED = 40  # services listed per scorecard in a team answer; the rest are counted
MAX_CHOICES = 5
MAX_MISSING = 10  # services named as missing from an initiative in a team answer

# NEEDS: a fact we cannot have for this service (neither passing nor failing)
ICONS = {PASS: ":white_check_mark:", FAIL: ":x:", EXEMPT: ":zzz:", NEEDS: ":electric_plug:"}
UNSUPPORTED_ICON = ":grey_question:"

USAGE = (
    "*/scorecard* shows how services measure up against the scorecards.\n"
    "• `/scorecard &lt;service&gt;`: per scorecard the level reached, the score, every rule "
    "(passing, failing, exempt, needing a source or unsupported, with where live facts came "
    "from and how old they are) and what blocks the next level\n"
    "• `/scorecard team:&lt;name&gt;`: the level and score of each of the team's services\n"
    "Both show the progress of the scorecards' initiatives (a level or a rule by a date)."
)


def unnamed_rules(count: int) -> str:
    """What a public surface says of rules that private incidents fail: that they count, and
    nothing of why (docs/scorecards.md, "Private incidents")."""
    return f"{count} rule{'' if count == 1 else 's'} not shown here"


def render(answer: Answer, *, shared_by: str = "") -> Message:
    """The Slack message for an answer; `shared_by` (a user id) renders the in-channel copy."""
    if isinstance(answer, ServiceScores):
        return _service(answer, shared_by)
    if isinstance(answer, TeamScores):
        return _team(answer, shared_by)
    if isinstance(answer, Suggestions):
        return _suggestions(answer)
    if isinstance(answer, NoScorecards):
        return _no_scorecards(answer)
    assert isinstance(answer, Usage)
    return {"text": "How to use /scorecard", "blocks": [kit.section(USAGE)]}


# One service -------------------------------------------------------------------------------


def _service(answer: ServiceScores, shared_by: str) -> Message:
    service = answer.service
    name = safe(service.display_name, 150)
    if not answer.results:
        text = f"No scorecard applies to *{name}* ({_describe(service)})."
        return {"text": shorten(text, 300), "blocks": [kit.section(text)]}
    groups = [_scorecard_blocks(item) for item in answer.results]
    footer = [kit.context(_origin(shared_by))]
    if not shared_by:
        footer.append(share_button(SHARE_ACTION, service.ref))
    blocks = _fit([kit.header(f"Scorecards: {service.display_name}")], groups, footer, "scorecard")
    summary = ", ".join(_summary(item.scorecard, item.result) for item in answer.results)
    return {"text": safe(f"{service.display_name}: {summary}", 300), "blocks": blocks}


def _scorecard_blocks(item: ScorecardResult) -> list[Block]:
    scorecard, result = item.scorecard, item.result
    head = f"*{safe(scorecard.name, 200)}*"
    if scorecard.levels:
        head += f" · level *{_level(result)}* of " + " → ".join(
            safe(level, 50) for level in scorecard.levels
        )
    head += f" · score *{_score(result)}*"
    lines = [_rule_line(outcome) for outcome in result.outcomes]
    group: list[Block] = [{"type": "divider"}, kit.section(head)]
    group += [kit.section(chunk) for chunk in _chunks(lines)]
    if scorecard.levels:
        group.append(kit.context(_blocking(result)))
    goals = [_initiative_line(scorecard, p) for p in item.initiatives]
    group += [kit.section(chunk) for chunk in _chunks(goals)]
    return group


def _initiative_line(scorecard: Scorecard, progress: Progress) -> str:
    if progress.done:
        return f"{_initiative_head(scorecard, progress)}: met ✓"
    titles = {rule.id: rule.title for rule in scorecard.rules}
    (shortfall,) = progress.missing
    needs = ", ".join(
        [shorten(titles.get(r, r), 100) for r in shortfall.needs]
        + ([unnamed_rules(shortfall.unnamed)] if shortfall.unnamed else [])
    )
    return f"{_initiative_head(scorecard, progress)}: not yet" + (
        f": needs {safe(needs, 1500)}" if needs else ""
    )


def _initiative_head(scorecard: Scorecard, progress: Progress) -> str:
    """The initiative, its target (a level's name or a rule's title) and its deadline:
    `Initiative *name* (Gold by 2027-03-31, 122 days left)`."""
    initiative = progress.initiative
    target = initiative.level or next(
        (r.title for r in scorecard.rules if r.id == initiative.rule), initiative.rule
    )
    when = f"by {initiative.deadline.isoformat()}, {_days_left(progress.days_left)}"
    return f"Initiative *{safe(initiative.name, 200)}* ({safe(target, 100)} {when})"


def _days_left(days: int) -> str:
    if days == 0:
        return "due today"
    word = "day" if abs(days) == 1 else "days"
    return f"{days} {word} left" if days > 0 else f"{-days} {word} overdue"


def _rule_line(outcome: RuleOutcome) -> str:
    rule = outcome.rule
    about = [safe(rule.level, 50)] if rule.level else []
    if rule.weight != 1:
        about.append(f"weight {rule.weight:g}")
    suffix = f" ({', '.join(about)})" if about else ""
    title = f"*{safe(rule.title, 150)}*{suffix}"
    if isinstance(rule.check, Unsupported):
        expression = rule.check.expression.replace("`", "'")
        why = rule.check.why.removeprefix("unsupported: ").removesuffix(
            f": {rule.check.expression}"
        )
        shown = f"`{safe(expression, 300)}`" if expression else "(no expression)"
        return f"{UNSUPPORTED_ICON} {title}: *unsupported*, never passes: {safe(why, 200)} {shown}"
    if outcome.withheld:  # counted, but neither the rule nor why is told
        return f"{ICONS.get(outcome.status, UNSUPPORTED_ICON)} _{unnamed_rules(1)}_{suffix}"
    icon = ICONS.get(outcome.status, UNSUPPORTED_ICON)
    # NEEDS reads "needs GitHub (set GITHUB_TOKEN)": neither pass nor fail
    line = f"{icon} {title}: {safe(outcome.reason, 400)}"
    if outcome.facts:  # where the live facts it read came from: "GitHub, 12 min ago"
        stale = ":warning: " if ", stale" in outcome.facts else ""
        line += f" · {stale}_{safe(outcome.facts, 200)}_"
    return line


def _blocking(result: ServiceResult) -> str:
    if result.next_level is None:
        return "Top level reached: nothing blocks."
    named = [
        shorten(o.rule.title, 100) + (" (needs a source)" if o.status == NEEDS else "")
        for o in result.blockers
        if not o.withheld
    ]
    if withheld := sum(1 for o in result.blockers if o.withheld):
        named.append(unnamed_rules(withheld))
    names = ", ".join(named) or "nothing"
    return f"*Blocks {safe(result.next_level, 50)}*: {safe(names, 2500)}"


def _level(result: ServiceResult) -> str:
    return safe(result.level, 50) if result.level else "none yet"


def _score(result: ServiceResult) -> str:
    return "n/a" if result.score is None else f"{round(result.score * 100)}%"


def _summary(scorecard: Scorecard, result: ServiceResult) -> str:
    level = f" {result.level}" if scorecard.levels and result.level else ""
    return f"{scorecard.name}{level} ({_score(result)})"


def _describe(service: Entity) -> str:
    facts = [service.type or service.kind]
    facts.append(f"tier {service.tier}" if service.tier is not None else "no tier")
    facts.append(safe(service.lifecycle, 40) if service.lifecycle else "no lifecycle")
    return ", ".join(safe(f, 60) for f in facts)


# A team ------------------------------------------------------------------------------------


def _team(answer: TeamScores, shared_by: str) -> Message:
    team = answer.team
    name = safe(team.display_name, 150)
    if not answer.rows:
        text = f"No scorecard applies to any service *{name}* owns."
        return {"text": shorten(text, 300), "blocks": [kit.section(text)]}
    groups = [
        _team_scorecard(scorecard, answer.rows, answer.initiatives.get(scorecard.id, []))
        for scorecard in answer.scorecards
    ]
    footer: list[Block] = []
    if answer.uncovered:
        names = ", ".join(shorten(e.display_name, 100) for e in answer.uncovered)
        footer.append(kit.context("No scorecard applies to: " + safe(names, 1900)))  # of 2000
    footer.append(kit.context(_origin(shared_by) + " · `/scorecard &lt;service&gt;` for the rules"))
    if not shared_by:
        footer.append(share_button(SHARE_ACTION, team.ref))
    blocks = _fit([kit.header(f"Scorecards: {team.display_name}")], groups, footer, "scorecard")
    count = len(answer.rows)
    text = f"{team.display_name}: {count} service{'' if count == 1 else 's'} scored"
    return {"text": safe(text, 300), "blocks": blocks}


def _team_scorecard(
    scorecard: Scorecard, rows: list[TeamRow], initiatives: list[Progress]
) -> list[Block]:
    scored = [
        (row.service, row.results[scorecard.id]) for row in rows if scorecard.id in row.results
    ]
    order = {level: i for i, level in enumerate(scorecard.levels)}
    # those needing attention first: the lowest level, then the lowest score
    scored.sort(
        key=lambda pair: (
            order.get(pair[1].level or "", -1),
            -1.0 if pair[1].score is None else pair[1].score,
            pair[0].display_name.casefold(),
        )
    )
    lines = [_team_line(scorecard, service, result) for service, result in scored[:MAX_LISTED]]
    if len(scored) > MAX_LISTED:
        lines.append(f"…and {len(scored) - MAX_LISTED} more")
    head = f"*{safe(scorecard.name, 200)}* · {len(scored)} service{'' if len(scored) == 1 else 's'}"
    names = {service.ref: service.display_name for service, _ in scored}
    goals = [initiative_progress_line(scorecard, p, names) for p in initiatives]
    chunks = _chunks(lines) + _chunks(goals)
    return [{"type": "divider"}, kit.section(head), *[kit.section(c) for c in chunks]]


def initiative_progress_line(
    scorecard: Scorecard, progress: Progress, names: dict[str, str]
) -> str:
    line = (
        f"{_initiative_head(scorecard, progress)}: {len(progress.met)} of {progress.total} "
        f"of your services ({progress.percent}%)"
    )
    if not progress.missing:
        return line + " ✓"
    missing = sorted((names.get(s.service, s.service) for s in progress.missing), key=str.casefold)
    shown = ", ".join(shorten(name, 60) for name in missing[:MAX_MISSING])
    if len(missing) > MAX_MISSING:
        shown += f" …and {len(missing) - MAX_MISSING} more"
    return f"{line} · missing: {safe(shown, 1200)}"


def _team_line(scorecard: Scorecard, service: Entity, result: ServiceResult) -> str:
    parts = [f"• *{safe(service.display_name, 100)}*:"]
    if scorecard.levels:
        parts.append(f"{_level(result)} ·")
    parts.append(_score(result))
    if result.next_level is not None and result.blockers:
        parts.append(f"· {len(result.blockers)} blocking {safe(result.next_level, 50)}")
    return " ".join(parts)


# Not found, nothing loaded -----------------------------------------------------------------


def _suggestions(answer: Suggestions) -> Message:
    query = safe(answer.query, 200)
    if not answer.choices:
        text = f"I found no {answer.what} called *{query}* in the catalog."
        return {"text": text, "blocks": [kit.section(text), kit.section(USAGE)]}
    shown = answer.choices[:MAX_CHOICES]
    blocks = did_you_mean(PICK_ACTION, answer.query, shown)
    return {"text": f"Did you mean one of {len(shown)} {answer.what}s?", "blocks": blocks}


def _no_scorecards(answer: NoScorecards) -> Message:
    text = (
        "No scorecards are loaded: list scorecard files or folders under `scorecards.paths` "
        "in the configuration file."
    )
    if answer.problems:
        text = (
            f"No scorecards are loaded: the scorecard files have {answer.problems} error(s). "
            "`switchboard scorecards check` shows them as `file:line`."
        )
    return {"text": text, "blocks": [kit.section(text)]}


# Shared ------------------------------------------------------------------------------------


def _origin(shared_by: str) -> str:
    origin = (
        "Evaluated just now from the catalog, Switchboard's incident records "
        "and the stored live facts"
    )
    return f"{origin} · shared by <@{shared_by}>" if shared_by else origin

"""Insight in words: the same `Insight` as Slack blocks, terminal text, JSON and CSV. Lines
are plain text first (`sections`), so Slack and the terminal say the same thing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from switchboard.bot.insight.measures import Dora, Figure, LevelRate, Line, Standards
from switchboard.bot.insight.service import STANDARD_WINDOWS, Insight, TeamWeeks
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.blocks import Block
from switchboard.bot.platform.text import duration, safe

SHOWN_LINES = 10  # per breakdown in Slack; JSON and CSV have every line
# A channel's text says nothing of other kinds of incident (tests/security).
PUBLIC_NOTE = "Public incidents only (docs/insight.md)."


def sections(insight: Insight) -> list[tuple[str, list[str]]]:
    """(heading, lines), plain text."""
    r = insight.response
    measured = (
        f"measured from when the impact started for {r.from_impact} of {r.incidents}, "
        "from when declared for the rest"
        if r.from_impact
        else "measured from when declared (no impact start was set)"
    )
    out = [
        (
            "Response",
            [
                _figure_line("to acknowledge", r.to_acknowledge),
                _figure_line("to mitigate", r.to_mitigate),
                _figure_line("to resolve", r.to_resolve),
                measured,
                "by severity: " + ", ".join(f"{s} {n}" for s, n in r.by_severity.items()),
            ],
        ),
        ("By service", _lines(insight, insight.by_service)),
        ("By team", _lines(insight, insight.by_team)),
        (
            "By week",
            [f"{line.name}: {line.incidents}" for line in insight.by_week if line.incidents]
            or ["none"],
        ),
        (
            "Standards against outcomes",
            [standards_line(s) for s in insight.standards] or ["no scorecards"],
        ),
        ("DORA", dora_lines(insight.dora)),
        ("Follow-through", _follow_lines(insight)),
    ]
    return out


def summary(insight: Insight) -> str:
    r, scope = insight.response, insight.scope
    days = f"{scope.days} day{'s' if scope.days != 1 else ''}"
    count = f"{r.incidents} incident{'s' if r.incidents != 1 else ''}"
    text = f"{count} in the last {days} ({scope.label})"
    if insight.private_counted:
        text += f", {insight.private_counted} of them private (counted here, in no breakdown)"
    return text + "."


def blocks(insight: Insight) -> tuple[str, list[Block]]:
    """For Slack: a header, the summary and a section per measure (within Block Kit's
    limits: ten lines a breakdown, each line cut to 150 characters)."""
    head = summary(insight)
    out: list[Block] = [kit.header("Incident insight"), kit.section(f"*{safe(head, 2900)}*")]
    for heading, lines in sections(insight):
        shown = [safe(line, 150) for line in lines[:SHOWN_LINES]]
        if len(lines) > SHOWN_LINES:
            shown.append(f"…and {len(lines) - SHOWN_LINES} more")
        out.append(kit.section(f"*{heading}*\n" + "\n".join(shown)))
    if insight.public:
        out.append(kit.context(PUBLIC_NOTE))
    out.append(kit.context("What each number means: docs/insight.md"))
    return head, out


def text(insight: Insight) -> str:
    out = [summary(insight)]
    for heading, lines in sections(insight):
        out += [f"{heading}:", *(f"  {line}" for line in lines)]
    return "\n".join(out)


def standards_line(s: Standards) -> str:
    """ "Ready, 28 days: SEV1/2 per service below Silver 1.5 (3 in 2.0), Silver or above
    0.33 (1 in 3.0): 4.5x" (incidents in service-equivalents, see docs/insight.md)."""
    head = f"{s.scorecard}, {s.days} days: "
    if not s.split:
        return head + "no levels"
    groups = f"below {s.split} {_rate(s.below)}, {s.split} or above {_rate(s.above)}"
    if not s.enough:
        return head + f"too few to compare ({groups})"
    ratio = s.ratio
    return head + f"SEV1/2 per service {groups}" + (f": {ratio:.1f}x" if ratio is not None else "")


def _rate(group: LevelRate) -> str:
    rate = group.rate
    shown = f"{rate:.2f}".rstrip("0").rstrip(".") if rate is not None else "-"
    return f"{shown} ({group.incidents} in {group.services:.1f})"


def dora_lines(d: Dora) -> list[str]:
    if not d.deploys:
        frequency = "deployment frequency: no production deploys"
    else:
        frequency = f"deployment frequency: {d.per_week:g} a week{_band(d.frequency_band)}"
    lead = (
        f"lead time for changes: median {duration(d.lead_time.median)} "
        f"over {d.lead_time.count} deploys{_band(d.lead_time_band)}"
        if d.lead_time.median is not None
        else "lead time for changes: no deploys with commits"
    )
    failures = (
        f"change failure rate: {d.change_failure_rate:.0%} ({d.change_failures} of {d.deploys})"
        f"{_band(d.change_failure_band)}"
        if d.change_failure_rate is not None
        else "change failure rate: no deploys"
    )
    restore = (
        f"time to restore: median {duration(d.to_restore.median)}{_band(d.to_restore_band)}"
        if d.to_restore.median is not None
        else "time to restore: nothing resolved"
    )
    return [frequency, lead, failures, restore]


def _band(band: str) -> str:
    return f" ({band})" if band else ""


def _follow_lines(insight: Insight) -> list[str]:
    f = insight.follow_through
    rate = f" ({f.on_time_rate:.0%} on time)" if f.on_time_rate is not None else ""
    repeats = f"repeat incidents: {f.repeats}"
    if f.repeat_services:
        repeats += " (" + ", ".join(insight.name(s) for s in f.repeat_services[:5]) + ")"
    return [
        f"follow-ups due: {f.due}; done on time {f.on_time}, late {f.late}{rate}",
        f"overdue now: {f.overdue}; won't do: {f.wont_do}",
        repeats,
    ]


def _figure_line(what: str, fig: Figure) -> str:
    if fig.median is None or fig.p90 is None:
        return f"{what}: none yet"
    return f"{what}: median {duration(fig.median)}, p90 {duration(fig.p90)} (over {fig.count})"


def _lines(insight: Insight, lines: list[Line]) -> list[str]:
    out = []
    for line in lines:
        resolve = line.to_resolve.median
        tail = f", median to resolve {duration(resolve)}" if resolve is not None else ""
        out.append(f"{insight.name(line.name)}: {line.incidents}{tail}")
    return out or ["none"]


# for machines


def as_json(insight: Insight) -> dict[str, Any]:
    r, scope = insight.response, insight.scope
    return {
        "scope": {
            "days": scope.days,
            "since": scope.since.isoformat(),
            "until": scope.until.isoformat(),
            "service": scope.service,
            "team": scope.team,
            "severity": scope.severity,
        },
        "public_only": insight.public,
        "private_counted": insight.private_counted,
        "response": {
            "incidents": r.incidents,
            "measured_from_impact_start": r.from_impact,
            "by_severity": r.by_severity,
            "to_acknowledge": _figure_json(r.to_acknowledge),
            "to_mitigate": _figure_json(r.to_mitigate),
            "to_resolve": _figure_json(r.to_resolve),
        },
        "by_service": [_line_json(insight, line) for line in insight.by_service],
        "by_team": [_line_json(insight, line) for line in insight.by_team],
        "by_week": [_line_json(insight, line) for line in insight.by_week],
        "standards": [_standards_json(s) for s in insight.standards],
        "dora": _dora_json(insight.dora),
        "follow_through": {
            "due": insight.follow_through.due,
            "on_time": insight.follow_through.on_time,
            "late": insight.follow_through.late,
            "overdue": insight.follow_through.overdue,
            "wont_do": insight.follow_through.wont_do,
            "repeats": insight.follow_through.repeats,
            "repeat_services": insight.follow_through.repeat_services,
        },
    }


def as_csv(insight: Insight) -> str:
    """One row per number: measure, group, value (seconds for durations)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["measure", "group", "value"])
    for measure, group, value in _rows(as_json(insight)):
        writer.writerow([measure, group, value])
    return out.getvalue()


def _rows(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str, Any]]:
    rows: list[tuple[str, str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += _rows(value, f"{name}.")
        elif isinstance(value, list):
            for n, item in enumerate(value):
                if isinstance(item, dict):
                    group = str(item.get("name") or item.get("scorecard") or n)
                    if "days" in item and "scorecard" in item:
                        group += f" {item['days']}d"
                    rows += [(m, group, v) for m, _, v in _rows(item, f"{name}.")]
                else:
                    rows.append((name, str(n), item))
        else:
            rows.append((name, "", value))
    return rows


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _figure_json(fig: Figure) -> dict[str, Any]:
    return {
        "count": fig.count,
        "median_seconds": _seconds(fig.median),
        "p90_seconds": _seconds(fig.p90),
    }


def _line_json(insight: Insight, line: Line) -> dict[str, Any]:
    return {
        "name": insight.name(line.name),
        "ref": line.name,
        "incidents": line.incidents,
        "to_resolve": _figure_json(line.to_resolve),
    }


def _standards_json(s: Standards) -> dict[str, Any]:
    return {
        "scorecard": s.scorecard,
        "days": s.days,
        "split": s.split,
        "enough": s.enough,
        "ratio": round(s.ratio, 2) if s.ratio is not None else None,
        "levels": [
            {"name": lv.level, "services": round(lv.services, 3), "incidents": lv.incidents}
            for lv in s.levels
        ],
    }


def _dora_json(d: Dora) -> dict[str, Any]:
    return {
        "deploys": d.deploys,
        "per_week": d.per_week,
        "frequency_band": d.frequency_band,
        "lead_time": _figure_json(d.lead_time),
        "lead_time_band": d.lead_time_band,
        "change_failures": d.change_failures,
        "change_failure_rate": d.change_failure_rate,
        "change_failure_band": d.change_failure_band,
        "to_restore": _figure_json(d.to_restore),
        "to_restore_band": d.to_restore_band,
    }


# the weekly digest


def how_we_are_doing(team: TeamWeeks) -> list[str]:
    """The digest's lines: each measure over the week against the four weeks before it,
    and the standards-against-outcomes line (28 days) of the team's services."""
    now, before = team.week, team.before
    per_week = before.response.incidents / 4
    lines = [
        f"Incidents: {now.response.incidents} this week (a week in the four before: {per_week:g})",
        _against(
            "Time to acknowledge", now.response.to_acknowledge, before.response.to_acknowledge
        ),
        _against("Time to resolve", now.response.to_resolve, before.response.to_resolve),
        f"Deploys: {now.dora.deploys} this week (a week before: {before.dora.deploys / 4:g}); "
        f"change failure rate {_percent(now.dora.change_failure_rate)} "
        f"(before: {_percent(before.dora.change_failure_rate)})",
        f"Follow-ups done on time: {_percent(now.follow_through.on_time_rate)} "
        f"(before: {_percent(before.follow_through.on_time_rate)}); "
        f"{now.follow_through.overdue} overdue",
    ]
    lines += [standards_line(s) for s in now.standards if s.days == STANDARD_WINDOWS[0]]
    return [f"• {safe(line, 300)}" for line in lines] + [f"_{PUBLIC_NOTE}_"]


def _against(what: str, now: Figure, before: Figure) -> str:
    def median(fig: Figure) -> str:
        return duration(fig.median) if fig.median is not None else "none"

    return f"{what}: median {median(now)} (before: {median(before)})"


def _percent(rate: float | None) -> str:
    return f"{rate:.0%}" if rate is not None else "-"

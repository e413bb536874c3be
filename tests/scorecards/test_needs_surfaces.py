"""A rule that needs a fact we cannot have is told apart from a failing one on the
surfaces that read stored results: the weekly digest and the scorecard nags, and on
`/scorecard` what blocks a level."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from switchboard.bot.catalog.model import Entity, Link
from switchboard.bot.scorecards.cql.context import FactAge, FactTable
from switchboard.bot.scorecards.evaluate import Sources, evaluate
from switchboard.bot.scorecards.loader import load_paths
from switchboard.bot.scorecards.messages import render
from switchboard.bot.scorecards.model import NEEDS, Scorecard
from switchboard.bot.scorecards.results import standing
from switchboard.bot.scorecards.service import ScorecardResult, ServiceScores
from switchboard.bot.teams.digest_message import TeamWeek
from switchboard.bot.teams.digest_message import render as render_digest
from switchboard.bot.teams.scorecard_nags import Worse, _describe
from switchboard.storage.scorecard_facts import Facts

CARD = """
    scorecard: ready
    name: Ready
    levels: [Bronze]
    rules:
      - {id: readme, title: Has a README, level: Bronze, check: file_exists, path: README.md}
      - {id: runbook, title: Has a runbook, level: Bronze, check: link_exists, type: runbook}
"""
TEAM = Entity(kind="group", name="shop")
SERVICE = Entity(
    kind="component",
    name="cart",
    owners=[TEAM.ref],
    links=[Link("repo", "https://github.com/acme/cart")],
)


def scorecard(tmp_path: Path) -> Scorecard:
    path = tmp_path / "ready.yaml"
    path.write_text(textwrap.dedent(CARD).lstrip("\n"), encoding="utf-8")
    (card,) = load_paths([path]).scorecards
    return card


def test_stored_results_keep_the_rules_that_need_a_source(tmp_path: Path) -> None:
    card = scorecard(tmp_path)
    (result,) = evaluate(card, [SERVICE], Facts(), date(2026, 3, 2), live=Sources(configured=()))
    assert [(o.rule.id, o.status) for o in result.outcomes] == [
        ("readme", NEEDS),
        ("runbook", "fail"),
    ]
    assert result.score == 0.0  # the needing rule is not applicable: 0 of 1
    stored = standing(card, result)
    assert (stored.failing, stored.needs) == (("readme", "runbook"), ("readme",))
    # /scorecard: what blocks Bronze says which rule needs a source
    answer = render(ServiceScores(SERVICE, [ScorecardResult(card, result)]))
    text = str(answer["blocks"])
    assert ":electric_plug: *Has a README* (Bronze): needs GitHub (set GITHUB_TOKEN)" in text
    assert "*Blocks Bronze*: Has a README (needs a source), Has a runbook" in text


def test_the_digest_tells_needing_rules_apart_from_failing_ones(tmp_path: Path) -> None:
    card = scorecard(tmp_path)
    (result,) = evaluate(card, [SERVICE], Facts(), date(2026, 3, 2), live=Sources(configured=()))
    week = TeamWeek(
        TEAM,
        datetime(2026, 2, 23, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
        date(2026, 3, 2),
        True,
    )
    week.configured = frozenset()
    week.add_result(card, SERVICE, standing(card, result), None)
    _, blocks = render_digest(week, "")
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "• Has a runbook: 1 of 1 service(s)" in text
    assert (
        "• :electric_plug: Has a README: not evaluated for 1 of 1 service(s), "
        "needs GitHub (set GITHUB_TOKEN)"
    ) in text
    assert "• Has a README: 1 of 1" not in text


def test_a_nag_never_calls_a_needing_rule_newly_failing(tmp_path: Path) -> None:
    card = scorecard(tmp_path)
    today = date(2026, 3, 2)
    github = FactTable(values={(SERVICE.ref, "git.file:README.md"): True})
    (before,) = evaluate(card, [SERVICE], Facts(), today, live=Sources(github, {"github"}))
    (now,) = evaluate(card, [SERVICE], Facts(), today, live=Sources(configured=()))
    assert (before.outcomes[0].status, now.outcomes[0].status) == ("pass", NEEDS)
    worse = Worse(card, SERVICE, standing(card, before), standing(card, now))
    assert worse.new_failures == set()  # GITHUB_TOKEN went away: not the team's to fix
    assert "newly failing" not in _describe(worse)


def test_scorecard_shows_a_stale_fact_flagged_with_its_age(tmp_path: Path) -> None:
    card = scorecard(tmp_path)
    table = FactTable(about={})
    table.values[(SERVICE.ref, "git.file:README.md")] = True
    assert table.about is not None
    table.about[(SERVICE.ref, "git.file:README.md")] = FactAge("github", timedelta(hours=9), True)
    live = Sources(table, configured={"github"})
    (result,) = evaluate(card, [SERVICE], Facts(), date(2026, 3, 2), live=live)
    (section,) = [
        b["text"]["text"]
        for b in render(ServiceScores(SERVICE, [ScorecardResult(card, result)]))["blocks"]
        if b["type"] == "section" and "README" in b["text"]["text"]
    ]
    assert section.splitlines()[0] == (
        ':white_check_mark: *Has a README* (Bronze): git.fileExists("README.md") is true'
        " · :warning: _GitHub, 9 h ago, stale_"
    )

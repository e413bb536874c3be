"""Our scorecard YAML's rule kinds over live facts (`fact`, `sonarqube_metric`,
`file_exists`, `vulnerabilities_at_most`, `oncall_now`): each is the CQL rule it means, so it
passes, fails or says what it needs exactly as that rule does, and shows its facts' age."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest

from switchboard.bot.catalog.model import Entity, Link, OnCall
from switchboard.bot.scorecards.cql.context import GITHUB, SONARQUBE, FactAge, FactTable
from switchboard.bot.scorecards.evaluate import Sources, evaluate
from switchboard.bot.scorecards.loader import LoadResult, load_paths
from switchboard.bot.scorecards.model import FAIL, NEEDS, PASS, CqlRule, Scorecard
from switchboard.storage.scorecard_facts import Facts

TODAY = date(2026, 3, 10)
CARD = """
    scorecard: live
    name: Live facts
    rules:
      - id: coverage
        check: fact
        fact: test.coverage.line
        at_least: 80
      - id: sonar
        check: sonarqube_metric
        metric: coverage
        at_least: 75.5
      - id: readme
        check: file_exists
        path: README.md
      - id: vulns
        check: vulnerabilities_at_most
        severities: [critical, high]
        at_most: 0
      - id: oncall
        check: oncall_now
"""
SERVICE = Entity(
    kind="component",
    name="pay",
    links=[Link("repo", "https://github.com/acme/pay")],
    oncall=[OnCall("pagerduty", "service", "PABC")],
)


def load(tmp_path: Path, text: str) -> LoadResult:
    path = tmp_path / "card.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_paths([path])


@pytest.fixture
def card(tmp_path: Path) -> Scorecard:
    loaded = load(tmp_path, CARD)
    assert loaded.errors == [] and loaded.warnings == []
    (scorecard,) = loaded.scorecards
    return scorecard


def test_each_kind_is_the_cql_rule_it_means(card: Scorecard) -> None:
    assert [r.check.expression for r in card.rules if isinstance(r.check, CqlRule)] == [
        'custom("test.coverage.line") >= 80',
        'sonarqube.metric("coverage") >= 75.5',
        'git.fileExists("README.md")',
        'git.numOfVulnerabilities(severity=["CRITICAL", "HIGH"]) <= 0',
        "oncall.details().current.length > 0",
    ]


def outcomes(card: Scorecard, sources: Sources) -> list[tuple[str, str, str]]:
    (result,) = evaluate(card, [SERVICE], Facts(), TODAY, live=sources)
    return [(o.status, o.reason, o.facts) for o in result.outcomes]


def test_with_every_fact_stored_they_pass_or_fail_saying_where_it_came_from(
    card: Scorecard,
) -> None:
    ref = SERVICE.ref
    table = FactTable(about={})
    for source, key, value, age, stale in [
        ("push:ci", "custom.test.coverage.line", 91.0, timedelta(hours=2), False),
        ("sonarqube", "sonarqube.coverage", 60.0, timedelta(minutes=12), False),
        ("github", "git.file:README.md", True, timedelta(hours=7), True),
        ("github", "git.vulnerabilities", {"CRITICAL": 1, "LOW": 4}, timedelta(hours=1), False),
        ("pagerduty", "oncall.now", [{"name": "Ann", "level": 1}], timedelta(minutes=3), False),
    ]:
        table.values[(ref, key)] = value
        table.sources.setdefault(ref, set()).add(source.partition(":")[0])
        assert table.about is not None
        table.about[(ref, key)] = FactAge(source, age, stale)
    got = outcomes(card, Sources(table, configured={GITHUB, SONARQUBE}))
    assert got == [
        (PASS, 'custom("test.coverage.line") is 91', "pushed, 2 h ago"),
        (FAIL, 'sonarqube.metric("coverage") is 60, must be >= 75.5', "SonarQube, 12 min ago"),
        (PASS, 'git.fileExists("README.md") is true', "GitHub, 7 h ago, stale"),
        (
            FAIL,
            'git.numOfVulnerabilities(severity=["CRITICAL", "HIGH"]) is 1, must be <= 0',
            "GitHub, 1 h ago",
        ),
        (PASS, "oncall.details().current.length is 1", "PagerDuty, 3 min ago"),
    ]


def test_without_the_sources_they_say_what_is_needed(card: Scorecard) -> None:
    got = outcomes(card, Sources(FactTable(about={}), configured=set()))
    assert got == [
        (FAIL, 'custom("test.coverage.line") is null, must be >= 80', ""),
        (NEEDS, "needs SonarQube (set SONARQUBE_URL and SONARQUBE_TOKEN)", ""),
        (NEEDS, "needs GitHub (set GITHUB_TOKEN)", ""),
        (NEEDS, "needs GitHub (set GITHUB_TOKEN)", ""),
        (
            NEEDS,
            "needs on-call: no on-call source has reported who is on call for this service yet",
            "",
        ),
    ]


def test_with_github_configured_a_fact_not_fetched_yet_is_needed_for_this_service(
    card: Scorecard,
) -> None:
    (_, _, readme, _, _) = outcomes(card, Sources(FactTable(), configured={GITHUB}))
    assert readme == (
        NEEDS,
        "needs GitHub: GitHub has not reported `git.file:README.md` for this service yet",
        "",
    )


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ("check: fact\n        fact: test.coverage", "give one of at_least, at_most or equals"),
        (
            "check: fact\n        fact: bad key\n        at_least: 1",
            "rules[0].fact: 'bad key' is not a fact key",
        ),
        (
            "check: file_exists\n        path: '../x\"'",
            "rules[0].path: '../x\"' is not a repository path",
        ),
        (
            "check: vulnerabilities_at_most\n        severities: [urgent]\n        at_most: 0",
            "rules[0].severities: 'URGENT' is not one of CRITICAL, HIGH, MEDIUM, LOW",
        ),
        ("check: vulnerabilities_at_most", "rules[0].at_most is required"),
        (
            "check: sonarqube_metric\n        metric: coverage\n        at_least: -3",
            "expected a number of 0 or more, got -3",
        ),
    ],
)
def test_a_malformed_fact_rule_is_an_error_at_its_line(
    tmp_path: Path, rule: str, error: str
) -> None:
    loaded = load(
        tmp_path, f"scorecard: bad\nrules:\n  - id: r\n    {rule}\n".replace("\n        ", "\n    ")
    )
    assert loaded.scorecards == []
    assert any(error in str(p) for p in loaded.errors), loaded.errors


def test_an_oncall_held_by_the_owning_team_is_read_from_the_team(card: Scorecard) -> None:
    team = Entity(kind="group", name="payments", oncall=[OnCall("pagerduty", "service", "PT")])
    service = Entity(kind="component", name="api", owners=[team.ref])
    table = FactTable(about={})
    table.values[(team.ref, "oncall.now")] = [{"name": "Bo", "level": 1}]
    assert table.about is not None
    table.about[(team.ref, "oncall.now")] = FactAge("pagerduty", timedelta(minutes=1), False)
    (result,) = evaluate(
        card, [service], Facts(), TODAY, {team.ref: team}, Sources(table, configured=set())
    )
    oncall = result.outcomes[-1]
    assert (oncall.status, oncall.reason, oncall.facts) == (
        PASS,
        "oncall.details().current.length is 1",
        "PagerDuty, 1 min ago",
    )

"""Every rule of the real Cortex scorecards (the shared folder) compiles, or is reported
`unsupported` saying exactly what and where; and our own test scorecard, written from
Cortex's documented functions, is evaluable throughout."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import yaml

from switchboard.bot.scorecards.cql.compiler import (
    EVALUABLE,
    NEEDS_SOURCES,
    UNSUPPORTED_RULE,
    Status,
    status,
)
from switchboard.bot.scorecards.cql.context import GITHUB, SONARQUBE

OWN = Path(__file__).parent / "data" / "production-readiness.yaml"
LOCATED = re.compile(r"^[^\n]+\.ya?ml:\d+:\d+: [^\n]+\n    [^\n]*\n    *\^$")


def rules_of(path: Path) -> list[tuple[str, int, int, str]]:
    """(title, line and column of the expression in the file, expression) of a Cortex
    scorecard; the column is what precedes the expression on its lines."""
    found = []
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    for doc in yaml.compose_all(text):
        if not isinstance(doc, yaml.MappingNode):
            continue
        fields = {k.value: v for k, v in doc.value}
        if not isinstance(fields.get("rules"), yaml.SequenceNode):
            continue
        for rule in fields["rules"].value:
            items = {k.value: v for k, v in rule.value}
            node = items["expression"]
            if node.style in ("|", ">"):  # the text starts on the line after the indicator
                line = node.start_mark.line + 2
                column = len(lines[line - 1]) - len(lines[line - 1].lstrip())
            else:
                line, column = node.start_mark.line + 1, node.start_mark.column
            found.append((items["title"].value, line, column, node.value))
    return found


def checked(folder: Path, configured: set[str]) -> list[tuple[str, Status]]:
    results = []
    for path in sorted(folder.rglob("*.y*ml")):
        for title, line, column, expression in rules_of(path):
            results.append((title, status(expression, configured, str(path), line, column)))
    return results


def test_every_real_cortex_rule_compiles_or_is_unsupported_precisely(
    real_catalogs: Path,
) -> None:
    results = checked(real_catalogs, set())
    assert results, "no Cortex scorecard rules found"
    for title, result in results:
        assert result.status in (EVALUABLE, NEEDS_SOURCES, UNSUPPORTED_RULE), title
        if result.status == UNSUPPORTED_RULE:
            assert LOCATED.match(result.reason), result.reason  # file:line:col, text, caret
        if result.status == NEEDS_SOURCES:
            assert result.needs and result.reason.startswith("needs ")
    counts = Counter(r.status for _, r in results)
    # every unsupported one is a placeholder comment: none is CQL we fail to read
    unsupported = [r.reason for _, r in results if r.status == UNSUPPORTED_RULE]
    assert all("a placeholder comment, not a rule" in reason for reason in unsupported)
    with_github = Counter(r.status for _, r in checked(real_catalogs, {GITHUB}))
    assert with_github[NEEDS_SOURCES] == 0
    assert with_github[EVALUABLE] == counts[EVALUABLE] + counts[NEEDS_SOURCES]


def test_the_placeholders_of_the_incident_preparedness_library_say_where(
    real_catalogs: Path,
) -> None:
    path = next(real_catalogs.rglob("incident-preparedness.yaml"))
    results = checked(path.parent, set())
    placeholder = next(r for t, r in results if t == "Recent Chaos Engineering Experiments")
    assert placeholder.reason == (
        f"{path}:44:15: a placeholder comment, not a rule\n"
        "    /* Replace with your chaos engineering experiment tracking metric */\n    ^"
    )
    assert [r.status for t, r in results if t == "Runbooks Available"] == [EVALUABLE]


def test_deploy_health_needs_github() -> None:
    assert status('deploys(lookback=duration("P7D")).length > 0', set()) == Status(
        NEEDS_SOURCES, (GITHUB,), "needs GitHub (set GITHUB_TOKEN)"
    )


def test_our_scorecard_from_the_documented_functions_is_evaluable() -> None:
    results = checked(OWN.parent, {GITHUB, SONARQUBE})
    assert len(results) == 15
    assert {title: r.status for title, r in results if r.status != EVALUABLE} == {}


def test_without_sonarqube_the_coverage_rule_needs_it() -> None:
    results = dict(checked(OWN.parent, {GITHUB}))
    assert results["Coverage over 80%"] == Status(
        NEEDS_SOURCES, (SONARQUBE,), "needs SonarQube (set SONARQUBE_URL and SONARQUBE_TOKEN)"
    )

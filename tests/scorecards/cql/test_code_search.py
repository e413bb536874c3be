"""`git.codeSearch(query=...)`: the count GitHub's code search gave for the service's
repository, as many results as it counts; "needs" while the search is queued under GitHub's
code-search limit; queries that could search anything but the service's own repository, or
that are not literals (so never gathered for GitHub), refused when the rule is read."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from switchboard.bot.catalog.model import Entity, Link
from switchboard.bot.scorecards.cortex import map_expression
from switchboard.bot.scorecards.cql.compiler import FAIL, NEEDS, PASS, compile_rule
from switchboard.bot.scorecards.cql.context import GITHUB, FactTable, Snapshot
from switchboard.bot.scorecards.cql.errors import TYPE, CqlError
from switchboard.bot.scorecards.evaluate import evaluate
from switchboard.bot.scorecards.model import Rule, Scorecard
from switchboard.storage.scorecard_facts import Facts

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
SERVICE = Entity(kind="component", name="svc")
REF = SERVICE.ref


def context(**counts: int) -> Snapshot:
    values = {(REF, f"git.code_search:{q}"): n for q, n in counts.items()}
    return Snapshot(NOW, FactTable(values, {REF: {GITHUB}}))


@pytest.mark.parametrize(
    ("expression", "status", "reason"),
    [
        ('git.codeSearch(query = "TODO").length == 0', FAIL, "is 3, must be == 0"),
        ('git.codeSearch(query = "TODO").size > 2', PASS, ""),
        ('git.codeSearch("TODO").length <= 3', PASS, ""),
        ('git.codeSearch(query = "TODO").any(x => true)', PASS, ""),
        ('git.codeSearch(query = "log4j").length == 0', PASS, ""),
    ],
)
def test_a_search_reads_as_that_many_results(expression: str, status: str, reason: str) -> None:
    verdict = compile_rule(expression).evaluate(SERVICE, context(TODO=3, log4j=0))
    assert verdict.status == status
    assert verdict.reason.endswith(reason)


def test_a_search_not_run_yet_says_it_is_queued_under_githubs_limit() -> None:
    verdict = compile_rule('git.codeSearch(query = "TODO").length == 0').evaluate(
        SERVICE, context()
    )
    assert (verdict.status, verdict.needs) == (NEEDS, GITHUB)
    assert verdict.reason == (
        "the code search for 'TODO' is queued under GitHub's code-search limit "
        "(10 a minute) and has not run for this service yet"
    )


def test_a_service_without_a_repository_needs_one() -> None:
    verdict = compile_rule('git.codeSearch(query = "TODO").length == 0').evaluate(
        SERVICE, Snapshot(NOW)
    )
    assert verdict.status == NEEDS
    assert verdict.reason == "no GitHub repository for this service"


def test_the_rule_names_the_search_for_github_to_run() -> None:
    rule = compile_rule('git.codeSearch(query = "TODO fixme").length == 0')
    assert rule.sources == {GITHUB}
    assert rule.facts == {"git.code_search:TODO fixme"}


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            'git.codeSearch(query = "x repo:other/secret").length == 0',
            "git.codeSearch(): the query may not name a repository, org or user "
            "(it searches the service's own repository)",
        ),
        (
            'git.codeSearch(query = "ORG:acme x").length == 0',
            "git.codeSearch(): the query may not name a repository, org or user "
            "(it searches the service's own repository)",
        ),
        (
            "git.codeSearch(query = entity.name()).length == 0",
            "git.codeSearch(): the query must be a non-empty string literal",
        ),
        (
            'git.codeSearch(query = "  ").length == 0',
            "git.codeSearch(): the query must be a non-empty string literal",
        ),
        (
            f'git.codeSearch(query = "{"a" * 201}").length == 0',
            "git.codeSearch(): the query must be one line of at most 200 characters",
        ),
        ("git.codeSearch().length == 0", "`git.codeSearch()` needs `query`"),
    ],
)
def test_a_query_that_cannot_be_asked_is_refused_when_read(expression: str, message: str) -> None:
    with pytest.raises(CqlError) as caught:
        compile_rule(expression)
    assert (caught.value.kind, caught.value.message) == (TYPE, message)


def test_scorecard_shows_a_queued_search_as_needs_not_fail() -> None:
    service = Entity(kind="component", name="svc", links=[Link("repo", "https://github.com/a/b")])
    rule = Rule("r", "No TODOs", map_expression('git.codeSearch(query = "TODO").length == 0'))
    (result,) = evaluate(Scorecard("c", "C", (), (rule,)), [service], Facts(), date(2026, 3, 10))
    assert [(o.status, o.reason) for o in result.outcomes] == [
        (
            "needs",
            "needs GitHub: the code search for 'TODO' is queued under GitHub's code-search "
            "limit (10 a minute) and has not run for this service yet",
        )
    ]

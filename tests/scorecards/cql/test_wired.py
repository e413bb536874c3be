"""CQL rules inside the scorecard evaluator: the outcome a service gets, private incidents
counted but never told publicly, and the incident window the rules ask to be loaded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from switchboard.bot.catalog.model import DEPENDS_ON, Entity, Link, Relation
from switchboard.bot.scorecards.cortex import map_expression
from switchboard.bot.scorecards.cql.messages import fill
from switchboard.bot.scorecards.evaluate import Sources, dependents_index, evaluate, lookback_days
from switchboard.bot.scorecards.loader import load_paths
from switchboard.bot.scorecards.model import FAIL, NEEDS, PASS, Rule, Scorecard
from switchboard.storage.scorecard_facts import Facts, IncidentFact, ServiceFacts

TODAY = date(2026, 3, 10)
SERVICE = Entity(kind="component", name="svc", links=[Link("repo", "https://github.com/a/b")])


def card(*expressions: str) -> Scorecard:
    rules = tuple(
        Rule(f"r{n}", f"Rule {n}", map_expression(text)) for n, text in enumerate(expressions)
    )
    return Scorecard("c", "C", (), rules)


def test_a_cql_rule_passes_fails_or_says_what_it_needs() -> None:
    scorecard = card("git != null", 'links("runbook").length > 0', 'git.fileExists("README.md")')
    (result,) = evaluate(scorecard, [SERVICE], Facts(), TODAY)
    assert [(o.status, o.reason) for o in result.outcomes] == [
        (PASS, "has a GitHub repository"),
        (FAIL, 'links("runbook").length is 0, must be > 0'),
        (NEEDS, "needs GitHub: GitHub has not reported `git.file:README.md` for this service yet"),
    ]


def test_a_private_incident_counts_but_is_withheld_from_public_surfaces() -> None:
    declared = datetime(2026, 3, 8, tzinfo=UTC)
    private = IncidentFact(declared, declared + timedelta(hours=1), "SEV1", 7, private=True)
    facts = Facts(services={SERVICE.ref: ServiceFacts([private])})
    scorecard = card('incidents(lookback=duration("P30D")).length < 1')
    (result,) = evaluate(scorecard, [SERVICE], facts, TODAY)
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.withheld, outcome.reason) == (FAIL, True, "")
    assert outcome.private_incidents == {7}
    assert outcome.private_reason == (
        'incidents(lookback=duration("P30D")).length is 1, must be < 1 '
        "(including a private incident)"
    )


def test_the_rules_say_how_many_days_of_incidents_to_load() -> None:
    assert lookback_days([card('incidents(lookback=duration("P90D")).length < 2')]) == 90
    assert lookback_days([card("oncall.analysis().meanSecondsToResolve < 60")]) == 7
    assert lookback_days([card("oncall != null")]) == 0


def test_dependents_unknown_to_the_evaluator_are_needed_not_false() -> None:
    (result,) = evaluate(card("dependencies.in().length > 0"), [SERVICE], Facts(), TODAY)
    assert (result.outcomes[0].status, result.outcomes[0].reason) == (
        NEEDS,
        "needs the catalog: the services that depend on this one are not loaded here",
    )


def test_dependencies_in_reads_the_index_built_once_per_evaluation() -> None:
    caller = Entity(kind="component", name="caller", relations=[Relation(DEPENDS_ON, SERVICE.ref)])
    entities = [SERVICE, caller]
    index = dependents_index(entities)
    assert index == {SERVICE.ref: [caller.ref]}
    results = evaluate(
        card("dependencies.in().length > 0"),
        entities,
        Facts(),
        TODAY,
        live=Sources(dependents=index),
    )
    assert [(r.service, r.outcomes[0].status, r.outcomes[0].reason) for r in results] == [
        (SERVICE.ref, PASS, "dependencies.in().length is 1"),
        (caller.ref, FAIL, "dependencies.in().length is 0, must be > 0"),
    ]


def test_a_failure_message_shows_the_captured_value(tmp_path: Path) -> None:
    path = tmp_path / "cortex.yaml"
    path.write_text(
        "tag: docs\n"
        "rules:\n"
        "  - title: Two runbooks\n"
        '    expression: captures("runbooks", links("runbook").length) >= 2\n'
        "    failureMessage: only {{context.evaluation.captures.runbooks}} runbook(s), "
        "{{ context.evaluation.captures.other }} else\n",
        encoding="utf-8",
    )
    loaded = load_paths([path])
    assert loaded.errors == []
    entity = Entity(kind="component", name="x", links=[Link("runbook", "https://r")])
    (result,) = evaluate(loaded.scorecards[0], [entity], Facts(), TODAY)
    assert (result.outcomes[0].status, result.outcomes[0].reason) == (
        FAIL,
        "only 1 runbook(s), null else",
    )


def test_only_the_capture_form_is_replaced() -> None:
    assert fill("{{ config.secret }} {{context.evaluation.captures.a}}", {"a": "x"}) == (
        "{{ config.secret }} x"
    )


def test_a_cortex_filter_query_over_the_catalog_selects_entities(tmp_path: Path) -> None:
    path = tmp_path / "cortex.yaml"
    path.write_text(
        "tag: some\n"
        "filter:\n"
        '  query: hasGroup("a") || (hasGroup("b") && links("runbook").length > 0)\n'
        "rules:\n"
        "  - title: Described\n"
        "    expression: entity.description() != null\n",
        encoding="utf-8",
    )
    loaded = load_paths([path])
    assert loaded.warnings == []
    entities = [
        Entity(kind="component", name="a", tags=["A"]),
        Entity(kind="component", name="b", tags=["b"]),
        Entity(kind="component", name="b-run", tags=["b"], links=[Link("runbook", "https://r")]),
    ]
    results = evaluate(loaded.scorecards[0], entities, Facts(), TODAY)
    assert [r.service for r in results] == [entities[0].ref, entities[2].ref]


def test_a_cortex_filter_query_reading_facts_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "cortex.yaml"
    path.write_text(
        "tag: some\nfilter:\n  query: git != null\nrules:\n"
        "  - title: Described\n    expression: entity.description() != null\n",
        encoding="utf-8",
    )
    (warning,) = load_paths([path]).warnings
    assert (warning.line, warning.message) == (
        3,
        "filter.query: CQL filter 'git != null' is not supported (it reads more than the "
        "catalog), ignored",
    )

"""The evaluator: expressions over an entity, its facts and our incident records, and what
comes out (values, null cases included, and rules' outcomes with the reason a user sees)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard.bot.catalog.model import DEPENDS_ON, Entity, Link, OnCall, Relation
from switchboard.bot.scorecards.cql.compiler import (
    ERROR,
    FAIL,
    NEEDS,
    PASS,
    compile_rule,
    value_of,
)
from switchboard.bot.scorecards.cql.context import (
    GITHUB,
    SONARQUBE,
    FactTable,
    IncidentRecord,
    Snapshot,
)
from switchboard.bot.scorecards.cql.values import SemVer

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
PAYMENTS = Entity(
    kind="component",
    name="payments",
    type="service",
    description="Takes money.",
    owners=["group:default/team-a", "user:email/ann@example.com"],
    tags=["Java", "pci"],
    links=[Link("runbook", "https://x/rb", "Runbook"), Link("docs", "https://x/docs")],
    relations=[Relation(DEPENDS_ON, "component:default/ledger")],
    oncall=[OnCall("pagerduty", "service", "P1")],
    slack_channels=["#payments"],
)
BARE = Entity(kind="component", name="bare")
REF = PAYMENTS.ref
FACTS = {
    "git.repository": {
        "full_name": "acme/payments",
        "default_branch": "main",
        "pushed_at": "2026-03-08T12:00:00Z",
        "archived": False,
    },
    "git.file:README.md": True,
    "git.file:CODEOWNERS": False,
    "git.pull_requests.open": 3,
    "git.vulnerabilities": {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 5, "LOW": 9},
    "git.last_push": "2026-03-08T12:00:00Z",
    "git.latest_release": {"tag": "v2.1.0", "published_at": "2026-02-01T00:00:00Z"},
    "git.deployments": [
        {"created_at": "2026-03-09T00:00:00Z"},
        {"created_at": "2025-12-01T00:00:00Z"},
    ],
    "sonarqube.coverage": 72.5,
    "sonarqube.bugs": 0,
    "oncall.now": [
        {"user_id": "U1", "email": "a@x", "name": "Ann", "level": 1, "start": "", "end": ""},
        {"user_id": "U2", "email": "b@x", "name": "Bob", "level": 2, "start": "", "end": ""},
    ],
    "custom.slos": [{"name": "latency", "target": 99.9}],
    "custom.nested": {"a": {"b": None}, "list": [1, 2, 3], "line": "100"},
    "snyk.issues": 4,
}
INCIDENTS = [
    IncidentRecord(
        NOW - timedelta(days=2),
        NOW - timedelta(days=2, hours=-2),
        NOW - timedelta(days=2, minutes=-10),
        "SEV1",
    ),
    IncidentRecord(
        NOW - timedelta(days=3),
        NOW - timedelta(days=3, hours=-4),
        NOW - timedelta(days=3, minutes=-20),
        "SEV2",
        private=True,
    ),
    IncidentRecord(NOW - timedelta(days=60), NOW - timedelta(days=59), None, "SEV3"),
]


def snapshot(**facts: Any) -> Snapshot:
    values = {(REF, k): v for k, v in {**FACTS, **facts}.items() if v is not None}
    return Snapshot(
        NOW,
        FactTable(values, {REF: {GITHUB, SONARQUBE}}),
        records={REF: INCIDENTS},
        dependents_of={REF: ["component:default/checkout", "component:default/shop"]},
    )


CONTEXT = snapshot()

VALUES: list[tuple[str, Any]] = [
    # literals and arithmetic
    ("1 + 2 * 3", 7),
    ("7 / 2", 3.5),
    ("7 % 4", 3),
    ("-(2 - 5)", 3),
    ('"a" + "b"', "ab"),
    ("1 == 1.0", True),
    ("2 > 1.5", True),
    ('"abc" < "abd"', True),
    ('"a" == "A"', False),
    ("1 == true", False),
    ('1 == "1"', False),
    ("[1, 2] == [1, 2]", True),
    # null
    ("null == null", True),
    ("null != null", False),
    ("null == 0", False),
    ("null < 1", False),
    ("null >= 1", False),
    ("1 > null", False),
    ("null <= null", False),
    ("null + 1", None),
    ("-null", None),
    ("!null", True),
    ("null && true", False),
    ("null || true", True),
    ('custom("absent")', None),
    ('custom("absent").name', None),
    ('custom("absent").length', None),
    ('custom("absent").filter(x => x > 1)', None),
    ('custom("absent").any(x => true)', None),
    ('custom("nested").a.b.c', None),
    ('custom("nested").missing', None),
    ('custom("nested")["list"][1]', 2),
    ('custom("nested").list.get(7)', None),
    ('custom("absent").matches("a")', None),
    # collections, empty ones included
    ("[1, 2, 3].length", 3),
    ("[1, 2, 3].size", 3),
    ("[].length", 0),
    ("[1, 2, 3].sum", 6),
    ("[].sum", 0),
    ("[1, 2].average", 1.5),
    ("[].average", None),
    ("[3, 1, 2].min", 1),
    ("[3, 1, 2].max()", 3),
    ("[].max", None),
    ("[1, null, 3].sum", 4),
    ("[].any(x => true)", False),
    ("[].all(x => false)", True),
    ("[].none(x => true)", True),
    ("[1, 2, 3].filter(x => x > 1)", [2, 3]),
    ("[1, 2, 3].map(x => x * 10)", [10, 20, 30]),
    ("[1, 2, 3].all(x => x > 0)", True),
    ("[1, 2, 3].none(x => x > 2)", False),
    ("[[1], [2, 3]].map(x => x.length).sum", 3),
    ("[1, 2].contains(2)", True),
    ('"payments".contains("pay")', True),
    ('"payments-api".matches("pay.*")', True),
    ('"payments-api".matches("pay")', False),  # the whole string, as Cortex (Java) matches
    ('["a-1", "b"].anyMatch("a-\\\\d")', True),
    # durations, dates, versions
    ('duration("P1W") == duration("P7D")', True),
    ('duration("PT1H") < duration("P1D")', True),
    ('git.lastCommit().date.fromNow() > duration("-P7D")', True),
    ('git.lastCommit().date.fromNow() > duration("-P1D")', False),
    ('semver("1.2.3") > semver("1.2.0")', True),
    ('semver("1.0.0-rc.1") < semver("1.0.0")', True),
    ('semver("1.2.3").isStable()', True),
    ('semver("0.9.0").isStable()', False),
    ('semver("2.0.0-beta").isStable()', False),
    ('semver("v2.1.0")', SemVer(2, 1, 0)),
    ('semver("1.2.3") == "1.2.3"', True),
    # catalog
    ("entity.description()", "Takes money."),
    ("entity.tag()", "payments"),
    ("entity.type()", "service"),
    ("description() != null", True),
    ('links("runbook").length', 1),
    ('links("runbook").map(l => l.url)', ["https://x/rb"]),
    ("links().length", 2),
    ('links("dashboard").length > 0', False),
    ("groups()", ["Java", "pci"]),
    ('hasGroup("java")', True),
    ('!hasGroup("deprecated")', True),
    ("ownership != null", True),
    ("ownership.teams().map(t => t.tag)", ["team-a"]),
    ("ownership.allOwners().length", 2),
    ('ownership.allOwners().any(o => o.email == "ann@example.com")', True),
    ("slack != null", True),
    ("slack.channels().map(c => c.name)", ["payments"]),
    ("dependencies.out().map(d => d.tag)", ["ledger"]),
    ("dependencies.in().length", 2),
    ('custom("slos").length > 0', True),
    ('custom("slos").any(s => s.target >= 99.9)', True),
    ('customMetrics("slos").length', 1),
    # on-call and our incidents (the private one counts)
    ("oncall != null", True),
    ("oncall.details().current.map(p => p.name)", ["Ann", "Bob"]),
    ("oncall.numOfEscalations()", 2),
    ('oncall.analysis(lookback = duration("P1W")).numIncidents', 2),
    ('oncall.analysis(lookback = duration("P1W")).meanSecondsToFirstAck', 900.0),
    ('oncall.analysis(lookback = duration("P1W")).meanSecondsToResolve', 10800.0),
    ('oncall.analysis(lookback = duration("P1D")).meanSecondsToResolve', None),
    ('incidents(lookback = duration("P90D")).length', 3),
    ('incidents(lookback = duration("P90D"), severity = ["SEV1", "SEV2"]).length', 2),
    ('incidents(severity = "sev3").length', 0),
    # GitHub
    ("git != null", True),
    ('git.fileExists("README.md")', True),
    ('git.fileExists("CODEOWNERS")', False),
    ("git.defaultBranch()", "main"),
    ('git.defaultBranch() == "main"', True),
    ("git.numOfVulnerabilities()", 17),
    ('git.numOfVulnerabilities(severity=["CRITICAL", "HIGH"])', 3),
    ('git.numOfVulnerabilities(severity="critical")', 1),
    ("git.pullRequests().length", 3),
    ('git.pullRequests(status="OPEN").length <= 5', True),
    ("git.releases().length", 1),
    ("git.releases().all(r => semver(r.tag).isStable())", True),
    ('deploys(lookback=duration("P7D")).length', 1),
    ('deploys(lookback=duration("P1Y")).length', 2),
    # SonarQube, pushed tools, jq
    ("sonarqube != null", True),
    ('sonarqube.metric("coverage") > 50', True),
    ('sonarqube.metric("bugs") == 0', True),
    ("snyk.numOfIssues()", 4),
    ('jq(custom("nested"), ".line | tonumber") > 99', True),
    ('jq(custom("nested"), ".list | length")', 3),
    ('jq(custom("nested"), ".list[]")', [1, 2, 3]),
]


@pytest.mark.parametrize(("expression", "expected"), VALUES)
def test_an_expression_evaluates_to_its_value(expression: str, expected: Any) -> None:
    assert value_of(expression, PAYMENTS, CONTEXT) == expected


def test_integers_and_floats_compare_by_value_and_keep_their_type() -> None:
    assert value_of("1 + 1", PAYMENTS, CONTEXT) == 2
    assert isinstance(value_of("1 + 1", PAYMENTS, CONTEXT), int)
    assert value_of("0.1 + 0.2 > 0.3", PAYMENTS, CONTEXT) is True  # floats are floats


OUTCOMES: list[tuple[str, Entity, Snapshot, str, str]] = [
    ('links("runbook").length > 0', PAYMENTS, CONTEXT, PASS, 'links("runbook").length is 1'),
    (
        'links("dashboard").length > 0',
        PAYMENTS,
        CONTEXT,
        FAIL,
        'links("dashboard").length is 0, must be > 0',
    ),
    ("oncall != null", PAYMENTS, CONTEXT, PASS, "has an on-call"),
    ("oncall != null", BARE, CONTEXT, FAIL, "no on-call"),
    ("git == null", BARE, CONTEXT, PASS, "no GitHub repository"),
    ('custom("slos") != null', BARE, CONTEXT, FAIL, 'custom("slos") is null'),
    (
        'hasGroup("java") && sonarqube.metric("coverage") > 80',
        PAYMENTS,
        CONTEXT,
        FAIL,
        'sonarqube.metric("coverage") is 72.5, must be > 80',
    ),
    ('!hasGroup("pci")', PAYMENTS, CONTEXT, FAIL, '!hasGroup("pci") is false'),
    # a source not configured: told apart from false, naming the source
    (
        'sonarqube.metric("coverage") > 50',
        BARE,
        CONTEXT,
        NEEDS,
        "no SonarQube project for this service",
    ),
    ('git.fileExists("README.md")', BARE, CONTEXT, NEEDS, "no GitHub repository for this service"),
    ("sonarqube != null", BARE, CONTEXT, FAIL, "no SonarQube project"),
    ("oncall.details() != null", BARE, CONTEXT, NEEDS, "no on-call for this service"),
    # configured, but the fact has not been fetched yet
    (
        'git.fileExists("docs/adr.md")',
        PAYMENTS,
        CONTEXT,
        NEEDS,
        "GitHub has not reported `git.file:docs/adr.md` for this service yet",
    ),
    (
        "jira.numOfIssues() == 0",
        PAYMENTS,
        CONTEXT,
        NEEDS,
        "no `jira.issues` fact pushed for this service",
    ),
    # type errors name the value's type, and where
    (
        'entity.description().length > "a"',
        PAYMENTS,
        CONTEXT,
        ERROR,
        '1:29: `>` cannot order number 12 against string "a"',
    ),
    (
        "groups().sum > 0",
        PAYMENTS,
        CONTEXT,
        ERROR,
        '1:10: `.sum` needs numbers, got a string "Java"',
    ),
    (
        "entity.tag()",
        PAYMENTS,
        CONTEXT,
        ERROR,
        '1:8: a rule needs true or false, got string "payments"',
    ),
    ("git.pullRequests().length / 0 > 1", PAYMENTS, CONTEXT, ERROR, "1:27: `/` by zero"),
]


@pytest.mark.parametrize(("expression", "entity", "context", "status", "reason"), OUTCOMES)
def test_a_rule_has_a_status_and_the_reason_a_user_reads(
    expression: str, entity: Entity, context: Snapshot, status: str, reason: str
) -> None:
    verdict = compile_rule(expression).evaluate(entity, context)
    assert (verdict.status, verdict.reason) == (status, reason)


def test_a_needs_verdict_names_its_source() -> None:
    verdict = compile_rule('sonarqube.metric("coverage") > 50').evaluate(BARE, CONTEXT)
    assert verdict.needs == SONARQUBE


def test_captures_hold_the_value_for_the_failure_message() -> None:
    rule = compile_rule('captures("code-cov", sonarqube.metric("coverage")) > 80')
    verdict = rule.evaluate(PAYMENTS, CONTEXT)
    assert verdict.status == FAIL
    assert verdict.captures == {"code-cov": 72.5}
    assert verdict.reason == 'sonarqube.metric("coverage") is 72.5, must be > 80'


def test_the_same_compiled_rule_serves_every_entity() -> None:
    rule = compile_rule('hasGroup("java") && links("runbook").length > 0')
    assert [rule.evaluate(e, CONTEXT).status for e in (PAYMENTS, BARE, PAYMENTS)] == [
        PASS,
        FAIL,
        PASS,
    ]


def test_a_rule_lists_the_sources_and_facts_it_reads() -> None:
    rule = compile_rule(
        'git.fileExists("README.md") && sonarqube.metric("coverage") > 1 && custom("x") != null'
    )
    assert rule.sources == {"github", "sonarqube", "pushed"}
    assert rule.facts == {"git.file:README.md", "sonarqube.coverage", "custom.x"}


def test_on_call_held_by_the_owning_team_counts() -> None:
    team = Entity(kind="group", name="team-a", oncall=[OnCall("opsgenie", "schedule", "S")])
    owned = Entity(kind="component", name="owned", owners=[team.ref])
    paged = Entity(kind="group", name="team-b", slack_usergroup="S1")
    by_group = Entity(kind="component", name="grouped", owners=[paged.ref])
    context = Snapshot(NOW, teams={team.ref: team, paged.ref: paged})
    assert compile_rule("oncall != null").evaluate(owned, context).status == PASS
    assert compile_rule("oncall != null").evaluate(by_group, context).status == PASS

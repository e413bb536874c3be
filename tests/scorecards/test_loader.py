"""Reading scorecards: our format with `file:line` problems, Cortex's, the examples, the
real Cortex files, and `switchboard scorecards check`."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from switchboard.bot.catalog.loader import parse_paths
from switchboard.bot.catalog.model import DEPENDS_ON, Entity, Link, OnCall, Relation
from switchboard.bot.scorecards.cortex import map_expression
from switchboard.bot.scorecards.evaluate import evaluate
from switchboard.bot.scorecards.loader import LoadResult, load_paths
from switchboard.bot.scorecards.model import (
    NEEDS,
    UNSUPPORTED,
    Check,
    CqlRule,
    DependenciesDeclared,
    Exemption,
    FieldPresent,
    LinkExists,
    NoOldUnresolvedIncidents,
    Rule,
    Scorecard,
    TagAbsent,
    TagPresent,
    Unsupported,
)
from switchboard.cli import main
from switchboard.storage.scorecard_facts import Facts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "scorecards"
SHARED = Path(os.environ.get("SWITCHBOARD_TEST_CATALOGS", "/work/shared/catalogs")).resolve()
LIBRARY = SHARED / "cortexapps__scorecard-library"
DEPLOY_HEALTH = (
    SHARED / "cortexapps__cli/cortexapps_cli/solutions/github-actions-deploy/scorecards"
    "/deploy-health.yaml"
)
Write = Callable[[str], Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    def write_file(text: str) -> Path:
        path = tmp_path / "card.yaml"
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path.resolve()

    return write_file


def problems(result: LoadResult) -> list[str]:
    return [f"{Path(p.file).name}:{p.line}: {p.message}" for p in result.errors]


GOOD = """
    scorecard: ready
    name: Ready
    filter:
      tiers: [1, tier-2]
      tags: [PCI]
    levels: [Bronze, Silver]
    rules:
      - id: owner
        level: Bronze
        weight: 2.5
        check: field_present
        field: owner
      - id: runbook
        title: Has a runbook
        level: Silver
        check: link_exists
        type: runbooks
      - id: sev
        check: no_unresolved_incidents
        older_than_days: 7
        severities: [sev1]
    exemptions:
      - rule: runbook
        service: ledger
        reason: being rewritten
        until: 2026-06-30
"""


def test_our_format(write: Write) -> None:
    loaded = load_paths([write(GOOD)])
    assert loaded.errors == [] and loaded.warnings == []
    (card,) = loaded.scorecards
    assert (card.id, card.name, card.levels, card.source_line) == (
        "ready",
        "Ready",
        ("Bronze", "Silver"),
        1,
    )
    assert card.filter.tiers == {1, 2} and card.filter.tags == {"pci"}
    assert card.filter.kinds == {"component"}
    owner, runbook, sev = card.rules
    assert (owner.check, owner.weight, owner.level, owner.title) == (
        FieldPresent("owner"),
        2.5,
        "Bronze",
        "owner",
    )
    assert (runbook.check, runbook.weight, runbook.title) == (
        LinkExists("runbook"),
        1.0,
        "Has a runbook",
    )
    assert sev.check == NoOldUnresolvedIncidents(7, ("SEV1",)) and sev.level == ""
    assert card.exemptions == (
        Exemption("runbook", "component:default/ledger", "being rewritten", date(2026, 6, 30)),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scorecard: x\nrules: [\n", "card.yaml:3: invalid YAML: "),
        (
            "scorecard: x\nrules:\n  - id: a\n    check: owner_is_nice\n",
            "card.yaml:4: rules[0].check: unknown rule kind 'owner_is_nice' (known: field_present,",
        ),
        (
            "scorecard: x\nlevels: [Bronze]\nrules:\n  - id: a\n    level: Gold\n"
            "    check: field_present\n    field: owner\n",
            "card.yaml:5: rules[0].level: 'Gold' is not one of the levels (Bronze)",
        ),
        (
            "scorecard: x\nrules:\n  - id: a\n    weight: heavy\n    check: field_present\n"
            "    field: owner\n",
            "card.yaml:4: rules[0].weight: expected a number, got 'heavy'",
        ),
        (
            "scorecard: x\nrules:\n  - id: a\n    check: field_present\n    field: mood\n",
            "card.yaml:5: rules[0].field: 'mood' is not one of owner, oncall,",
        ),
        (
            "scorecard: x\nrules:\n  - id: a\n    check: mean_time_to_resolve\n    days: 30\n",
            "card.yaml:3: rules[0].under_hours is required",
        ),
        (
            "scorecard: x\nrules:\n  - id: a\n    check: tag_absent\n    tag: x\n"
            "  - id: a\n    check: tag_present\n    tag: y\n",
            "card.yaml:6: rules[1]: rule id 'a' is used already on line 3",
        ),
        (
            "scorecard: x\nrules:\n  - id: a\n    check: tag_absent\n    tag: x\n"
            "exemptions:\n  - rule: b\n    service: s\n    reason: r\n    until: 2026-02-30\n",
            "card.yaml:7: exemptions[0].rule: no rule has the id 'b'",
        ),
        ("scorecard: x\nrules: []\n", "card.yaml:2: rules: a scorecard needs at least one rule"),
    ],
)
def test_problems_point_at_their_line(write: Write, text: str, expected: str) -> None:
    loaded = load_paths([write(text)])
    assert loaded.scorecards == []
    assert any(p.startswith(expected) for p in problems(loaded)), problems(loaded)


def test_a_bad_date_and_unknown_fields(write: Write) -> None:
    loaded = load_paths(
        [
            write(
                """
                scorecard: x
                colour: red
                rules:
                  - id: a
                    check: tag_absent
                    tag: x
                    wieght: 2
                exemptions:
                  - rule: a
                    service: s
                    reason: r
                    until: 2026-02-30
                """
            )
        ]
    )
    assert problems(loaded) == [
        "card.yaml:12: exemptions[0].until: expected a date such as 2026-03-31, got '2026-02-30'"
    ]
    assert [f"{p.line}: {p.message}" for p in loaded.warnings] == [
        "2: colour: unknown field, ignored",
        "7: rules[0].wieght: unknown field, ignored",
    ]


def test_two_scorecards_with_one_id_and_other_yaml(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("scorecard: x\nrules: [{id: a, check: tag_absent, tag: b}]\n")
    (tmp_path / "b.yml").write_text("scorecard: x\nrules: [{id: a, check: tag_absent, tag: b}]\n")
    (tmp_path / "c.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    loaded = load_paths([tmp_path])
    assert [f"{Path(p.file).name}:{p.line}: {p.message}" for p in loaded.errors] == [
        f"b.yml:1: scorecard 'x' is defined already at {tmp_path.resolve() / 'a.yaml'}:1"
    ]
    assert [p.message for p in loaded.warnings] == [
        "not a scorecard file (Switchboard `scorecard:` or Cortex `tag:` + `rules:`), skipped"
    ]
    assert load_paths([tmp_path / "missing"]).errors[0].message == "no such file or directory"


# Entities each typed kind tells apart: the CQL the regular expressions used to map onto
# them must agree on every one.
AGREEING = [
    Entity(kind="component", name="bare"),
    Entity(
        kind="component",
        name="full",
        description="Does things.",
        owners=["group:default/team-a"],
        tags=["PCI"],
        links=[Link("repo", "https://github.com/a/b"), Link("dashboard", "https://d")],
        relations=[Relation(DEPENDS_ON, "component:default/bare")],
        oncall=[OnCall("pagerduty", "service", "P1")],
        slack_channels=["#full"],
    ),
    Entity(kind="component", name="legacy", tags=["legacy"], links=[Link("runbook", "https://r")]),
]


@pytest.mark.parametrize(
    ("expression", "check"),
    [
        ("git != null", FieldPresent("repo")),
        ("oncall != null ", FieldPresent("oncall")),
        ("slack.channels().length > 0", FieldPresent("slack_channel")),
        ("entity.description() != null", FieldPresent("description")),
        ("ownership.allOwners().length > 0", FieldPresent("owner")),
        ('links("dashboards").length > 0', LinkExists("dashboard")),
        ('links("runbook").length >= 1', LinkExists("runbook")),
        ('hasGroup("PCI")', TagPresent("pci")),
        ('!hasGroup("legacy")', TagAbsent("legacy")),
        ("dependencies.out().length > 0", DependenciesDeclared()),
    ],
)
def test_cortex_expressions_compile_and_agree_with_the_typed_kinds(
    expression: str, check: Check
) -> None:
    compiled = map_expression(expression)
    assert isinstance(compiled, CqlRule)
    card = Scorecard("c", "C", (), (Rule("cql", "CQL", compiled), Rule("typed", "Typed", check)))
    results = evaluate(card, AGREEING, Facts(), date(2026, 1, 1))
    assert [r.outcomes[0].status for r in results] == [r.outcomes[1].status for r in results]


def test_cortex_expressions_we_cannot_evaluate_say_what_and_where() -> None:
    placeholder = map_expression("/* Replace me */", "card.yaml", 7, 14)
    assert placeholder == Unsupported(
        "/* Replace me */", "unsupported: a placeholder comment, not a rule (at 7:15)"
    )
    assert isinstance(placeholder, Unsupported)
    assert placeholder.located == (
        "card.yaml:7:15: a placeholder comment, not a rule\n    /* Replace me */\n    ^"
    )
    unknown = map_expression("git.branchProtection() != null")
    assert isinstance(unknown, Unsupported)
    assert unknown.why.startswith("unsupported: `git.branchProtection()` is not something we")
    assert map_expression('custom("slos") != null').kind == "cql"
    assert map_expression("git != null && oncall != null").kind == "cql"


def test_a_cortex_rule_with_its_own_filter_is_unsupported(write: Write) -> None:
    loaded = load_paths(
        [
            write(
                """
                tag: t
                rules:
                  - title: Has git
                    expression: git != null
                    filter:
                      query: hasGroup("x")
                """
            )
        ]
    )
    (rule,) = loaded.scorecards[0].rules
    assert rule.id == "has-git"
    assert rule.check == Unsupported(
        "git != null", 'unsupported: a rule filter (query: hasGroup("x")): git != null'
    )


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"real catalog files not found at {SHARED}")
    return SHARED


def test_the_cortex_library_scorecard(shared: Path) -> None:
    loaded = load_paths([LIBRARY])
    assert loaded.errors == []
    (card,) = loaded.scorecards
    assert (card.id, card.levels, card.filter.kinds) == (
        "incident-preparedness-metrics",
        (),
        {"component"},
    )
    kinds = [rule.check.kind for rule in card.rules]
    assert kinds == ["cql", "cql", "unsupported", "cql", *["unsupported"] * 3]
    assert len(loaded.warnings) == 4  # one per placeholder, at its expression
    assert all("placeholder" in w.message and w.line > 1 for w in loaded.warnings)
    (result,) = evaluate(
        card, [parse_paths([ROOT / "examples/catalog"]).entities[0]], Facts(), date(2026, 1, 1)
    )
    assert sum(o.status == UNSUPPORTED for o in result.outcomes) == 4
    slos = result.outcomes[3]  # no `custom.slos` fact pushed: evaluated, and false
    assert (slos.status, slos.reason) == ("fail", 'custom("slos") is null')


def test_the_cortex_deploy_health_scorecard(shared: Path) -> None:
    loaded = load_paths([DEPLOY_HEALTH])
    assert loaded.errors == []
    (card,) = loaded.scorecards
    assert card.levels == ("Bronze", "Silver", "Gold")
    assert card.filter.tags == {"demo-github-actions-deploys"}
    assert [(r.id, r.level, r.weight, r.check.kind) for r in card.rules] == [
        ("has-at-least-one-deploy", "Bronze", 1.0, "cql"),
        ("deployed-in-the-last-30-days", "Silver", 1.0, "cql"),
        ("deployed-in-the-last-7-days", "Gold", 1.0, "cql"),
    ]
    service = Entity(kind="component", name="s", tags=["demo-github-actions-deploys"])
    (result,) = evaluate(card, [service], Facts(), date(2026, 1, 1))
    assert (result.outcomes[0].status, result.outcomes[0].reason) == (
        NEEDS,
        "needs GitHub: no GitHub repository for this service",
    )


def test_the_examples_load_cleanly_and_evaluate_against_the_example_catalog() -> None:
    loaded = load_paths([EXAMPLES])
    assert loaded.errors == [] and loaded.warnings == []
    by_id = {card.id: card for card in loaded.scorecards}
    assert set(by_id) == {"production-readiness", "incident-hygiene"}
    entities = parse_paths([ROOT / "examples/catalog"]).entities
    teams = {e.ref: e for e in entities if e.kind == "group"}
    card, today = by_id["production-readiness"], date(2026, 1, 5)
    results = {r.service: r for r in evaluate(card, entities, Facts(), today, teams)}
    assert "component:default/search" not in results  # beta: filtered out
    assert results["component:default/payments-api"].level == "Gold"
    # Storefront is on call through its owning team, as `/owner` says
    storefront = results["component:default/storefront"]
    (oncall,) = [o for o in storefront.outcomes if o.rule.id == "oncall"]
    assert oncall.reason == "has an on-call through its owning team Storefront"
    assert (storefront.level, storefront.next_level) == ("Silver", "Gold")
    # without its team, nobody is on call
    (alone,) = evaluate(card, [e for e in entities if e.name == "storefront"], Facts(), today)
    assert [b.reason for b in alone.blockers] == [
        "no on-call, of its own or through its owning team"
    ]
    auth = results["component:default/auth"]
    assert next(o.status for o in auth.outcomes if o.rule.id == "dependencies") == "exempt"


def test_the_check_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    assert main(["scorecards", "check", str(EXAMPLES)]) == 0
    *rules, last = capsys.readouterr().out.splitlines()
    assert last == (
        "ok: 2 scorecards, 17 rules, 2 initiatives in 2 files; 17 evaluable, 0 needs, 0 unsupported"
    )
    assert len(rules) == 17 and all(line.endswith(": evaluable") for line in rules)
    (tmp_path / "bad.yaml").write_text("scorecard: x\nrules:\n  - id: a\n    check: nope\n")
    assert main(["scorecards", "check", "bad.yaml"]) == 1
    assert capsys.readouterr().err.startswith(
        "bad.yaml:4: rules[0].check: unknown rule kind 'nope'"
    )


CQL_CARD = """
    scorecard: cql
    name: CQL
    rules:
      - id: readme
        expression: git.fileExists("README.md")
      - id: runbook
        expression: links("runbook").length > 0
"""


def test_the_check_command_tells_each_rule_with_a_summary(
    write: Write, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    cortex = write(
        """
        tag: imported
        rules:
          - title: Placeholder
            expression: /* Replace me */
          - title: Coverage
            expression: sonarqube.metric("coverage") > 80
          - title: Owned
            expression: ownership.allOwners().length > 0
        """
    )
    assert main(["scorecards", "check", str(cortex)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"imported: placeholder: unsupported: {cortex}:4:17: a placeholder comment, not a rule",
        "    /* Replace me */",
        "    ^",
        "imported: coverage: needs SonarQube (set SONARQUBE_URL and SONARQUBE_TOKEN)",
        "imported: owned: evaluable",
        "ok: 1 scorecards, 3 rules, 0 initiatives in 1 files; 1 evaluable, 1 needs, 1 unsupported",
    ]
    assert main(["scorecards", "check", "--json", str(cortex)]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "scorecard": "imported",
            "rule": "placeholder",
            "status": "unsupported",
            "needs": [],
            "reason": f"{cortex}:4:17: a placeholder comment, not a rule\n"
            "    /* Replace me */\n    ^",
        },
        {
            "scorecard": "imported",
            "rule": "coverage",
            "status": "needs",
            "needs": ["sonarqube"],
            "reason": "needs SonarQube (set SONARQUBE_URL and SONARQUBE_TOKEN)",
        },
        {
            "scorecard": "imported",
            "rule": "owned",
            "status": "evaluable",
            "needs": [],
            "reason": "",
        },
    ]


def test_the_check_command_reads_which_sources_are_configured(
    write: Write, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    monkeypatch.setenv("SONARQUBE_URL", "https://sonar.example.com")
    monkeypatch.setenv("SONARQUBE_TOKEN", "squ_test")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)  # CI runners may set one
    cortex = write(
        """
        tag: imported
        rules:
          - title: Coverage
            expression: sonarqube.metric("coverage") > 80
          - title: Readme
            expression: git.fileExists("README.md")
        """
    )
    assert main(["scorecards", "check", str(cortex)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "imported: coverage: evaluable",
        "imported: readme: needs GitHub (set GITHUB_TOKEN)",
        "ok: 1 scorecards, 2 rules, 0 initiatives in 1 files; 1 evaluable, 1 needs, 0 unsupported",
    ]


def test_our_scorecards_take_a_cql_expression_beside_the_typed_kinds(write: Write) -> None:
    loaded = load_paths([write(CQL_CARD)])
    assert loaded.errors == []
    (card,) = loaded.scorecards
    assert [r.check.kind for r in card.rules] == ["cql", "cql"]
    service = Entity(kind="component", name="s", links=[Link("runbook", "https://r")])
    (result,) = evaluate(card, [service], Facts(), date(2026, 1, 1))
    assert [(o.status, o.reason) for o in result.outcomes] == [
        (NEEDS, "needs GitHub: no GitHub repository for this service"),
        ("pass", 'links("runbook").length is 1'),
    ]


def test_a_cql_expression_that_does_not_compile_is_an_error_at_its_line(write: Write) -> None:
    bad = CQL_CARD.replace("links(", "lnks(")
    assert problems(load_paths([write(bad)])) == [
        "card.yaml:7: rules[1].expression: unknown function `lnks()` (did you mean `links`?) "
        "(at 7:17)"
    ]
    both = CQL_CARD.replace("      - id: runbook\n", "      - id: runbook\n        check: x\n")
    assert problems(load_paths([write(both)])) == [
        "card.yaml:8: rules[1].expression: give `check:` or `expression:`, not both"
    ]

"""Which sources an entity points at, from the catalog fields that name them."""

from __future__ import annotations

from switchboard.bot.catalog.model import Entity, Link, OnCall
from switchboard.bot.facts.source import Target
from switchboard.bot.facts.targets import github_host, targets_of


def test_an_entity_with_everything() -> None:
    entity = Entity(
        kind="component",
        name="payments",
        links=[
            Link("docs", "https://docs.acme.test"),
            Link("repo", "https://github.com/acme/payments.git"),
        ],
        oncall=[OnCall("pagerduty", "service", "PSVC"), OnCall("pagerduty", "schedule", "PSCHED")],
        slack_usergroup="@payments",
        sonarqube_project="acme_payments",
    )
    assert targets_of(entity, paths=["Dockerfile", "README.md"], searches=["TODO"]) == [
        Target("pagerduty", "component:default/payments", "schedule", "PSCHED"),
        Target(
            "github",
            "component:default/payments",
            "repository",
            "acme/payments",
            ("README.md", "CODEOWNERS", "docs/", "Dockerfile"),
            ("TODO",),  # the code searches the scorecards' rules ask for
        ),
        Target("sonarqube", "component:default/payments", "project", "acme_payments"),
    ]


def test_fallbacks_and_enterprise_hosts() -> None:
    entity = Entity(
        kind="component",
        name="ledger",
        links=[
            Link("repo", "https://gitlab.com/acme/ledger"),
            Link("repo", "https://git.acme.test/fin/ledger"),
        ],
        oncall=[OnCall("opsgenie", "team", "finance")],
    )
    assert [(t.source, t.kind, t.id) for t in targets_of(entity)] == [
        ("opsgenie", "team", "finance")
    ]
    host = github_host("https://git.acme.test/api/v3")
    assert [t.id for t in targets_of(entity, github_host=host) if t.source == "github"] == [
        "fin/ledger"
    ]
    assert github_host("https://api.github.com") == "github.com"
    assert targets_of(Entity(kind="component", name="x", slack_usergroup="S123")) == [
        Target("slack", "component:default/x", "usergroup", "S123")
    ]

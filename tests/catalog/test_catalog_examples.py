"""The sample catalog the README's quick start and the demo use must stay clean."""

from __future__ import annotations

from switchboard.bot.catalog.model import MEMBER_OF, Relation


def test_examples_parse_cleanly(examples, parse) -> None:
    parsed = parse(examples)
    assert parsed.errors == []
    assert parsed.warnings == []
    kinds = [ref.split(":")[0] for ref in parsed.refs]
    assert kinds.count("group") == 3
    assert kinds.count("component") == 7
    assert kinds.count("user") == 7


def test_examples_content(examples, parse) -> None:
    parsed = parse(examples)
    payments = parsed["group:default/payments"]
    assert (payments.slack_channels, payments.slack_usergroup) == (["#payments"], "S0001PAY")
    api = parsed["component:default/payments-api"]
    assert (api.owners, api.tier) == (["group:default/payments"], 1)
    # With its Events API key: the demo pages its loopback PagerDuty with it.
    assert [(o.provider, o.target_type, o.target_id) for o in api.oncall] == [
        ("pagerduty", "service", "PPAYAPI")
    ]
    assert len(api.oncall[0].integration_key) == 32
    assert {"runbook", "repo", "docs", "dashboard"} <= {link.type for link in api.links}
    assert api.aliases == ["payments", "pay-api"]
    alice = parsed["user:default/alice"]
    assert (alice.slack_user_id, alice.relations) == (
        "U0001ALICE",
        [Relation(MEMBER_OF, payments.ref)],
    )
    services = [e for e in parsed.result.entities if e.kind in ("component", "api", "resource")]
    assert all(e.owners and e.tier and e.description for e in services)

"""The evaluator: every rule kind passing and failing with its reason, the level ladder, the
score, exemptions, unsupported rules and the filter."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from switchboard.bot.catalog.model import DEPENDS_ON, Entity, Link, OnCall, Relation
from switchboard.bot.scorecards.evaluate import evaluate, lookback_days
from switchboard.bot.scorecards.model import (
    EXEMPT,
    FAIL,
    PASS,
    UNSUPPORTED,
    Check,
    DependenciesDeclared,
    Exemption,
    FieldPresent,
    Filter,
    IncidentCount,
    LifecycleIn,
    LinkExists,
    MeanTimeToResolve,
    NoOldUnresolvedIncidents,
    NoOverdueFollowUps,
    Rule,
    Scorecard,
    ServiceResult,
    TagAbsent,
    TagPresent,
    TierAtMost,
    TierIn,
    Unsupported,
)
from switchboard.storage.scorecard_facts import Facts, IncidentFact, ServiceFacts

TODAY = date(2026, 3, 10)
NOON = datetime(2026, 3, 10, 12, tzinfo=UTC)
REF = "component:default/svc"


def service(**fields: object) -> Entity:
    return Entity(kind="component", name="svc", type="service", **fields)  # type: ignore[arg-type]


def incident(days_ago: float, hours: float | None, severity: str = "SEV1") -> IncidentFact:
    declared = NOON - timedelta(days=days_ago)
    resolved = None if hours is None else declared + timedelta(hours=hours)
    return IncidentFact(declared, resolved, severity)


def one(check: Check, entity: Entity, facts: Facts | None = None) -> tuple[str, str]:
    card = Scorecard("c", "C", (), (Rule("r", "R", check),))
    (result,) = evaluate(card, [entity], facts or Facts(), TODAY)
    (outcome,) = result.outcomes
    return outcome.status, outcome.reason


FULL = service(
    description="Takes payments.",
    owners=["group:default/payments"],
    oncall=[OnCall("pagerduty", "service", "P1")],
    slack_channels=["#pay"],
    links=[
        Link("runbook", "https://r"),
        Link("repo", "https://g"),
        Link("docs", "https://d"),
        Link("dashboard", "https://x"),
    ],
    tags=["PCI", "java"],
    tier=1,
    lifecycle="Production",
    relations=[Relation(DEPENDS_ON, "component:default/ledger")],
)
BARE = service()


@pytest.mark.parametrize(
    ("check", "passing", "failing"),
    [
        (FieldPresent("owner"), "has an owner", "no owner"),
        (
            FieldPresent("oncall"),
            "has an on-call of its own",
            "no on-call, of its own or through its owning team",
        ),
        (FieldPresent("slack_channel"), "has a Slack channel", "no Slack channel"),
        (FieldPresent("runbook"), "has a runbook link", "no runbook link"),
        (FieldPresent("repo"), "has a repository link", "no repository link"),
        (FieldPresent("docs"), "has a docs link", "no docs link"),
        (FieldPresent("description"), "has a description", "no description"),
        (LinkExists("dashboard"), "has a dashboard link", "no dashboard link"),
        (TagPresent("pci"), "tagged pci", "not tagged pci"),
        (TierAtMost(2), "tier 1", "no tier (must be 2 or lower)"),
        (TierIn((1, 2)), "tier 1", "no tier (must be one of 1, 2)"),
        (LifecycleIn(("production",)), "lifecycle Production", "no lifecycle (must be production)"),
        (DependenciesDeclared(), "1 dependency declared", "no dependencies declared"),
    ],
)
def test_catalog_rules_pass_and_fail_with_reasons(check: Check, passing: str, failing: str) -> None:
    assert one(check, FULL) == (PASS, passing)
    assert one(check, BARE) == (FAIL, failing)


def test_tag_absent_tier_and_lifecycle_out_of_range() -> None:
    assert one(TagAbsent("pci"), FULL) == (FAIL, "tagged pci")
    assert one(TagAbsent("pci"), BARE) == (PASS, "not tagged pci")
    assert one(TierAtMost(2), service(tier=3)) == (FAIL, "tier 3 (must be 2 or lower)")
    assert one(TierIn((1, 2)), service(tier=4)) == (FAIL, "tier 4 (must be one of 1, 2)")
    assert one(LifecycleIn(("production",)), service(lifecycle="beta")) == (
        FAIL,
        "lifecycle beta (must be production)",
    )
    assert one(DependenciesDeclared(2), FULL) == (FAIL, "1 dependency declared, 2 wanted")


def test_overdue_followups_of_the_service_and_of_its_team() -> None:
    facts = Facts(
        services={REF: ServiceFacts(overdue_followups=2)},
        team_overdue_followups={"group:default/payments": 1},
    )
    assert one(NoOverdueFollowUps("service"), FULL, facts) == (
        FAIL,
        "2 overdue follow-ups of its incidents",
    )
    assert one(NoOverdueFollowUps("team"), FULL, facts) == (
        FAIL,
        "1 overdue follow-up owned by its team",
    )
    assert one(NoOverdueFollowUps("service"), FULL) == (
        PASS,
        "no overdue follow-ups of its incidents",
    )
    assert one(NoOverdueFollowUps("team"), BARE, facts)[0] == PASS


def test_old_unresolved_incidents_of_the_named_severities() -> None:
    rule = NoOldUnresolvedIncidents(3)
    recent = Facts(services={REF: ServiceFacts([incident(2, None), incident(9, None, "SEV3")])})
    assert one(rule, BARE, recent) == (PASS, "no unresolved SEV1/SEV2 incident older than 3 days")
    stale = Facts(services={REF: ServiceFacts([incident(5, None, "sev2"), incident(9, 1)])})
    assert one(rule, BARE, stale) == (
        FAIL,
        "1 unresolved SEV1/SEV2 incident older than 3 days, the oldest declared 2026-03-05",
    )
    assert one(NoOldUnresolvedIncidents(3, ("SEV3",)), BARE, recent)[0] == FAIL


def test_mean_time_to_resolve_over_the_window() -> None:
    rule = MeanTimeToResolve(days=30, under_hours=4)
    assert one(rule, BARE) == (PASS, "no incident resolved in the last 30 days")
    quick = Facts(services={REF: ServiceFacts([incident(1, 2), incident(3, 4), incident(40, 90)])})
    assert one(rule, BARE, quick) == (
        PASS,
        "mean time to resolve 3 h over 2 incidents in the last 30 days (must be under 4 h)",
    )
    slow = Facts(services={REF: ServiceFacts([incident(1, 2), incident(3, 6), incident(2, None)])})
    assert one(rule, BARE, slow) == (
        FAIL,
        "mean time to resolve 4 h over 2 incidents in the last 30 days (must be under 4 h)",
    )


def test_incident_count_in_the_window() -> None:
    facts = Facts(
        services={REF: ServiceFacts([incident(1, 1), incident(5, None), incident(40, 1)])}
    )
    assert one(IncidentCount(30, 3), BARE, facts) == (
        PASS,
        "2 incidents in the last 30 days (must be fewer than 3)",
    )
    assert one(IncidentCount(30, 2), BARE, facts)[0] == FAIL
    assert one(IncidentCount(30, 1, ("SEV3",)), BARE, facts) == (
        PASS,
        "0 SEV3 incidents in the last 30 days (must be fewer than 1)",
    )


def ladder(*rules: Rule, exemptions: tuple[Exemption, ...] = ()) -> Scorecard:
    return Scorecard("ladder", "Ladder", ("Bronze", "Silver", "Gold"), rules, exemptions=exemptions)


OWNER = Rule("owner", "Owner", FieldPresent("owner"), weight=3, level="Bronze")
RUNBOOK = Rule("runbook", "Runbook", FieldPresent("runbook"), weight=2, level="Silver")
DOCS = Rule("docs", "Docs", FieldPresent("docs"), weight=1, level="Gold")
PCI = Rule("pci", "Not PCI", TagAbsent("pci"), weight=4)  # in the score only


def result(card: Scorecard, entity: Entity, today: date = TODAY) -> ServiceResult:
    (found,) = evaluate(card, [entity], Facts(), today)
    return found


def test_the_highest_level_whose_rules_and_all_lower_ones_pass() -> None:
    card = ladder(OWNER, RUNBOOK, DOCS)
    full = result(card, FULL)
    assert (full.level, full.next_level, full.blockers, full.score) == ("Gold", None, (), 1.0)
    silver = result(card, service(owners=["group:default/a"], links=[Link("runbook", "u")]))
    assert (silver.level, silver.next_level) == ("Silver", "Gold")
    assert [b.reason for b in silver.blockers] == ["no docs link"]


def test_a_failing_lower_level_caps_the_level_and_blocks_with_everything_below() -> None:
    card = ladder(OWNER, RUNBOOK, DOCS)
    # passes Silver and Gold rules, fails Bronze: below the first level
    capped = result(card, service(links=[Link("runbook", "u"), Link("docs", "d")]))
    assert (capped.level, capped.next_level) == (None, "Bronze")
    assert [b.rule.id for b in capped.blockers] == ["owner"]
    bronze = result(card, service(owners=["group:default/a"], links=[Link("docs", "d")]))
    assert (bronze.level, bronze.next_level) == ("Bronze", "Silver")
    assert [b.rule.id for b in bronze.blockers] == ["runbook"]
    nothing = result(card, BARE)
    assert [b.rule.id for b in nothing.blockers] == ["owner"]  # next level's and below only


def test_score_is_passing_weight_over_applicable_weight() -> None:
    card = ladder(OWNER, RUNBOOK, DOCS, PCI)
    assert result(card, FULL).score == pytest.approx(6 / 10)  # all but PCI (4)
    assert result(card, BARE).score == pytest.approx(4 / 10)  # only PCI
    zero = ladder(Rule("free", "Free", FieldPresent("owner"), weight=0))
    assert result(zero, BARE).score is None  # nothing to divide by


def test_active_exemptions_excluded_from_score_and_level_expired_ones_ignored() -> None:
    waived = Exemption("owner", REF, "team being formed", until=TODAY)
    card = ladder(OWNER, RUNBOOK, DOCS, exemptions=(waived,))
    found = result(card, service(links=[Link("runbook", "u")]))
    assert found.outcomes[0].status == EXEMPT
    assert found.outcomes[0].reason == "exempt until 2026-03-10: team being formed"
    assert (found.level, found.score) == ("Silver", pytest.approx(2 / 3))
    expired = result(card, service(links=[Link("runbook", "u")]), TODAY + timedelta(days=1))
    assert expired.outcomes[0].status == FAIL
    assert expired.level is None
    other = Exemption("owner", "component:default/other", "not this one", until=TODAY)
    assert result(ladder(OWNER, exemptions=(other,)), BARE).outcomes[0].status == FAIL


def test_unsupported_never_passes_never_counts_and_blocks_its_level() -> None:
    cql = Rule(
        "slo", "SLOs", Unsupported('custom("slos") != null', "unsupported: CQL"), 5, "Silver"
    )
    found = result(ladder(OWNER, cql, DOCS), FULL)
    assert found.outcomes[1].status == UNSUPPORTED
    assert found.outcomes[1].reason == "unsupported: CQL"
    assert found.score == 1.0  # 3 + 1 of 3 + 1: its weight of 5 is left out, not passed
    assert (found.level, found.next_level) == ("Bronze", "Silver")
    assert [b.status for b in found.blockers] == [UNSUPPORTED]
    alone = ladder(Rule("x", "X", Unsupported("", "unsupported: placeholder"), 1, "Bronze"))
    assert (result(alone, FULL).level, result(alone, FULL).score) == (None, None)


def test_filter_selects_kind_type_tier_lifecycle_and_any_tag() -> None:
    entities = [
        FULL,
        Entity(kind="component", name="web", type="website", tier=1, lifecycle="production"),
        Entity(kind="component", name="old", tier=3, lifecycle="production", tags=["pci"]),
        Entity(kind="group", name="payments", type="team"),
    ]
    refs = lambda which: [  # noqa: E731
        r.service
        for r in evaluate(Scorecard("f", "F", (), (OWNER,), filter=which), entities, Facts(), TODAY)
    ]
    assert refs(Filter()) == [e.ref for e in entities[:3]]
    assert refs(Filter(types=frozenset({"service"}))) == [FULL.ref]
    assert refs(Filter(tiers=frozenset({1}))) == [FULL.ref, "component:default/web"]
    assert refs(Filter(tags=frozenset({"pci", "go"}))) == [FULL.ref, "component:default/old"]
    assert refs(Filter(lifecycles=frozenset({"production"}))) == [e.ref for e in entities[:3]]
    assert refs(Filter(kinds=frozenset({"group"}))) == ["group:default/payments"]


def test_lookback_covers_the_longest_incident_window() -> None:
    card = ladder(Rule("a", "A", MeanTimeToResolve(90, 4)), Rule("b", "B", IncidentCount(30, 3)))
    assert lookback_days([card, ladder(OWNER)]) == 90
    assert lookback_days([ladder(OWNER)]) == 0

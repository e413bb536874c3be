"""Initiatives: reading them with `file:line` problems, progress towards a level or a rule
(exemptions, the filter, explicit services), and which reminder threshold is due."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from switchboard.bot.catalog.model import Entity, Link, OnCall
from switchboard.bot.scorecards.evaluate import evaluate
from switchboard.bot.scorecards.initiatives import (
    Progress,
    Shortfall,
    Standing,
    due_reminder,
    in_scope,
    progress,
)
from switchboard.bot.scorecards.loader import LoadResult, load_paths
from switchboard.bot.scorecards.model import (
    DEFAULT_REMINDERS,
    Exemption,
    FieldPresent,
    Filter,
    Initiative,
    LinkExists,
    Rule,
    Scorecard,
    Unsupported,
)
from switchboard.storage.scorecard_facts import Facts

TODAY = date(2026, 3, 10)
Write = Callable[[str], Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    count = 0

    def write_file(text: str) -> Path:
        nonlocal count
        count += 1
        path = tmp_path / f"card{count}.yaml"
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path.resolve()

    return write_file


def problems(result: LoadResult) -> list[str]:
    return [f"{Path(p.file).name}:{p.line}: {p.message}" for p in result.errors]


CARD = """
    scorecard: ready
    levels: [Bronze, Silver, Gold]
    rules:
      - id: owner
        level: Bronze
        check: field_present
        field: owner
      - id: runbook
        level: Silver
        check: field_present
        field: runbook
      - id: oncall
        level: Silver
        check: field_present
        field: oncall
      - id: docs
        level: Gold
        check: field_present
        field: docs
    initiatives:
"""


def card(initiatives: str) -> str:
    return CARD + textwrap.indent(textwrap.dedent(initiatives).lstrip("\n"), "      ")


# Reading -----------------------------------------------------------------------------------


def test_initiatives_are_read_with_their_defaults(write: Write) -> None:
    path = write(
        card(
            """
            - id: tier1-gold
              name: Tier-1 services reach Gold
              description: All of them.
              level: Gold
              filter: {tiers: [1], tags: [PCI]}
              services: [payments-api, resource:payments-db, other/auth]
              deadline: 2027-03-31
              reminders: [7, 30, 7, 0]
            - id: runbooks
              rule: runbook
              deadline: 2026-12-31
            """
        )
    )
    loaded = load_paths([path])
    assert loaded.errors == [] and loaded.warnings == []
    (scorecard,) = loaded.scorecards
    gold, runbooks = scorecard.initiatives
    assert gold == Initiative(
        id="tier1-gold",
        name="Tier-1 services reach Gold",
        description="All of them.",
        scorecard="ready",
        level="Gold",
        filter=Filter(kinds=frozenset(), tiers=frozenset({1}), tags=frozenset({"pci"})),
        services=frozenset(
            {
                "component:default/payments-api",
                "resource:default/payments-db",
                "component:other/auth",
            }
        ),
        deadline=date(2027, 3, 31),
        reminders=(30, 7, 0),
        source_file=str(path),
        source_line=21,
    )
    assert (runbooks.name, runbooks.level, runbooks.rule) == ("runbooks", "", "runbook")
    assert runbooks.filter == Filter(kinds=frozenset()) and runbooks.services == frozenset()
    assert runbooks.reminders == DEFAULT_REMINDERS == (30, 14, 7, 1)
    assert runbooks.source_line == 29


@pytest.mark.parametrize(
    ("initiatives", "expected"),
    [
        (
            "- {id: a, level: Platinum, deadline: 2027-01-01}",
            [
                "21: initiatives[0].level: 'Platinum' is not one of the levels "
                "(Bronze, Silver, Gold)"
            ],
        ),
        (
            "- id: a\n  rule: slos\n  deadline: 2027-01-01",
            ["22: initiatives[0].rule: no rule has the id 'slos'"],
        ),
        (
            "- id: a\n  rule: runbook\n  level: Gold\n  deadline: 2027-01-01",
            ["21: initiatives[0]: the target is a level or a rule, not both"],
        ),
        (
            "- id: a\n  deadline: 2027-01-01",
            ["21: initiatives[0]: the target is a level or a rule, one of them is required"],
        ),
        (
            "- id: a\n  level: Gold\n  deadline: 31/03/2027",
            ["23: initiatives[0].deadline: expected a date such as 2026-03-31, got '31/03/2027'"],
        ),
        (
            "- id: a\n  level: Gold",
            ["21: initiatives[0].deadline is required"],
        ),
        (
            "- id: a\n  level: Gold\n  deadline: 2027-01-01\n  reminders: [14, -1]",
            ["24: initiatives[0].reminders[1]: expected a whole number of 0 or more, got -1"],
        ),
        (
            "- id: a\n  level: Gold\n  deadline: 2027-01-01\n"
            "- id: b\n  level: Gold\n  deadline: 2027-01-01\n"
            "- id: a\n  rule: docs\n  deadline: 2027-01-01",
            ["27: initiatives[2]: initiative id 'a' is used already on line 21"],
        ),
        (
            "- id: a b\n  level: Gold\n  deadline: 2027-01-01",
            ["21: initiatives[0].id: 'a b' is not a valid name (no ':', '/' or spaces)"],
        ),
        ("- {id: a, level: '', deadline: 2027-01-01}", ["21: initiatives[0].level is required"]),
        ("- just a name", ["21: initiatives[0]: expected a mapping, got 'just a name'"]),
        (
            "- id: a\n  level: Gold\n  deadline: 2027-01-01\n  filter: {tiers: [platinum]}",
            [
                "24: initiatives[0].filter.tiers[0]: expected a tier such as 1, tier-1 or tier_1 "
                "(0 to 9), got 'platinum'"
            ],
        ),
    ],
)
def test_initiative_mistakes_are_errors_at_their_line(
    write: Write, initiatives: str, expected: list[str]
) -> None:
    loaded = load_paths([write(card(initiatives))])
    assert [p.partition(":")[2] for p in problems(loaded)] == expected
    assert loaded.scorecards == []  # a document with an error gives no scorecard


def test_a_level_target_needs_the_scorecard_to_have_levels(write: Write) -> None:
    text = """
        scorecard: flat
        rules:
          - {id: owner, check: field_present, field: owner}
        initiatives:
          - {id: a, level: Gold, deadline: 2027-01-01}
    """
    loaded = load_paths([write(text)])
    assert problems(loaded) == [
        "card1.yaml:5: initiatives[0].level: 'Gold' is not one of the levels (none are defined)"
    ]


def test_unknown_initiative_fields_are_warned_about(write: Write) -> None:
    loaded = load_paths(
        [write(card("- id: a\n  level: Gold\n  deadline: 2027-01-01\n  owner: payments"))]
    )
    assert loaded.errors == []
    assert [f"{p.line}: {p.message}" for p in loaded.warnings] == [
        "24: initiatives[0].owner: unknown field, ignored"
    ]
    assert len(loaded.scorecards[0].initiatives) == 1


def test_initiative_ids_are_unique_across_scorecards(write: Write) -> None:
    first = write(card("- {id: shared, level: Gold, deadline: 2027-01-01}"))
    second = write(
        card("- {id: shared, rule: docs, deadline: 2027-01-01}").replace("ready", "other")
    )
    loaded = load_paths([first, second])
    assert problems(loaded) == [
        f"card2.yaml:21: initiative 'shared' is defined already at {first}:21"
    ]


# Progress ----------------------------------------------------------------------------------

LEVELS = ("Bronze", "Silver", "Gold")
RULES = (
    Rule("owner", "Has an owner", FieldPresent("owner"), level="Bronze"),
    Rule("runbook", "Has a runbook", FieldPresent("runbook"), level="Silver"),
    Rule("oncall", "Has an on-call", FieldPresent("oncall"), level="Silver"),
    Rule("docs", "Has docs", FieldPresent("docs"), level="Gold"),
    Rule("dashboard", "Has a dashboard", LinkExists("dashboard")),  # score only
)


def entity(name: str, *have: str, tier: int | None = 1, kind: str = "component") -> Entity:
    links = [Link(t, f"https://{t}") for t in ("runbook", "docs", "dashboard") if t in have]
    return Entity(
        kind=kind,
        name=name,
        owners=["group:default/team"] if "owner" in have else [],
        oncall=[OnCall("pagerduty", "service", "P")] if "oncall" in have else [],
        links=links,
        tier=tier,
    )


GOLD = entity("gold", "owner", "runbook", "oncall", "docs")
SILVER = entity("silver", "owner", "runbook", "oncall", "dashboard")
BRONZE = entity("bronze", "owner")
NONE = entity("none", "runbook", "docs", tier=2)
API = entity("api", "owner", "runbook", "oncall", "docs", kind="api")


def scorecard(**fields: object) -> Scorecard:
    values: dict[str, object] = {"id": "ready", "name": "Ready", "levels": LEVELS, "rules": RULES}
    return Scorecard(**{**values, **fields})  # type: ignore[arg-type]


def initiative(**fields: object) -> Initiative:
    values: dict[str, object] = {
        "id": "goal",
        "name": "Goal",
        "scorecard": "ready",
        "deadline": TODAY + timedelta(days=20),
    }
    return Initiative(**{**values, **fields})  # type: ignore[arg-type]


def standings(card: Scorecard, *entities: Entity) -> list[tuple[Entity, Standing]]:
    results = {r.service: r for r in evaluate(card, entities, Facts(), TODAY)}
    return [(e, Standing.of(results[e.ref])) for e in entities if e.ref in results]


def run(goal: Initiative, card: Scorecard, *entities: Entity) -> Progress:
    return progress(goal, card, standings(card, *entities), TODAY)


def test_standing_of_a_result_keeps_the_level_and_the_rules_not_passing() -> None:
    unsupported = Rule("slos", "SLOs", Unsupported("slos()", "no SLOs here"), level="Gold")
    card = scorecard(
        rules=(*RULES, unsupported),
        exemptions=(Exemption("docs", SILVER.ref, "soon", TODAY),),
    )
    (silver,) = standings(card, SILVER)
    assert silver[1] == Standing(SILVER.ref, "Silver", frozenset({"slos"}))
    ((_, bronze),) = standings(card, BRONZE)
    assert bronze == Standing(
        BRONZE.ref, "Bronze", frozenset({"runbook", "oncall", "docs", "dashboard", "slos"})
    )


def test_a_level_target_is_met_at_that_level_or_higher() -> None:
    result = run(initiative(level="Silver"), scorecard(), GOLD, SILVER, BRONZE, NONE)
    assert result.met == (GOLD.ref, SILVER.ref)
    # what is missing: the failing rules of the target level and below, in scorecard order;
    # a Gold or score-only rule is not needed for Silver
    assert result.missing == (
        Shortfall(BRONZE.ref, ("runbook", "oncall")),
        Shortfall(NONE.ref, ("owner", "oncall")),
    )
    assert (result.total, result.percent, result.done, result.days_left) == (4, 50, False, 20)

    gold = run(initiative(level="Gold"), scorecard(), GOLD, SILVER)
    assert gold.met == (GOLD.ref,) and gold.missing == (Shortfall(SILVER.ref, ("docs",)),)


def test_an_exemption_counts_towards_the_target() -> None:
    card = scorecard(exemptions=(Exemption("docs", SILVER.ref, "rewriting", TODAY),))
    result = run(initiative(level="Gold"), card, SILVER)
    assert result.met == (SILVER.ref,) and result.done and result.percent == 100
    expired = scorecard(
        exemptions=(Exemption("docs", SILVER.ref, "rewriting", TODAY - timedelta(1)),)
    )
    assert run(initiative(level="Gold"), expired, SILVER).missing == (
        Shortfall(SILVER.ref, ("docs",)),
    )


def test_a_rule_target_is_met_when_the_rule_does_not_fail() -> None:
    goal = initiative(rule="runbook")
    result = run(goal, scorecard(), GOLD, BRONZE, NONE)
    assert result.met == (GOLD.ref, NONE.ref)
    assert result.missing == (Shortfall(BRONZE.ref, ("runbook",)),)
    assert result.percent == 66  # rounded down: 100 only when all are met
    card = scorecard(exemptions=(Exemption("runbook", BRONZE.ref, "retiring", TODAY),))
    assert run(goal, card, BRONZE).met == (BRONZE.ref,)
    # an unsupported target rule never counts as met
    slos = Rule("slos", "SLOs", Unsupported("slos()", "no SLOs here"))
    unsupported = scorecard(rules=(*RULES, slos))
    assert run(initiative(rule="slos"), unsupported, GOLD).missing == (
        Shortfall(GOLD.ref, ("slos",)),
    )


def test_the_filter_and_the_services_narrow_the_scorecards_own() -> None:
    card = scorecard()  # components only, by the scorecard's default filter
    everything = [GOLD, SILVER, BRONZE, NONE, API]
    # the default initiative filter narrows nothing: the api is left out by the scorecard
    assert [e.name for e in everything if in_scope(initiative(level="Gold"), card, e)] == [
        "gold",
        "silver",
        "bronze",
        "none",
    ]
    tier1 = initiative(level="Gold", filter=Filter(kinds=frozenset(), tiers=frozenset({1})))
    assert [e.name for e in everything if in_scope(tier1, card, e)] == ["gold", "silver", "bronze"]
    named = initiative(level="Gold", services=frozenset({SILVER.ref, NONE.ref, API.ref}))
    assert [e.name for e in everything if in_scope(named, card, e)] == ["silver", "none"]
    both = initiative(
        level="Gold",
        filter=Filter(kinds=frozenset(), tiers=frozenset({1})),
        services=frozenset({SILVER.ref, NONE.ref}),
    )
    result = run(both, card, *everything)
    assert (result.met, result.missing) == ((), (Shortfall(SILVER.ref, ("docs",)),))
    wide = scorecard(filter=Filter(kinds=frozenset({"component", "api"})))
    assert in_scope(initiative(rule="docs"), wide, API)


def test_progress_with_nothing_in_scope_and_past_the_deadline() -> None:
    goal = initiative(level="Gold", deadline=TODAY - timedelta(days=3))
    result = progress(goal, scorecard(), [], TODAY)
    assert (result.total, result.percent, result.days_left) == (0, None, -3)


def test_a_stored_level_no_longer_in_the_scorecard_reaches_nothing() -> None:
    stale = Standing(GOLD.ref, "Platinum", frozenset())
    result = progress(initiative(level="Bronze"), scorecard(), [(GOLD, stale)], TODAY)
    assert result.missing == (Shortfall(GOLD.ref, ()),)


# Reminders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "due"),
    [
        (45, None),  # before the first threshold
        (31, None),
        (30, 30),
        (29, 30),  # the latest threshold passed: the same key, so no second reminder
        (15, 30),
        (14, 14),
        (8, 14),
        (7, 7),
        (2, 7),
        (1, 1),
        (0, 1),  # the deadline day: still the 1-day reminder, sent already
        (-1, None),  # after the deadline
        (-30, None),
    ],
)
def test_due_reminder_is_the_latest_threshold_reached(days_left: int, due: int | None) -> None:
    goal = initiative(level="Gold", deadline=TODAY + timedelta(days=days_left))
    assert due_reminder(goal, TODAY) == due


def test_due_reminder_with_own_thresholds() -> None:
    on_the_day = initiative(rule="docs", deadline=TODAY, reminders=(10, 0))
    assert due_reminder(on_the_day, TODAY) == 0
    assert due_reminder(on_the_day, TODAY - timedelta(days=1)) == 10
    assert due_reminder(on_the_day, TODAY - timedelta(days=11)) is None
    # created a week before its deadline: one reminder at once, not one per threshold passed
    late = initiative(level="Gold", deadline=TODAY + timedelta(days=5))
    assert due_reminder(late, TODAY) == 7
    assert due_reminder(initiative(level="Gold", reminders=()), TODAY) is None

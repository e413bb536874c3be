"""The `/owner` grammar, the name index, and the renderer's safety on any input."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from switchboard.bot.catalog.lookup import NameIndex
from switchboard.bot.catalog.model import Entity, Link, OnCall
from switchboard.bot.catalog.owner_message import render
from switchboard.bot.catalog.reader import (
    ChoiceAnswer,
    NoMatch,
    OwnedAnswer,
    OwnerQuery,
    ServiceAnswer,
    Team,
    parse_owner_text,
)


def test_grammar() -> None:
    assert parse_owner_text("") == OwnerQuery("usage")
    assert parse_owner_text("  help ") == OwnerQuery("usage")
    assert parse_owner_text("checkout") == OwnerQuery("service", "checkout")
    assert parse_owner_text("  Checkout   API ") == OwnerQuery("service", "Checkout API")
    assert parse_owner_text("team:payments") == OwnerQuery("team", "payments")
    assert parse_owner_text("TEAM: Payments Core") == OwnerQuery("team", "Payments Core")
    assert parse_owner_text("team:") == OwnerQuery("usage")
    assert parse_owner_text("<!subteam^S0001PAY|@payments>") == OwnerQuery("usergroup", "S0001PAY")
    assert parse_owner_text("<!subteam^S0001PAY>") == OwnerQuery("usergroup", "S0001PAY")
    assert parse_owner_text("<@U0001ALICE|alice>") == OwnerQuery("person", "U0001ALICE")
    assert parse_owner_text("<@W0001>") == OwnerQuery("person", "W0001")
    assert parse_owner_text("@payments") == OwnerQuery("handle", "payments")
    assert parse_owner_text("payload-service") == OwnerQuery("service", "payload-service")


def test_index_exact_ignores_case_and_separators() -> None:
    index = NameIndex([(1, ["checkout-api", "Checkout API", "co"]), (2, ["ledger"])])
    assert index.exact("CHECKOUT_API") == [1]
    assert index.exact("checkout api") == [1]
    assert index.exact("Co") == [1]
    assert index.exact("nope") == []


def test_index_fuzzy_finds_typos_and_words() -> None:
    index = NameIndex(
        [(1, ["checkout-api"]), (2, ["checkout-worker"]), (3, ["ledger"]), (4, ["search"])]
    )
    assert index.fuzzy("chekout-api")[0].entity_id == 1
    assert {m.entity_id for m in index.fuzzy("checkout")} == {1, 2}
    assert index.fuzzy("zzzzzz") == []
    assert index.fuzzy("") == []


# Catalog ids may render as <#C..> or <!subteam^S..>; user text must never ping anyone.
MENTION = re.compile(r"<(?:!channel|!here|!everyone|@)")
text = st.text(max_size=400)


def service(name: str, description: str, extra: str) -> Entity:
    return Entity(
        kind="component",
        name=name or "x",
        title=name,
        description=description,
        lifecycle=extra,
        links=[Link("runbook", f"https://x/{extra}", extra), Link("docs", extra, extra)],
        oncall=[OnCall("pagerduty", "service", extra, "secret-key")],
        slack_channels=[extra],
        source_file=f"/{extra}.yaml",
    )


def user_text_mentions(message: dict[str, object]) -> list[str]:
    """Every pinging mention in the rendered message: none may come from user text."""
    return MENTION.findall(str(message))


@given(query=text)
def test_any_query_parses(query: str) -> None:
    parse_owner_text(query)


@given(name=text, description=text, extra=text)
def test_rendered_answers_never_carry_user_mentions_or_break_limits(
    name: str, description: str, extra: str
) -> None:
    entity = service(name, description, extra)
    team = Entity(
        kind="group", name="t", title=extra, slack_channels=[extra], slack_usergroup=extra
    )
    answers = [
        ServiceAnswer(entity, [Team(team, [])], [], [extra], [extra, name]),
        OwnedAnswer(team, [], [entity] * 60),
        ChoiceAnswer(name, [entity] * 7),
        NoMatch(name, "service", [f"component:default/{extra}"]),
    ]
    for answer in answers:
        message = render(answer)
        assert user_text_mentions(message) == []
        assert "secret-key" not in str(message)
        assert_within_block_kit_limits(message)


def assert_within_block_kit_limits(message: dict[str, object]) -> None:
    blocks = message["blocks"]
    assert isinstance(blocks, list) and len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            for field in block.get("fields", []):
                assert len(field["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for button in block["elements"]:
                assert len(button["text"]["text"]) <= 75
                assert len(button["value"]) <= 2000

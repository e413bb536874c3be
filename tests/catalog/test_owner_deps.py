"""`/owner <service>` counts what depends on it, and `/owner <service> deps` lists both
ways, from the catalog reader's in-memory dependency graph."""

from __future__ import annotations

from typing import Any

from switchboard.bot.catalog.reader import parse_owner_text
from switchboard.fakes.slack.signer import SlackRequester
from tests.catalog.test_owner_command import owner


def sections(answer: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section" and "text" in b]


async def test_the_card_counts_its_dependents(requester: SlackRequester) -> None:
    assert "*Depended on by* 2 services (1 team): `/owner auth deps` lists them" in sections(
        await owner(requester, "auth")
    )
    assert "*Depended on by* 1 service (1 team): `/owner payments-api deps` lists them" in (
        sections(await owner(requester, "payments-api"))
    )
    storefront = sections(await owner(requester, "storefront"))
    assert not [s for s in storefront if "Depended on by" in s]  # nothing depends on it


async def test_deps_lists_both_ways(requester: SlackRequester) -> None:
    answer = await owner(requester, "api-gateway deps")
    assert answer["blocks"][0]["text"]["text"] == "API gateway: dependencies"
    assert sections(answer) == [
        "*Depends on* (2)\n• Auth\n• Payments API",
        "*Depended on by* (2)\n• *Search* (Storefront)\n• *Storefront* (Storefront)",
    ]
    assert answer["text"] == "API gateway depends on 2 and is depended on by 2 services"
    leaf = sections(await owner(requester, "storefront deps"))
    assert leaf[1] == "*Depended on by* (0)\n• nothing in the catalog"


async def test_deps_of_something_unknown_says_so(requester: SlackRequester) -> None:
    answer = await owner(requester, "no-such-thing-at-all deps")
    assert "I found no service called *no-such-thing-at-all*" in answer["text"]


def test_deps_is_the_last_word_only() -> None:
    assert parse_owner_text("api-gateway deps").kind == "deps"
    assert parse_owner_text("api-gateway  DEPS ").value == "api-gateway"
    assert parse_owner_text("deps").kind == "service"  # a service may be called deps
    assert parse_owner_text("team:platform deps").kind == "team"

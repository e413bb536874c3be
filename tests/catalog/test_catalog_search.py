"""Search-as-you-type in the declare and page modals: the options a signed block_suggestion
gets back from the example catalog, prefixes and words first, then typos, within Slack's
limits."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.app import Switchboard
from switchboard.bot.catalog.lookup import NameIndex
from switchboard.bot.incidents import modal_fields
from switchboard.fakes.slack.signer import SlackRequester

ALICE = "U0001ALICE"
PUBLIC_API = "Payments public API (openapi)"


async def options(requester: SlackRequester, action_id: str, typed: str) -> list[str]:
    """The options' texts Slack would show, and (checked) within its limits."""
    block = "services" if action_id == modal_fields.SERVICES_SEARCH else "target"
    response = await requester.block_suggestion(
        {"id": "V0SEARCH01", "type": "modal"},
        user_id=ALICE,
        action_id=action_id,
        block_id=block,
        value=typed,
    )
    assert response.status == 200
    found: list[dict[str, Any]] = response.json()["options"]
    assert len(found) <= 100
    assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in found)
    return [o["text"]["text"] for o in found]


@pytest.fixture
async def searching(switchboard: Switchboard, requester: SlackRequester) -> SlackRequester:
    report = await switchboard.catalog.sync()
    assert report is not None and report.stats is not None
    return requester


@pytest.mark.parametrize(
    ("typed", "shown"),
    [  # shorter names first among those that match alike
        ("paym", ["Payments API (service)", "Payments database (database)", PUBLIC_API]),
        ("notif", ["Notifications (service)"]),
        ("au", ["Auth (service)"]),
        ("api", ["API gateway (service)", "Payments API (service)", PUBLIC_API]),  # a word
        ("pay api", ["Payments API (service)", PUBLIC_API]),  # `pay-api`: an alias, typed whole
        ("notifcations", ["Notifications (service)"]),  # a typo: after the rest, still found
    ],
)
async def test_declare_search_matches_prefixes_and_words_first(
    searching: SlackRequester, typed: str, shown: list[str]
) -> None:
    assert await options(searching, modal_fields.SERVICES_SEARCH, typed) == shown


async def test_page_search_offers_teams_and_services(searching: SlackRequester) -> None:
    assert await options(searching, modal_fields.PAGE_SEARCH, "plat") == ["Platform (team)"]
    found = await options(searching, modal_fields.PAGE_SEARCH, "pay")
    assert set(found[:2]) == {"Payments API (service)", "Payments (team)"}  # each one's best
    assert found[2:] == ["Payments database (database)", PUBLIC_API]


def test_at_most_the_limit_shortest_names_first() -> None:
    index = NameIndex((n, [f"service-{n:03}"]) for n in range(300))
    found = index.complete("serv", 100)
    assert len(found) == 100
    assert found[:2] == [(1, 0), (1, 1)]  # every one a prefix match, in name order

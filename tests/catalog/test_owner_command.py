"""`/owner` over real HTTP: signed slash commands in, the ephemeral answer out, buttons that
answer for the chosen service and share in the channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from switchboard.app import Switchboard
from switchboard.edge.middleware import listening
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from tests.conftest import eventually

CHANNEL = "C0GENERAL"


async def owner(requester: SlackRequester, text: str, user: str = "U0001ALICE") -> dict[str, Any]:
    response = await requester.answer("/owner", text, user_id=user, channel_id=CHANNEL)
    assert response.status == 200, response.body
    answer = response.json()
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    return answer


async def click(
    requester: SlackRequester, slack: FakeSlack, answer: dict[str, Any], button: Any, user: str
) -> dict[str, Any]:
    """Click `button` on the ephemeral `answer`; returns what the app posted back."""
    response_url = slack.new_response_url(channel_id=CHANNEL, user_id=user)
    message = {"type": "message", "ts": "1700000000.000100", **answer}
    response = await requester.block_actions(
        [button], user_id=user, channel_id=CHANNEL, message=message, response_url=response_url
    )
    assert response.status == 200
    (posted,) = await eventually(lambda: slack.response_posts(response_url))
    return dict(posted)


def shown(answer: dict[str, Any]) -> str:
    """All the text a person sees in the message."""
    return str(answer.get("blocks") or answer.get("text"))


async def test_service_card_has_owner_oncall_links_and_dependencies(
    requester: SlackRequester,
) -> None:
    answer = await owner(requester, "payments-api")
    text = shown(answer)
    assert answer["text"] == "Payments API: owned by Payments"
    assert "Takes card payments and issues refunds." in text
    assert "*Payments* #payments (<@U0001ALICE>, <@U0001BOB>)" in text
    assert "PagerDuty service PPAYAPI" in text
    assert "*Tier*\\n1" in text and "*Lifecycle*\\nproduction" in text
    assert "<https://wiki.example.com/runbooks/payments-api|" in text
    assert "<https://github.com/example-org/payments-api|" in text
    assert "*Depends on* Ledger, Payments database" in text
    assert "From services.yaml:" in text


async def test_matches_title_and_alias_in_any_case(requester: SlackRequester) -> None:
    for text in ("PAYMENTS API", "pay-api", "Payments_Api"):
        assert (await owner(requester, text))["text"] == "Payments API: owned by Payments"


async def test_team_oncall_is_used_when_the_service_has_none(requester: SlackRequester) -> None:
    text = shown(await owner(requester, "storefront"))
    assert "<!subteam^S0001SHOPOC>" in text


async def test_typo_offers_buttons_that_answer_for_the_chosen_service(
    requester: SlackRequester, slack: FakeSlack
) -> None:
    answer = await owner(requester, "ledgr")
    assert "Nothing is called exactly *ledgr*" in shown(answer)
    buttons = answer["blocks"][1]["elements"]
    assert buttons[0]["value"] == "component:default/ledger"
    posted = await click(requester, slack, answer, buttons[0], "U0001ALICE")
    assert posted["replace_original"] is True
    assert posted["text"] == "Ledger: owned by Payments"


async def test_share_posts_the_answer_in_the_channel_and_replaces_the_private_copy(
    requester: SlackRequester, slack: FakeSlack, switchboard: Switchboard
) -> None:
    """What Carol sees: her private answer, with its button, becomes a short "Shared" note
    (the response URL's `replace_original`), and the answer is in the channel for all."""
    carol = slack.add_user("carol2")
    channel = slack.add_channel("general", members=[carol])
    answer = (await requester.answer("/owner", "auth", user_id=carol, channel_id=channel)).json()
    (private,) = [e for e in slack.ephemeral if e.channel == channel]
    share = answer["blocks"][-1]["elements"][0]
    assert share["text"]["text"] == "Share in channel"
    message = {"type": "message", "ts": private.ts, **answer}
    clicked = await requester.block_actions(
        [share], user_id=carol, channel_id=channel, message=message, ephemeral=True
    )
    assert clicked.status == 200
    await listening(switchboard.bolt).idle()
    (shared,) = slack.messages(channel)
    assert f"shared by <@{carol}>" in str(shared.blocks)
    assert "Share in channel" not in str(shared.blocks)
    assert [(e.text, e.blocks) for e in slack.ephemeral if e.channel == channel] == [
        ("Shared in the channel.", None)
    ]


async def test_team_lists_what_it_owns(requester: SlackRequester) -> None:
    answer = await owner(requester, "team:payments")
    text = shown(answer)
    assert answer["text"] == "Payments owns 4 services"
    for name in ("Payments API", "Ledger", "Payments database", "Payments public API"):
        assert f"*{name}*" in text
    assert "Auth" not in text


async def test_user_group_mention_escaped_or_typed(requester: SlackRequester) -> None:
    escaped = await owner(requester, "<!subteam^S0001PLAT|@platform>")
    typed = await owner(requester, "@platform")
    assert escaped["text"] == typed["text"] == "Platform owns 3 services"


async def test_person_mention_lists_their_teams_services(requester: SlackRequester) -> None:
    answer = await owner(requester, "<@U0001ERIN|erin>")
    assert answer["text"] == "Erin Evans owns 2 services"
    assert "member of Storefront" in shown(answer)


async def test_person_known_to_slack_only_by_email(
    requester: SlackRequester, slack: FakeSlack
) -> None:
    user = slack.add_user("grace2", email="frank@example.com")
    answer = await owner(requester, f"<@{user}>")
    assert answer["text"] == "Frank Fischer owns 2 services"


async def test_no_match_says_so_and_shows_usage(requester: SlackRequester) -> None:
    answer = await owner(requester, "zzzqqq")
    assert answer["text"] == "I found no service called *zzzqqq* in the catalog."
    assert "/owner team:&lt;name&gt;" in shown(answer)
    team = await owner(requester, "team:paymnts")
    assert "I found no team called *paymnts*" in team["text"]
    assert "`payments`" in team["text"]


async def test_empty_text_shows_usage(requester: SlackRequester) -> None:
    answer = await owner(requester, "")
    assert answer["text"] == "How to use /owner"


async def test_user_text_is_escaped_when_echoed(requester: SlackRequester) -> None:
    answer = await owner(requester, "<!channel> & <@U0001BOB> zz")
    text = shown(answer)
    assert "&lt;!channel&gt; &amp; &lt;@U0001BOB&gt;" in text
    assert "<!channel>" not in text


async def test_the_word_payload_reaches_the_listener(requester: SlackRequester) -> None:
    """Bolt 1.30 drops form bodies containing "payload"; our edge must not."""
    answer = await owner(requester, "payload-service")
    assert "I found no service called *payload-service*" in answer["text"]


async def test_rate_limited_slack_call_is_retried(
    requester: SlackRequester, slack: FakeSlack
) -> None:
    user = slack.add_user("frank2", email="frank@example.com")
    slack.fail("users.info", ratelimit_retry_after=0, times=2)
    answer = await owner(requester, f"<@{user}>")
    assert answer["text"] == "Frank Fischer owns 2 services"
    assert [c.status for c in slack.calls("users.info")] == [429, 429, 200]


async def test_a_service_asked_again_is_answered_from_memory(
    requester: SlackRequester, switchboard: Switchboard
) -> None:
    """While the catalog revision stands, a service's card costs no database work."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    first = await owner(requester, "payments-api")
    event.listen(switchboard.core.engine.sync_engine, "before_cursor_execute", count)
    try:
        again = await owner(requester, "Payments API")
    finally:
        event.remove(switchboard.core.engine.sync_engine, "before_cursor_execute", count)
    assert again == first
    # the revision check, and the live part read each time: the health line's counts, the
    # scorecard levels and the facts (custom metadata among them); never the card's rows
    live = ("catalog_state", "SELECT count", "FROM scorecard_score", "FROM fact", "custom")
    assert [s for s in statements if not any(part in s for part in live)] == []

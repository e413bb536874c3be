"""Declaring: the stored incident, its channel, people, cards, announcement and pages."""

from __future__ import annotations

from typing import Any

from switchboard.fakes.slack.server import FakeSlack
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, ROUTING_KEY, World


async def test_declare_from_text_sets_everything_up(world: World) -> None:
    response = await world.incident("declare sev1 service:checkout Checkout is down for everyone")
    assert response.json() == {"text": "Declaring your incident…", "response_type": "ephemeral"}
    row = await world.settled()
    date = world.clock.now.strftime("%Y%m%d")
    assert row.channel_name == f"inc-{date}-1-checkout-is-down-for-everyone"
    channel = world.slack.channel(row.channel_id)
    assert not channel.is_private
    assert channel.topic == "INC-1 · SEV1 · investigating · Checkout is down for everyone"
    assert channel.purpose == "Incident INC-1: Checkout is down for everyone"
    assert {ALICE, BOB} <= set(channel.members)  # the declarer and the service's team
    card = world.slack.messages(row.channel_id)[0]
    assert card.ts == row.card_ts
    assert "INC-1: Checkout is down for everyone" in str(card.blocks)
    assert [e["action_id"] for e in card.blocks[-1]["elements"]] == [
        "incident_status",
        "incident_severity",
        "incident_assign",
        "incident_page",
        "incident_resolve",
    ]
    announcement = world.slack.messages(world.incidents_channel)[0]
    assert announcement.ts == row.announce_ts
    assert f"Join <#{row.channel_id}> to help." in str(announcement.blocks)
    (paged,) = world.pagerduty.incidents.values()
    assert (paged.routing_key, paged.status) == (ROUTING_KEY, "triggered")
    assert "Checkout is down for everyone" in paged.summary
    assert any(
        "Paged the on-call of *Checkout* through PagerDuty." in t
        for t in world.texts(row.channel_id)
    )


async def test_the_declarer_is_told_where_the_incident_lives(world: World) -> None:
    url = world.slack.new_response_url(channel_id=world.elsewhere, user_id=ALICE)
    await world.requester.slash_command(
        "/incident", "declare DB slow", user_id=ALICE, channel_id=world.elsewhere, response_url=url
    )
    (told,) = await eventually(lambda: world.slack.response_posts(url))
    row = await world.settled()
    assert told["text"] == f"*INC-1* is declared: <#{row.channel_id}>."
    assert row.severity == "SEV4"  # the least severe, when none is given


async def test_incidents_are_numbered_in_order(world: World) -> None:
    for number, title in enumerate(("first", "second", "third"), start=1):
        await world.incident(f"declare {title}")
        await world.settled(number)
    assert (await world.settled(3)).channel_name.endswith("-3-third")


async def test_unknown_severity_or_service_changes_nothing(world: World) -> None:
    bad_severity = await world.incident("declare sev9 Something")
    assert bad_severity.json()["text"] == (
        "Unknown severity `sev9`. Choose one of `SEV1`, `SEV2`, `SEV3`, `SEV4`."
    )
    url = world.slack.new_response_url(channel_id=world.elsewhere, user_id=ALICE)
    unknown = await world.requester.slash_command(
        "/incident",
        "declare service:chekout Something",
        user_id=ALICE,
        channel_id=world.elsewhere,
        response_url=url,
    )
    # Refused in the ack itself: never "Declaring your incident…" first.
    assert unknown.json() == {
        "response_type": "ephemeral",
        "text": "No service called `chekout` in the catalog. Did you mean `checkout`?",
    }
    assert world.slack.response_posts(url) == []
    no_title = await world.incident("declare sev2 service:checkout")
    assert "An incident needs a title" in no_title.json()["text"]
    assert await world.sb.incidents.service.view(1) is None
    assert world.slack.calls("conversations.create") == []


async def test_a_long_title_is_kept_whole_and_shortened_in_the_channel_name(world: World) -> None:
    title = "Payments " + "very " * 40 + "slow"
    await world.incident(f"declare {title}")
    row = await world.settled()
    assert row.title == title
    assert len(row.channel_name) <= 80
    assert row.channel_name.startswith(f"inc-{world.clock.now:%Y%m%d}-1-payments-very")


async def test_a_taken_channel_name_gets_a_suffix(world: World) -> None:
    world.slack.add_channel(f"inc-{world.clock.now:%Y%m%d}-1-outage", creator=BOB)
    await world.incident("declare Outage")
    row = await world.settled()
    assert row.channel_name == f"inc-{world.clock.now:%Y%m%d}-1-outage-2"


async def test_user_text_is_escaped_everywhere(world: World) -> None:
    await world.incident("declare <!channel> help <@U0001BOB>")
    row = await world.settled()
    posted = world.slack.messages(row.channel_id) + world.slack.messages(world.incidents_channel)
    rendered = [m.text for m in posted] + [t for m in posted for t in mrkdwn(m.blocks or [])]
    assert not [t for t in rendered if "<!channel>" in t or "<@U0001BOB>" in t]
    assert any("&lt;!channel&gt; help &lt;@U0001BOB&gt;" in t for t in rendered)


async def test_declare_modal_opens_and_a_double_submit_makes_one_incident(
    world: World, slack: FakeSlack
) -> None:
    response = await world.incident("declare")
    assert response.status == 200
    (opened,) = await eventually(lambda: slack.calls("views.open"))
    view_id = opened.response["view"]["id"]
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Search returns nothing"}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "SEV2"}}},
        "services": {
            "incident_services": {
                "type": "multi_external_select",
                "selected_options": [{"value": "component:default/search"}],
            }
        },
        "description": {
            "value": {"type": "plain_text_input", "value": "Empty results since 10:02"}
        },
        "options": {"value": {"type": "checkboxes", "selected_options": []}},
    }
    first = await world.requester.view_submission(view_id, user_id=ALICE, values=values)
    second = await world.requester.view_submission(view_id, user_id=ALICE, values=values)
    assert (first.status, first.body, second.status, second.body) == (200, "", 200, "")
    row = await world.settled()
    assert (row.title, row.severity, row.description) == (
        "Search returns nothing",
        "SEV2",
        "Empty results since 10:02",
    )
    assert await world.sb.incidents.service.view(2) is None
    (alert,) = world.opsgenie.alerts.values()
    assert alert.responders == [{"name": "search-team", "type": "team"}]


async def test_modal_without_title_gets_a_field_error(world: World, slack: FakeSlack) -> None:
    await world.incident("declare")
    (opened,) = await eventually(lambda: slack.calls("views.open"))
    values = {"title": {"value": {"type": "plain_text_input", "value": "  "}}}
    response = await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    assert response.json() == {
        "response_action": "errors",
        "errors": {"title": "Give the incident a title."},
    }
    assert await world.sb.incidents.service.view(1) is None


async def test_service_search_for_the_modal(world: World) -> None:
    payload = {
        "type": "block_suggestion",
        "action_id": "incident_services",
        "block_id": "services",
        "value": "check",
        "user": {"id": ALICE},
        "team": {"id": "T0SWITCH01"},
        "api_app_id": "A0SWITCH01",
        "view": {"id": "V1", "type": "modal"},
    }
    import json
    from urllib.parse import urlencode

    response = await world.requester.raw(urlencode({"payload": json.dumps(payload)}).encode())
    assert response.json()["options"][0] == {
        "text": {"type": "plain_text", "text": "Checkout (service)"},
        "value": "component:default/checkout",
    }


def mrkdwn(blocks: list[dict[str, Any]]) -> list[str]:
    """Every mrkdwn text in the blocks: what Slack renders mentions in (plain_text never)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


async def test_the_severity_colour_bars_the_card_and_the_announcement(world: World) -> None:
    """The configured `color` of a severity is the bar of an attachment beside its name, on
    both cards, and follows a change of severity."""
    await world.incident("declare sev1 service:checkout Checkout is down")
    row = await world.settled()

    def bars() -> list[Any]:
        card = world.slack.channel(row.channel_id).message(row.card_ts)
        announcement = world.slack.channel(world.incidents_channel).message(row.announce_ts)
        return [m.extra["attachments"] for m in (card, announcement)]

    sev1 = {"type": "mrkdwn", "text": "*SEV1* · Critical: customers badly affected"}
    assert bars() == [[{"color": "#d1242f", "fallback": "SEV1", "blocks": [context(sev1)]}]] * 2
    await world.incident("severity sev3", channel=row.channel_id)
    await world.until(lambda incident: incident.severity == "SEV3")
    assert [[a["color"] for a in bar] for bar in bars()] == [["#d4a72c"]] * 2


def context(element: dict[str, str]) -> dict[str, Any]:
    return {"type": "context", "elements": [element]}

"""Changing an incident: every change stored with who and when, said in the channel,
shown on both cards; resolving resolves our pages; permissions refuse and change nothing."""

from __future__ import annotations

from typing import Any

from switchboard.storage import incident_store
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, CAROL, DAVE, World


async def declared(
    world: World, text: str = "declare sev2 service:checkout Checkout errors"
) -> Any:
    await world.incident(text)
    return await world.settled()


async def test_status_change_in_the_channel(world: World) -> None:
    row = await declared(world)
    world.clock.advance(minutes=5)
    response = await world.incident("status identified", user=BOB, channel=row.channel_id)
    assert (response.status, response.body) == (200, "")
    row = await world.settled()
    assert row.status == "identified"
    assert row.acknowledged_at == world.clock.now  # the first responder action
    assert f"<@{BOB}> changed the status from *investigating* to *identified*." in world.texts(
        row.channel_id
    )
    assert world.slack.channel(row.channel_id).topic.startswith("INC-1 · SEV2 · identified")
    card = world.slack.channel(row.channel_id).message(row.card_ts)
    announcement = world.slack.channel(world.incidents_channel).message(row.announce_ts)
    assert "*Status*\\nidentified" in str(card.blocks)
    assert "*Status*\\nidentified" in str(announcement.blocks)


async def test_changes_from_anywhere_name_the_incident(world: World) -> None:
    row = await declared(world)
    response = await world.incident("severity INC-1 sev1", user=BOB)
    assert response.body == ""
    row = await world.settled()
    assert row.severity == "SEV1"
    assert f"<@{BOB}> changed the severity from *SEV2* to *SEV1*." in world.texts(row.channel_id)


async def test_outside_an_incident_channel_without_a_number(world: World) -> None:
    await declared(world)
    response = await world.incident("status identified")
    assert response.json()["text"] == (
        "This is not an incident channel. Name the incident: `/incident status INC-4 identified`."
    )
    unknown = await world.incident("status INC-9 identified")
    assert unknown.json()["text"] == "There is no incident INC-9."
    bad = await world.incident("status INC-1 fixed")
    assert bad.json()["text"].startswith("`fixed` is not a status. Choose one of `investigating`")


async def test_roles_are_history(world: World) -> None:
    row = await declared(world)
    await world.incident(f"assign commander <@{BOB}|bob>", channel=row.channel_id)
    await world.settled()
    await world.incident(f"assign <@{CAROL}>", channel=row.channel_id)
    row = await world.settled()
    async with world.sb.catalog.reader._sessions() as session:
        current = await incident_store.current_roles(session, row.id)
    assert [(r.role, r.user_id) for r in current] == [("commander", CAROL)]
    assert f"<@{ALICE}> made <@{CAROL}> the commander." in world.texts(row.channel_id)
    assert CAROL in world.slack.channel(row.channel_id).members  # a role holder is invited
    assert f"commander: <@{CAROL}>" in str(
        world.slack.channel(row.channel_id).message(row.card_ts).blocks
    )


async def test_the_topic_names_the_commander_in_plain_text(world: World) -> None:
    """Slack shows a topic as typed: the commander's display name, never a raw `<@U…>`."""
    row = await declared(world)
    await world.incident(f"assign commander <@{BOB}|bob>", channel=row.channel_id)
    await world.settled()
    assert world.slack.channel(row.channel_id).topic == (
        "INC-1 · SEV2 · investigating · Checkout errors · commander bob"
    )
    await world.incident("status identified", channel=row.channel_id)
    await world.settled()
    topic = world.slack.channel(row.channel_id).topic
    assert topic.endswith("identified · Checkout errors · commander bob")
    asked = [c for c in world.slack.calls("users.info") if c.args.get("user") == BOB]
    assert len(asked) == 1  # the name is cached


async def test_closing_takes_the_commander(world: World) -> None:
    row = await declared(world)
    await world.incident(f"assign commander <@{BOB}>", channel=row.channel_id)
    await world.settled()
    refused = await world.incident("close", user=DAVE, channel=row.channel_id)
    assert refused.json()["text"] == "Only the commander may close INC-1."
    assert (await world.settled()).closed_at is None
    await world.incident("close", user=BOB, channel=row.channel_id)
    row = await world.settled()
    assert (row.status, row.closed_at, row.resolved_at) == (
        "closed",
        world.clock.now,
        world.clock.now,
    )
    again = await world.incident("status identified", channel=row.channel_id)
    assert again.json()["text"] == "INC-1 is closed."


async def test_resolve_resolves_our_pages_and_stamps_milestones(world: World) -> None:
    row = await declared(world)
    world.clock.advance(minutes=30)
    await world.incident("status monitoring", channel=row.channel_id)
    await world.settled()
    world.clock.advance(minutes=10)
    await world.incident("resolve", user=BOB, channel=row.channel_id)
    row = await world.settled()
    assert row.mitigated_at == row.declared_at.__class__.fromtimestamp(
        row.declared_at.timestamp() + 30 * 60, row.declared_at.tzinfo
    )
    assert row.resolved_at == world.clock.now
    (paged,) = world.pagerduty.incidents.values()
    await eventually(lambda: paged.status == "resolved")
    card = world.slack.channel(row.channel_id).message(row.card_ts)
    assert "incident_resolve" not in str(card.blocks)


async def test_the_announcement_says_when_it_is_over(world: World) -> None:
    row = await declared(world)
    await world.incident(f"assign commander <@{ALICE}>", channel=row.channel_id)
    row = await world.settled()

    def last_line() -> str:
        announcement = world.slack.channel(world.incidents_channel).message(row.announce_ts)
        return str(announcement.blocks[-1]["elements"][0]["text"])

    assert last_line() == f"Join <#{row.channel_id}> to help."
    world.clock.advance(hours=1, minutes=25)
    await world.incident("resolve", channel=row.channel_id)
    resolved = await world.until(lambda incident: incident.resolved_at is not None)
    stamp = int(world.clock.now.timestamp())
    at = f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{world.clock.now:%Y-%m-%d %H:%M} UTC>"
    over = f"Over: resolved at {at} after 1 h 25 min"
    assert last_line() == f"{over}. The record stays in <#{row.channel_id}>."
    assert "to help" not in str(world.slack.channel(world.incidents_channel).messages)
    world.clock.advance(days=1)
    closing = await world.incident("close", channel=resolved.channel_id)
    assert closing.body == ""
    await world.until(lambda incident: incident.closed_at is not None)
    closed = int(world.clock.now.timestamp())
    assert last_line().startswith(f"{over}, closed at <!date^{closed}^")


async def test_status_update_and_the_card_buttons(world: World) -> None:
    row = await declared(world)
    await world.incident("update Rolled back <!here>", user=BOB, channel=row.channel_id)
    row = await world.settled()
    assert f"*Status update* from <@{BOB}>: Rolled back &lt;!here&gt;" in world.texts(
        row.channel_id
    )
    card = world.slack.channel(row.channel_id).message(row.card_ts)
    status_select = card.blocks[-1]["elements"][0]
    option = next(o for o in status_select["options"] if o["value"].endswith(":identified"))
    action = {**status_select, "selected_option": option, "block_id": card.blocks[-1]["block_id"]}
    clicked = await world.requester.block_actions(
        [action], user_id=CAROL, channel_id=row.channel_id, message=row.card_ts
    )
    assert clicked.status == 200
    row = await world.until(lambda incident: incident.status == "identified")
    assert f"<@{CAROL}> changed the status from *investigating* to *identified*." in world.texts(
        row.channel_id
    )


async def test_page_more_people_later(world: World) -> None:
    row = await declared(world, "declare Slow pages")
    await world.incident("page search", user=BOB, channel=row.channel_id)
    row = await world.settled()
    (alert,) = world.opsgenie.alerts.values()
    assert alert.status == "open"
    assert f"<@{BOB}> is paging the on-call of *Search*." in world.texts(row.channel_id)
    await world.incident("page team:web", channel=row.channel_id)
    row = await world.settled()
    group = next(iter(world.slack.usergroups))
    assert any(f"<!subteam^{group}>" in t for t in world.texts(row.channel_id))
    unknown = await world.incident("page nothing-like-it", channel=row.channel_id)
    assert unknown.json()["text"] == "Nothing called `nothing-like-it` in the catalog."


async def test_private_incidents_stay_private(world: World) -> None:
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Leaked credentials"}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "SEV1"}}},
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "security"}]}},
    }
    await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    row = await world.settled()
    assert world.slack.channel(row.channel_id).is_private
    announcement = world.slack.channel(world.incidents_channel).message(row.announce_ts)
    assert "Leaked" not in str(announcement.blocks) + announcement.text
    assert announcement.text == "INC-1: a private incident (open)"
    refused = await world.incident("status INC-1 identified", user=DAVE)
    assert refused.json()["text"] == "INC-1 is private: only its participants may change it."
    listing = await world.listing(DAVE)
    assert listing.json()["text"] == "• INC-1: a private incident (investigating)"
    mine = await world.listing(ALICE)
    assert "Leaked credentials" in mine.json()["text"]


async def test_app_home_shows_my_open_incidents(world: World) -> None:
    row = await declared(world)
    await world.requester.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    home = await eventually(lambda: world.slack.home(ALICE))
    sections = [b["text"]["text"] for b in home.payload["blocks"] if b["type"] == "section"]
    assert sections[0] == f"• *INC-1* Checkout errors · SEV2 · investigating <#{row.channel_id}>"


async def click(world: World, row: Any, action_id: str, user: str = ALICE) -> Any:
    """Click a button on the incident's card; returns the modal it opened."""
    card = world.slack.channel(row.channel_id).message(row.card_ts)
    button = next(e for e in card.blocks[-1]["elements"] if e["action_id"] == action_id)
    opened = len(world.slack.calls("views.open"))
    await world.requester.block_actions(
        [button], user_id=user, channel_id=row.channel_id, message=row.card_ts
    )
    calls = await eventually(lambda: world.slack.calls("views.open")[opened:])
    return calls[0].response["view"]


async def test_assign_role_from_the_card(world: World) -> None:
    row = await declared(world)
    modal = await click(world, row, "incident_assign")
    assert modal["title"]["text"] == "Assign a role: INC-1"
    values = {
        "role": {"value": {"type": "static_select", "selected_option": {"value": "scribe"}}},
        "user": {"value": {"type": "users_select", "selected_user": DAVE}},
    }
    response = await world.requester.view_submission(modal["id"], user_id=ALICE, values=values)
    assert (response.status, response.body) == (200, "")
    row = await world.settled()
    assert f"<@{ALICE}> made <@{DAVE}> the scribe." in world.texts(row.channel_id)


async def test_page_from_the_card_refuses_unknown_targets_on_the_field(world: World) -> None:
    row = await declared(world, "declare Slow search")
    modal = await click(world, row, "incident_page")
    unknown = {
        "target": {
            "incident_page_target": {
                "type": "external_select",
                "selected_option": {"value": "nope"},
            }
        }
    }
    refused = await world.requester.view_submission(modal["id"], user_id=ALICE, values=unknown)
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"target": "Nothing called `nope` in the catalog."},
    }
    known = {
        "target": {
            "incident_page_target": {
                "type": "external_select",
                "selected_option": {"value": "search"},
            }
        }
    }
    accepted = await world.requester.view_submission(modal["id"], user_id=ALICE, values=known)
    assert accepted.body == ""
    await world.settled()
    assert [a.status for a in world.opsgenie.alerts.values()] == ["open"]


async def test_non_members_see_private_incidents_only_as_such_at_home(world: World) -> None:
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Leaked credentials"}},
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    await world.settled()
    await world.requester.event({"type": "app_home_opened", "user": DAVE, "tab": "home"})
    home = await eventually(lambda: world.slack.home(DAVE))
    assert "Leaked" not in str(home.payload)
    assert "• INC-1: a private incident (investigating)" in str(home.payload)

"""Follow-ups: made from `/incident followup` or the "Follow up" modal, owned by a person or a
team, listed per incident, team or person, closed with buttons; private incidents keep
theirs to their participants, and user text is escaped wherever it is shown."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from switchboard.bot.incidents.followup_messages import DUE_FORMAT, Draft, followup_button
from switchboard.bot.platform.config import Config, IncidentsConfig
from switchboard.storage import db
from switchboard.storage.followup_store import FOLLOWUP
from switchboard.storage.tables import FollowUp, TimelineEntry
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, CAROL, DAVE, World

SHOP, WEB = "group:default/shop", "group:default/web"


async def declared(
    world: World, text: str = "declare sev2 service:checkout Checkout errors", number: int = 1
) -> Any:
    await world.incident(text)
    return await world.settled(number)


async def stored(world: World) -> list[FollowUp]:
    async with db.session_factory(world.sb.core.engine)() as session:
        return list(await session.scalars(select(FollowUp).order_by(FOLLOWUP.c.id)))


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def contexts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["elements"][0]["text"] for b in blocks if b["type"] == "context"]


def buttons(blocks: list[dict[str, Any]], action_id: str) -> list[dict[str, Any]]:
    return [
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    ]


async def said(world: World, channel: str, text: str) -> None:
    await eventually(lambda: text in world.texts(channel))


async def test_a_followup_with_owner_and_due_date(world: World) -> None:
    row = await declared(world)
    response = await world.incident(
        f"followup Add a circuit breaker <@{BOB}|bob> due:2026-12-01", channel=row.channel_id
    )
    summary = f"Add a circuit breaker · owner <@{BOB}> · due 2026-12-01"
    assert response.json() == {
        "text": f"Follow-up added to *INC-1*: {summary}",
        "response_type": "ephemeral",
    }
    (followup,) = await stored(world)
    assert (followup.incident_id, followup.text, followup.owner_user, followup.owner_team) == (
        row.id,
        "Add a circuit breaker",
        BOB,
        "",
    )
    assert (followup.due, followup.state, followup.created_by, followup.created_at) == (
        date(2026, 12, 1),
        "open",
        ALICE,
        world.clock.now,
    )
    await said(world, row.channel_id, f"<@{ALICE}> added a follow-up: {summary}")


async def test_the_owner_is_the_team_owning_the_first_service_else_the_declarer(
    world: World,
) -> None:
    await declared(world)  # checkout, owned by shop
    by_number = await world.incident("followup INC-1 Alert on card declines", user=BOB)
    assert by_number.json()["text"].endswith("Alert on card declines · owner team *shop*")
    await world.incident("followup INC-1 Review the web cache team:web", user=BOB)
    unknown = await world.incident("followup INC-1 Something team:shpo")
    assert unknown.json()["text"] == "No team called `shpo` in the catalog. Did you mean `shop`?"
    await declared(world, "declare Slow builds", number=2)  # no service
    await world.incident(f"assign commander INC-2 <@{ALICE}>")
    await world.settled(2)
    await world.incident("close INC-2")
    assert (await world.settled(2)).closed_at is not None
    closed = await world.incident("followup INC-2 Cache the builds", user=BOB)  # still welcome
    assert closed.json()["text"].endswith(f"Cache the builds · owner <@{ALICE}>")
    assert [(f.incident_id, f.owner_user, f.owner_team) for f in await stored(world)] == [
        (1, "", SHOP),
        (1, "", WEB),
        (2, ALICE, ""),
    ]


async def test_bad_due_dates_are_refused_and_nothing_is_stored(world: World) -> None:
    row = await declared(world)
    for due in ("2026-13-40", "soon", "20261201", ""):
        response = await world.incident(f"followup Fix it due:{due}", channel=row.channel_id)
        assert response.json() == {"text": DUE_FORMAT, "response_type": "ephemeral"}
    assert "YYYY-MM-DD" in DUE_FORMAT
    no_text = await world.incident(f"followup <@{BOB}> due:2026-12-01", channel=row.channel_id)
    assert no_text.json()["text"].startswith("What should the follow-up say?")
    elsewhere = await world.incident("followup Fix it")
    assert elsewhere.json()["text"].startswith("This is not an incident channel.")
    assert await stored(world) == []
    assert not any("follow-up" in text for text in world.texts(row.channel_id))


async def timeline_entry(world: World, incident_id: int) -> int:
    entry = TimelineEntry(
        incident_id=incident_id, source="note", at=world.clock.now, author=BOB, text="Disk full"
    )
    async with db.session_factory(world.sb.core.engine)() as session:
        session.add(entry)
        await session.commit()
    assert entry.id is not None
    return entry.id


async def open_modal(world: World, button: dict[str, Any], channel: str) -> Any:
    """Click a "Follow up" button on a message; returns the modal it opened."""
    message = {"type": "message", "ts": "1.000100", "text": "", "blocks": []}
    opened = len(world.slack.calls("views.open"))
    await world.requester.block_actions(
        [button], user_id=ALICE, channel_id=channel, message=message
    )
    calls = await eventually(lambda: world.slack.calls("views.open")[opened:])
    return calls[0].response["view"]


async def submit(
    world: World, modal: Any, text: str, owner: str = "", team: str = "", due: str = ""
) -> Any:
    values: dict[str, Any] = {"text": {"value": {"type": "plain_text_input", "value": text}}}
    if owner:
        values["owner"] = {"value": {"type": "users_select", "selected_user": owner}}
    if team:
        values["team"] = {"value": {"type": "plain_text_input", "value": team}}
    if due:
        values["due"] = {"value": {"type": "datepicker", "selected_date": due}}
    return await world.requester.view_submission(modal["id"], user_id=ALICE, values=values)


async def test_the_modal_from_a_timeline_entry_with_field_errors(world: World) -> None:
    row = await declared(world)
    entry = await timeline_entry(world, row.id)
    modal = await open_modal(world, followup_button(row.id, entry), row.channel_id)
    assert modal["title"]["text"] == "Add follow-up"
    assert [b.get("block_id") for b in modal["blocks"][1:]] == ["text", "owner", "team", "due"]
    errors = [
        (await submit(world, modal, "  ")).json(),
        (await submit(world, modal, "Alert on disk", due="2026-02-30")).json(),
        (await submit(world, modal, "Alert on disk", team="nobody-at-all")).json(),
    ]
    assert errors == [
        {
            "response_action": "errors",
            "errors": {"text": "What should the follow-up say? `/incident followup Add alerts`"},
        },
        {"response_action": "errors", "errors": {"due": DUE_FORMAT}},
        {
            "response_action": "errors",
            "errors": {"team": "No team called `nobody-at-all` in the catalog."},
        },
    ]
    assert await stored(world) == []
    accepted = await submit(world, modal, "Alert on disk", owner=DAVE, due="2026-12-01")
    assert (accepted.status, accepted.body) == (200, "")
    (followup,) = await stored(world)
    assert (followup.text, followup.owner_user, followup.due, followup.timeline_entry_id) == (
        "Alert on disk",
        DAVE,
        date(2026, 12, 1),
        entry,
    )
    await said(
        world,
        row.channel_id,
        f"<@{ALICE}> added a follow-up: Alert on disk · owner <@{DAVE}> · due 2026-12-01",
    )


async def test_listings_per_incident_team_and_person(world: World) -> None:
    first = await declared(world)  # checkout: shop
    await declared(world, "declare service:storefront Blank pages", number=2)  # web
    today = world.clock.now.date()
    yesterday, later = today - timedelta(days=1), today + timedelta(days=7)
    for text in (
        f"followup INC-1 Write the runbook <@{BOB}|bob>",
        f"followup INC-1 Retry card payments due:{yesterday}",
        f"followup INC-2 Add a CDN fallback team:shop due:{later}",
        "followup INC-2 Tune the cache",
    ):
        assert "Follow-up added" in (await world.incident(text)).json()["text"]

    of_incident = (await world.incident("followups", channel=first.channel_id)).json()["blocks"]
    assert sections(of_incident) == [
        "*Follow-ups of INC-1*",
        f"Retry card payments\nowner team *shop* · due {yesterday} · *overdue*",
        f"Write the runbook\nowner <@{BOB}>",
    ]
    assert len(buttons(of_incident, "followup_done")) == 2
    assert len(buttons(of_incident, "followup_wont_do")) == 2
    assert [b["value"] for b in buttons(of_incident, "followup_open")] == [str(first.id)]

    of_team = (await world.incident("followups team:shop", user=CAROL)).json()["blocks"]
    assert sections(of_team) == [
        "*Open follow-ups of team *shop**",
        f"*INC-1* · Retry card payments\nowner team *shop* · due {yesterday} · *overdue*",
        f"*INC-2* · Add a CDN fallback\nowner team *shop* · due {later}",
    ]
    assert not buttons(of_team, "followup_open")

    of_bob = (await world.incident(f"followups <@{BOB}|bob>", user=CAROL)).json()["blocks"]
    mine = (await world.incident("followups", user=BOB)).json()["blocks"]
    assert (
        sections(of_bob)
        == sections(mine)
        == [
            f"*Open follow-ups of <@{BOB}>*",
            f"*INC-1* · Write the runbook\nowner <@{BOB}>",
        ]
    )
    nobody = (await world.incident("followups", user=DAVE)).json()["blocks"]
    assert contexts(nobody) == ["None open."]
    usage = await world.incident("followups whatever this is")
    assert usage.json()["text"].startswith("List follow-ups with `/incident followups`")


async def test_a_long_listing_stays_within_slack_limits(world: World) -> None:
    row = await declared(world)
    for n in range(27):
        await world.sb.incidents.followups.add(row.id, ALICE, Draft(f"Item {n}"))
    blocks = (await world.incident("followups", channel=row.channel_id)).json()["blocks"]
    assert len(blocks) <= 50
    assert len(sections(blocks)) == 1 + 20
    assert contexts(blocks) == ["7 more not shown."]


def ephemeral(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """A listing as Slack sends it back with a click on one of its buttons."""
    return {"type": "message", "ts": "2.000200", "text": "", "blocks": blocks}


async def click(world: World, button: dict[str, Any], user: str, listing: Any, channel: str) -> str:
    """Click a button of an ephemeral listing; returns the response_url it answers on."""
    url = world.slack.new_response_url(channel_id=channel, user_id=user, kind="actions")
    await world.requester.block_actions(
        [button],
        user_id=user,
        channel_id=channel,
        message=ephemeral(listing),
        response_url=url,
    )
    return url


async def test_closing_from_the_listing(world: World) -> None:
    row = await declared(world)
    await world.incident("followup Retry card payments due:2026-12-01", channel=row.channel_id)
    await world.incident(f"followup Write the runbook <@{BOB}>", channel=row.channel_id)
    listing = (await world.incident("followups", user=BOB, channel=row.channel_id)).json()
    world.clock.advance(minutes=30)

    done, wont = (
        buttons(listing["blocks"], "followup_done")[0],
        buttons(listing["blocks"], "followup_wont_do")[1],
    )
    url = await click(world, done, BOB, listing["blocks"], row.channel_id)
    (replaced,) = await eventually(lambda: world.slack.response_posts(url))
    said_done = f"<@{BOB}> marked the follow-up “Retry card payments” done."
    assert replaced["replace_original"] is True
    assert contexts(replaced["blocks"]) == [said_done]
    assert sections(replaced["blocks"])[1:] == [
        f"Write the runbook\nowner <@{BOB}>",
        f":white_check_mark: Retry card payments\ndone by <@{BOB}> · owner team *shop* · "
        "due 2026-12-01",
    ]
    await said(world, row.channel_id, said_done)

    url = await click(world, wont, BOB, listing["blocks"], row.channel_id)
    await eventually(lambda: world.slack.response_posts(url))
    await said(
        world, row.channel_id, f"<@{BOB}> marked the follow-up “Write the runbook” won't do."
    )
    retry, runbook = await stored(world)
    assert (retry.state, retry.closed_by, retry.closed_at) == ("done", BOB, world.clock.now)
    assert (runbook.state, runbook.closed_by) == ("wont_do", BOB)

    url = await click(world, done, CAROL, listing["blocks"], row.channel_id)  # a stale listing
    (refused,) = await eventually(lambda: world.slack.response_posts(url))
    assert refused == {
        "text": "That follow-up was closed already.",
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert (await stored(world))[0].closed_by == BOB


async def declared_private(world: World) -> Any:
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Leaked credentials"}},
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    return await world.settled()


async def test_followups_of_private_incidents_stay_with_their_participants(
    world: World,
) -> None:
    secret = await declared_private(world)
    await world.incident("followup Rotate the leaked keys team:shop", channel=secret.channel_id)
    await declared(world, number=2)
    await world.incident("followup INC-2 Retry card payments")

    outsider = (await world.incident("followups team:shop", user=DAVE)).json()["blocks"]
    assert "Rotate" not in str(outsider)
    assert sections(outsider)[1:] == ["*INC-2* · Retry card payments\nowner team *shop*"]
    assert contexts(outsider) == ["1 follow-up of private incidents."]
    insider = (await world.incident("followups team:shop", user=ALICE)).json()["blocks"]
    assert "*INC-1* · Rotate the leaked keys\nowner team *shop*" in sections(insider)

    refused = await world.incident("followup INC-1 Tell everyone", user=DAVE)
    assert refused.json()["text"] == (
        "INC-1 is private: only its participants may add follow-ups to it."
    )
    done = buttons(insider, "followup_done")[0]
    url = await click(world, done, DAVE, insider, world.elsewhere)
    (answer,) = await eventually(lambda: world.slack.response_posts(url))
    assert answer["text"] == "INC-1 is private: only its participants may close its follow-ups."
    assert [f.state for f in await stored(world)] == ["open", "open"]
    opened = len(world.slack.calls("views.open"))
    url = await click(world, followup_button(secret.id), DAVE, insider, world.elsewhere)
    (answer,) = await eventually(lambda: world.slack.response_posts(url))
    assert answer["text"].endswith("only its participants may add follow-ups to it.")
    assert len(world.slack.calls("views.open")) == opened


@pytest.mark.parametrize(
    "config", [Config(incidents=IncidentsConfig(private_in_public="hide"))], ids=["hide"]
)
async def test_private_followups_not_even_counted_when_configured(world: World) -> None:
    secret = await declared_private(world)
    await world.incident("followup Rotate the leaked keys team:shop", channel=secret.channel_id)
    outsider = (await world.incident("followups team:shop", user=DAVE)).json()["blocks"]
    assert (sections(outsider)[1:], contexts(outsider)) == ([], ["None open."])


async def test_followup_text_is_escaped_and_mentions_read_as_names(world: World) -> None:
    row = await declared(world)
    response = await world.incident(
        f"followup Tell <!channel> & <@{CAROL}|carol> in <#C0001|general> <@{BOB}>",
        channel=row.channel_id,
    )
    escaped = "Tell &lt;!channel&gt; &amp; @carol in #general"
    assert response.json()["text"].startswith(f"Follow-up added to *INC-1*: {escaped} · ")
    (followup,) = await stored(world)
    assert (followup.text, followup.owner_user) == ("Tell <!channel> & @carol in #general", BOB)
    await said(world, row.channel_id, f"<@{ALICE}> added a follow-up: {escaped} · owner <@{BOB}>")
    listing = (await world.incident("followups", channel=row.channel_id)).json()
    assert "<!channel>" not in str(listing)
    assert all("<!channel>" not in text for text in world.texts(row.channel_id))

"""The responder context: on declare, the card in the incident channel says what changed
(the affected services' deploys before declare) and what else is affected (the services
that depend on them, by team), with **Notify owners**; a deploy after declare goes on the
timeline as it arrives; `/incident changes` and the catch-up show the same lines."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import select
from sqlmodel import SQLModel

from switchboard.storage.facts_store import DeployRow, Observation
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, CATALOG, DAVE, World
from tests.incidents.test_catchup import catchup_of, join

CI_TOKEN = "ci-token-for-deploys-0001"
CHECKOUT = "component:default/checkout"
TEAMS = """\
  - {id: payments, name: Payments, slack_channel: "#payments"}
  - {id: mobile, name: Mobile, slack_channel: "#mobile"}
  - {id: data, name: Data}
"""
DEPENDENTS = """\
  - {id: payments-api, name: Payments API, owner: payments, depends_on: [checkout]}
  - {id: cart, name: Cart, owner: shop, depends_on: [checkout]}
  - {id: ledger, name: Ledger, owner: data, depends_on: [checkout]}
  - {id: mobile-app, name: Mobile App, owner: mobile, depends_on: [payments-api]}
  - {id: reports, name: Reports, owner: data, depends_on: [mobile-app]}
"""
CARD_TEXT = "INC-1: what changed and what else is affected"


@pytest.fixture
def catalog_text() -> str:
    """Checkout with dependents two levels deep (and a third level, beyond the depth)."""
    escaped = TEAMS.replace("{", "{{").replace("}", "}}")
    services = DEPENDENTS.replace("{", "{{").replace("}", "}}")
    return CATALOG.replace("services:\n", escaped + "services:\n") + services


@pytest.fixture
def world_env() -> dict[str, str]:
    return {"SWITCHBOARD_FACTS_TOKENS": f"ci={CI_TOKEN}"}


@pytest.fixture(autouse=True)
def team_channels(world: World) -> dict[str, str]:
    return {name: world.slack.add_channel(name) for name in ("shop", "payments", "mobile")}


async def deployed(world: World, minutes_ago: int, sha: str = "abc1234def5678") -> None:
    """A deploy of checkout CI reported, finished `minutes_ago` before the world's now."""
    at = world.clock.now - timedelta(minutes=minutes_ago)
    row = DeployRow(CHECKOUT, "production", sha, "success", at, at, "bob", [], "ci")
    await world.sb.facts.live.store.add_deploy(row, at)


async def declared(
    world: World, text: str = "declare sev2 service:checkout Checkout errors"
) -> Any:
    await world.incident(text)
    return await world.settled()


def context_card(world: World, channel: str) -> Any:
    (card,) = [m for m in world.slack.messages(channel) if m.text == CARD_TEXT]
    return card


def sections(card: Any) -> list[str]:
    return [b["text"]["text"] for b in card.blocks if b["type"] in ("section",)]


def contexts(card: Any) -> list[str]:
    return [b["elements"][0]["text"] for b in card.blocks if b["type"] == "context"]


def button(card: Any) -> dict[str, Any]:
    (actions,) = [b for b in card.blocks if b["type"] == "actions"]
    (found,) = actions["elements"]
    return dict(found)


async def ledger(world: World, kind: str) -> list[tuple[str, str, bool]]:
    table = SQLModel.metadata.tables["notification"]
    query = select(table.c.subject, table.c.channel, table.c.sent_at).where(table.c.kind == kind)
    async with world.sb.core.sessions() as session:
        rows = (await session.execute(query.order_by(table.c.subject))).all()
    return [(subject, channel, sent is not None) for subject, channel, sent in rows]


async def test_declare_shows_the_deploy_and_the_dependents(world: World) -> None:
    await deployed(world, minutes_ago=10)
    await deployed(world, minutes_ago=200, sha="0ld0000")  # outside the two hours
    row = await declared(world)
    card = context_card(world, row.channel_id)
    stamp = (world.clock.now - timedelta(minutes=10)).strftime("%H:%M")
    changed, summary, *teams = sections(card)
    assert changed == (
        "*What changed* (deploys in the window before declare)\n"
        f"• Checkout deployed 10 min before declare (abc1234 by @bob, finished {stamp})"
    )
    assert summary == (
        "*What else is affected*\n4 services of 4 teams depend on Checkout (to 2 levels)"
    )
    assert teams == [
        "*Data* (no channel): Ledger",
        "*Mobile* #mobile: Mobile App (level 2)",
        "*Payments* #payments: Payments API",
        "*Shop* #shop: Cart",
    ]
    assert "Reports" not in str(card.blocks)  # three levels away
    notify = button(card)
    assert notify["action_id"] == "incident_notify_owners"
    assert notify["text"]["text"] == "Notify owners (3 teams)"
    assert "confirm" not in notify
    # Only in the incident's channel: the announcement is the card it always was.
    assert all(m.text != CARD_TEXT for m in world.slack.messages(world.incidents_channel))


async def refreshed(world: World, payload: dict[str, Any]) -> None:
    """Send a click, and wait for the context card's update that ends its handling."""
    updates = len(world.slack.calls("chat.update"))
    assert (await world.requester.send_payload(payload)).status == 200
    await eventually(lambda: len(world.slack.calls("chat.update")) > updates)


async def test_notify_posts_once_per_team_whatever_is_clicked_again(
    world: World, team_channels: dict[str, str]
) -> None:
    row = await declared(world)
    card = context_card(world, row.channel_id)
    notify = button(card)  # as first posted: the card loses it once everyone is notified
    payload = world.requester.block_actions_payload(
        [notify], user_id=BOB, channel_id=row.channel_id, message=card.ts
    )
    await refreshed(world, payload)
    # Clicked again (the old card), and the first click sent again by Slack.
    for again in (
        world.requester.block_actions_payload(
            [notify], user_id=ALICE, channel_id=row.channel_id, message=card.ts
        ),
        payload,
    ):
        await refreshed(world, again)
    for name in ("shop", "payments", "mobile"):
        (notice,) = [m.text for m in world.slack.messages(team_channels[name])]
        assert notice.startswith("Heads-up: INC-1 (SEV2, investigating) affects *Checkout*")
        assert notice.endswith(f"Follow it in <#{row.channel_id}>.")
    assert (
        "*Mobile App* of yours depends on" in world.slack.messages(team_channels["mobile"])[0].text
    )
    assert await ledger(world, "incident-dependents") == [
        ("1/group:default/mobile", "#mobile", True),
        ("1/group:default/payments", "#payments", True),
        ("1/group:default/shop", "#shop", True),
    ]
    card = context_card(world, row.channel_id)
    assert contexts(card) == ["Notified: Mobile (#mobile), Payments (#payments), Shop (#shop)"]
    assert not [b for b in card.blocks if b["type"] == "actions"]  # nobody left to notify


async def clicked(world: World, row: Any, value: str, user: str, action: str = "") -> str:
    """The ephemeral answer to a click on the context card carrying `value`."""
    card = context_card(world, row.channel_id)
    pressed = button(card) | {"value": value} | ({"action_id": action} if action else {})
    before = len(world.slack.ephemerals(row.channel_id, user))
    response = await world.requester.block_actions(
        [pressed], user_id=user, channel_id=row.channel_id, message=card.ts
    )
    assert response.status == 200
    shown = await eventually(lambda: world.slack.ephemerals(row.channel_id, user)[before:])
    return str(shown[0].text)


async def test_a_hostile_click_notifies_nobody(world: World) -> None:
    row = await declared(world)
    digest = button(context_card(world, row.channel_id))["value"].partition(":")[2]
    stale = await clicked(world, row, "1:" + "0" * 16, BOB)
    assert stale.startswith("The teams depending on this incident's services changed since")
    gone = await clicked(world, row, f"99:{digest}", BOB)
    assert gone == "That incident no longer exists."
    malformed = await world.requester.block_actions(
        [button(context_card(world, row.channel_id)) | {"value": "1:<!channel>"}],
        user_id=BOB,
        channel_id=row.channel_id,
        message=context_card(world, row.channel_id).ts,
    )
    assert malformed.status == 400
    await world.incident(f"assign commander <@{ALICE}|alice>", channel=row.channel_id)
    await world.incident("close", channel=row.channel_id)
    await world.until(lambda incident: incident.closed_at is not None)
    closed = await clicked(world, row, f"1:{digest}", ALICE)
    assert closed == "INC-1 is closed."
    assert await ledger(world, "incident-dependents") == []
    for channel in ("#shop", "#payments", "#mobile"):
        assert world.slack.messages(channel) == []


async def private_declared(world: World) -> Any:
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Card numbers leaked"}},
        "services": {"incident_services": {"selected_options": [{"value": CHECKOUT}]}},
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    return await world.settled()


async def test_a_private_incident_notifies_only_once_confirmed(world: World) -> None:
    row = await private_declared(world)
    card = context_card(world, row.channel_id)
    assert world.slack.channel(row.channel_id).is_private
    reveal = button(card)
    assert reveal["action_id"] == "incident_notify_reveal"
    assert reveal["confirm"]["title"]["text"] == "Reveal this private incident?"
    assert reveal["confirm"]["text"]["text"] == (
        "Each of 3 team channels will be told that a private incident (INC-1) exists and "
        "affects Checkout. Its title, channel and details stay private."
    )
    announcement = world.slack.channel(world.incidents_channel).message(row.announce_ts)
    assert "Payments" not in str(announcement.blocks)  # the dependents stay in its channel
    # The plain action (no confirm dialog) is refused, and so is a non-participant.
    plain = await clicked(world, row, reveal["value"], ALICE, action="incident_notify_owners")
    assert plain.startswith("INC-1 is private: notifying owners reveals that it exists")
    outsider = await clicked(world, row, reveal["value"], DAVE)
    assert outsider == "INC-1 is private: only its participants may notify the owners."
    assert await ledger(world, "incident-dependents") == []
    confirmed = world.requester.block_actions_payload(
        [reveal], user_id=ALICE, channel_id=row.channel_id, message=card.ts
    )
    await refreshed(world, confirmed)
    (notice,) = [m.text for m in world.slack.messages("#payments")]
    assert notice == (
        "A private incident (INC-1) affects *Checkout*, which *Payments API* of yours depends "
        "on. Its responders may reach out; its details stay with them."
    )
    everything = str(
        [
            (m.text, m.blocks)
            for c in ("#shop", "#payments", "#mobile")
            for m in world.slack.messages(c)
        ]
    )
    assert "Card numbers" not in everything and row.channel_id not in everything
    assert row.channel_name not in everything


async def post_deploy(world: World, body: dict[str, Any]) -> tuple[int, Any]:
    base = world.requester.app_url.removesuffix("/slack/events")
    headers = {"Authorization": f"Bearer {CI_TOKEN}", "Content-Type": "application/json"}
    async with (
        ClientSession() as http,
        http.post(f"{base}/api/deploys", data=json.dumps(body), headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_a_deploy_after_declare_goes_on_the_timeline(world: World) -> None:
    row = await declared(world)
    world.clock.advance(minutes=4)
    at = world.clock.now.isoformat()
    deploy = {
        "service": "checkout",
        "environment": "production",
        "sha": "fedcba9876543210",
        "status": "rolled_back",
        "finished_at": at,
        "author": "@carol",
    }
    assert (await post_deploy(world, deploy))[0] == 201
    row = await world.settled()
    stamp = world.clock.now.strftime("%H:%M")
    line = f"Checkout rolled back 4 min after declare (fedcba9 by @carol, at {stamp})"
    assert line in world.texts(row.channel_id)
    timeline = await world.requester.answer(
        "/incident", "timeline", user_id=ALICE, channel_id=row.channel_id
    )
    assert line in json.dumps(timeline.json())
    # A deploy of a service no open incident is affected by goes on no timeline.
    other = deploy | {"service": "search", "sha": "1111111"}
    assert (await post_deploy(world, other))[0] == 201
    assert not [t for t in world.texts(row.channel_id) if "1111111" in t]


async def test_incident_changes_and_the_catch_up_show_the_same_lines(world: World) -> None:
    for minutes in range(5, 12):  # seven deploys: five shown, two counted
        await deployed(world, minutes_ago=minutes, sha=f"{minutes:02d}aaaaa")
    row = await declared(world)
    stamp = (world.clock.now - timedelta(minutes=5)).strftime("%H:%M")
    newest = f"• Checkout deployed 5 min before declare (05aaaaa by @bob, finished {stamp})"
    answer = await world.incident("changes", channel=row.channel_id)
    text = answer.json()["text"]
    assert text.startswith(f"*What changed before INC-1* (deploys before declare)\n{newest}\n")
    assert text.endswith("• and 2 more") and text.count("• Checkout") == 5
    outsider = await world.incident("changes INC-1", user=DAVE)
    assert "09aaaaa" in outsider.json()["text"]  # a public incident's, to anyone
    await join(world, row.channel_id, BOB)
    catchup = await catchup_of(world, row.channel_id, BOB)
    assert f"*What changed* (deploys before declare)\n{newest}" in catchup
    assert catchup.endswith("• and 2 more")


async def test_changes_of_a_private_incident_are_for_its_participants(world: World) -> None:
    await deployed(world, minutes_ago=3)
    await private_declared(world)
    refused = await world.incident("changes INC-1", user=DAVE)
    assert refused.json()["text"] == "INC-1 is private: only its participants may read it."
    mine = await world.incident("changes INC-1", user=ALICE)
    assert "Checkout deployed 3 min before declare" in mine.json()["text"]


async def test_a_notice_slack_refused_is_sent_on_the_next_click(
    world: World, team_channels: dict[str, str]
) -> None:
    row = await declared(world)
    card = context_card(world, row.channel_id)
    notify = button(card)
    world.slack.fail("chat.postMessage", error="not_in_channel")  # the first notice only
    said = await clicked(world, row, notify["value"], BOB)
    assert said == (
        "1 notice could not be posted: press *Notify owners* again to retry (no team is "
        "told twice)."
    )
    assert [sent for _, _, sent in await ledger(world, "incident-dependents")] == [True, True]
    assert button(context_card(world, row.channel_id))["value"] == notify["value"]
    again = world.requester.block_actions_payload(
        [notify], user_id=BOB, channel_id=row.channel_id, message=card.ts
    )
    await refreshed(world, again)
    assert len(await ledger(world, "incident-dependents")) == 3
    for channel in team_channels.values():
        assert len(world.slack.messages(channel)) == 1


async def test_github_deployments_are_changes_too(world: World) -> None:
    created = world.clock.now - timedelta(minutes=25)
    value = [
        {
            "environment": "production",
            "sha": "9f8e7d6c5b",
            "state": "success",
            "created_at": created.isoformat().replace("+00:00", "Z"),
        },
        {
            "environment": "staging",
            "sha": "1234567",
            "state": "success",
            "created_at": (world.clock.now - timedelta(days=2)).isoformat(),
        },
        {"environment": "broken", "created_at": "not a time"},
    ]
    observed = [Observation(CHECKOUT, "git.deployments", value, world.clock.now)]
    await world.sb.facts.live.store.record("github", observed, world.clock.now)
    await deployed(world, minutes_ago=10)
    row = await declared(world)
    changed = sections(context_card(world, row.channel_id))[0]
    stamp = created.strftime("%H:%M")
    assert changed.splitlines()[1:] == [
        "• Checkout deployed 10 min before declare (abc1234 by @bob, finished "
        f"{(world.clock.now - timedelta(minutes=10)):%H:%M})",
        "• Checkout deployed 25 min before declare (9f8e7d6, GitHub deployment to "
        f"production, finished {stamp})",
    ]


MANY_TEAMS = 30


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")


async def test_many_dependents_fit_within_block_kit(world: World) -> None:
    """30 teams of 40 long-named dependents each: the card stays one message Slack takes
    (the fake refuses blocks over Block Kit's limits, as Slack does)."""
    lines = ["switchboard: 1", "teams:"]
    lines += [
        f'  - {{id: t{t}, name: Team {t}, slack_channel: "#t{t}"}}' for t in range(MANY_TEAMS)
    ]
    lines += ["services:", "  - {id: checkout, name: Checkout, owner: t0}"]
    lines += [
        f"  - {{id: s{t}-{n}, name: {'Long service name ' * 6}{t}-{n}, owner: t{t}, "
        "depends_on: [checkout]}"
        for t in range(MANY_TEAMS)
        for n in range(40)
    ]
    path = world.sb.core.settings.catalog_paths[0]
    write_lines(Path(path), lines)
    await world.sb.catalog.service.import_paths([path])
    world.sb.catalog.reader.recheck()
    row = await declared(world)
    card = context_card(world, row.channel_id)
    assert len(card.blocks) <= 50
    assert all(len(text) <= 3000 for text in sections(card))
    assert sections(card)[1].startswith("*What else is affected*\n1200 services of 30 teams")
    assert contexts(card) == ["…and 18 more teams"]
    assert button(card)["text"]["text"] == "Notify owners (20 teams)"

"""Who may do what to an incident, whatever the surface (command, card select, button, modal),
replays of one Slack request, and values from payloads the bot never offered."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest

from switchboard.bot.platform.config import DEFAULT_STATUSES, Config, IncidentsConfig, Status
from switchboard.fakes.slack.server import FakeSlack
from switchboard.storage import followup_store, incident_store, timeline_store
from switchboard.storage.followup_store import Filter
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, CAROL, DAVE, World, eventually_async


@pytest.fixture
def config(slack: FakeSlack) -> Config:
    """DAVE is a responder; besides the default (the last status, closed, is restricted),
    `monitoring` is restricted too."""
    responders = slack.add_usergroup("responders", [DAVE])
    statuses = tuple(
        Status(name=s.name, milestone=s.milestone, restricted=True) if s.name == "monitoring" else s
        for s in DEFAULT_STATUSES
    )
    return Config(incidents=IncidentsConfig(responders_group=responders, statuses=statuses))


async def declared(
    world: World, text: str = "declare sev2 service:checkout Checkout errors"
) -> Any:
    await world.incident(text, user=BOB)
    return await world.settled()


async def private_incident(world: World) -> Any:
    """A private incident ALICE declares from the modal: BOB, CAROL and DAVE take no part."""
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Secret"}},
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    return await world.settled()


async def events(world: World, kind: str) -> list[Any]:
    async with world.sb.catalog.reader._sessions() as session:
        return [e for e in await incident_store.events(session, 1) if e.kind == kind]


def card_select(world: World, row: Any, action_id: str) -> dict[str, Any]:
    card = world.slack.channel(row.channel_id).message(row.card_ts)
    actions = card.blocks[-1]
    select = next(e for e in actions["elements"] if e["action_id"] == action_id)
    return {**select, "block_id": actions["block_id"]}


async def choose(
    world: World,
    row: Any,
    action_id: str,
    value: str,
    user: str,
    action_ts: str = "",
    select: dict[str, Any] | None = None,
) -> str:
    """Pick `value` in a card select as `user`; returns the response URL of the click."""
    select = select or card_select(world, row, action_id)
    action = {**select, "selected_option": {"text": {"type": "plain_text", "text": value}}}
    action["selected_option"]["value"] = value
    if action_ts:
        action["action_ts"] = action_ts
    url = world.slack.new_response_url(
        channel_id=row.channel_id, user_id=user, message_ts=row.card_ts, kind="actions"
    )
    clicked = await world.requester.block_actions(
        [action], user_id=user, channel_id=row.channel_id, message=row.card_ts, response_url=url
    )
    assert clicked.status == 200
    return url


async def button(
    world: World, row: Any, action_id: str, user: str, value: str = "1", action_ts: str = ""
) -> str:
    """Click a button whose value is the incident's id (a card's, a reminder's)."""
    action: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value}
    if action_ts:
        action["action_ts"] = action_ts
    url = world.slack.new_response_url(
        channel_id=row.channel_id, user_id=user, message_ts=row.card_ts, kind="actions"
    )
    clicked = await world.requester.block_actions(
        [action], user_id=user, channel_id=row.channel_id, message=row.card_ts, response_url=url
    )
    assert clicked.status == 200
    return url


# per target status


def test_the_last_status_is_restricted_unless_configured_otherwise() -> None:
    default = IncidentsConfig()
    assert [s for s in ("investigating", "resolved", "closed") if default.restricted(s)] == [
        "closed"
    ]
    opened = tuple(Status(name=s.name, milestone=s.milestone) for s in DEFAULT_STATUSES[:-1])
    free = (*opened, Status(name="closed", milestone="closed", restricted=False))
    assert not IncidentsConfig(statuses=free).restricted("closed")


async def test_closing_by_status_or_the_card_select_is_refused_like_close(world: World) -> None:
    row = await declared(world)  # BOB declared: no commander yet, ALICE is no responder
    by_status = await world.incident("status closed", user=ALICE, channel=row.channel_id)
    group = world.sb.core.config.incidents.responders_group
    assert by_status.json()["text"] == f"Only the commander or <!subteam^{group}> may close INC-1."
    options = [o["value"] for o in card_select(world, row, "incident_status")["options"]]
    assert options == ["1:investigating", "1:identified", "1:resolved"]  # as everyone may
    url = await choose(world, row, "incident_status", "1:closed", ALICE)
    (told,) = await eventually(lambda: world.slack.response_posts(url))
    assert told["text"] == f"Only the commander or <!subteam^{group}> may close INC-1."
    assert told["response_type"] == "ephemeral"
    row = await world.settled()
    assert (row.status, row.closed_at) == ("investigating", None)
    assert [e.status for e in world.pagerduty.incidents.values()] == ["triggered"]
    assert await events(world, "status") == []


async def test_a_restricted_status_is_for_the_commander_and_the_responders(world: World) -> None:
    row = await declared(world)
    refused = await world.incident("status monitoring", user=ALICE, channel=row.channel_id)
    group = world.sb.core.config.incidents.responders_group
    assert refused.json()["text"] == (
        f"Only the commander or <!subteam^{group}> may set *monitoring* on INC-1."
    )
    await world.incident(f"assign commander <@{ALICE}>", user=BOB, channel=row.channel_id)
    await world.settled()
    assert (
        await world.incident("status monitoring", user=ALICE, channel=row.channel_id)
    ).body == ""
    row = await world.settled()
    assert row.status == "monitoring"
    assert (await world.incident("status closed", user=DAVE, channel=row.channel_id)).body == ""
    assert (await world.settled()).status == "closed"


# participation, whatever the surface


async def test_reminder_and_card_buttons_of_a_private_incident_need_participation(
    world: World,
) -> None:
    row = await private_incident(world)
    opened = len(world.slack.calls("views.open"))
    refusal = "INC-1 is private: only its participants may change its reminders."
    for action_id in ("incident_snooze", "incident_dismiss"):
        url = await button(world, row, action_id, CAROL)
        (told,) = await eventually(lambda url=url: world.slack.response_posts(url))
        assert (told["text"], told["response_type"]) == (refusal, "ephemeral")
    for action_id in ("incident_assign", "incident_page", "timeline_add"):
        url = await button(world, row, action_id, CAROL)
        (told,) = await eventually(lambda url=url: world.slack.response_posts(url))
        assert told["text"].startswith("INC-1 is private: only its participants may")
    row = await world.settled()
    assert (row.reminders_snoozed_until, row.reminders_off) == (None, False)
    assert len(world.slack.calls("views.open")) == opened  # no form for them
    await button(world, row, "incident_snooze", ALICE)
    row = await world.until(lambda incident: incident.reminders_snoozed_until is not None)


# replays


async def test_a_replayed_command_changes_nothing(world: World) -> None:
    row = await declared(world)
    trigger = world.slack.new_trigger_id()
    for text in ("note Rolled back", "status identified", "followup Add an alert"):
        trigger = world.slack.new_trigger_id()
        first = await world.requester.slash_command(
            "/incident", text, user_id=BOB, channel_id=row.channel_id, trigger_id=trigger
        )
        again = await world.requester.slash_command(
            "/incident", text, user_id=BOB, channel_id=row.channel_id, trigger_id=trigger
        )
        assert first.status == again.status == 200
        assert again.body == ""  # acknowledged, nothing said, nothing done
    row = await world.settled()
    async with world.sb.catalog.reader._sessions() as session:
        notes = [e for e in await timeline_store.entries(session, 1) if e.source == "note"]
        followups = await followup_store.visible(session, Filter(incident_id=1), BOB, 10)
    assert [n.text for n in notes] == ["Rolled back"]
    assert len(followups) == 1
    assert len(await events(world, "status")) == 1
    said = [t for t in world.texts(row.channel_id) if "added a note" in t]
    assert said == [f"<@{BOB}> added a note to the timeline: Rolled back"]


async def test_replayed_buttons_selects_and_modals_change_nothing(world: World) -> None:
    row = await declared(world)
    select = card_select(world, row, "incident_severity")  # as first sent: the card changes
    for _ in range(2):
        ts = "1700000000.000001"
        await choose(world, row, "incident_severity", "1:SEV1", BOB, ts, select)
        await button(world, row, "incident_snooze", BOB, action_ts="1700000000.000002")
    await eventually_async(lambda: changed(world))
    await world.retry()  # two changes at once: the one whose sync found the other's runs next
    row = await world.settled()
    assert len(await events(world, "severity")) == 1
    assert len(await events(world, "snooze")) == 1
    modal = await click(world, row, "incident_assign")
    values = {
        "role": {"value": {"type": "static_select", "selected_option": {"value": "scribe"}}},
        "user": {"value": {"type": "users_select", "selected_user": DAVE}},
    }
    for _ in range(2):
        answer = await world.requester.view_submission(modal["id"], user_id=BOB, values=values)
        assert (answer.status, answer.body) == (200, "")
    await world.retry()
    await world.settled()
    assert len([e for e in await events(world, "assign") if e.data.get("user") == DAVE]) == 1


async def changed(world: World) -> bool:
    """Whether both the severity select and the snooze button were carried out."""
    view = await world.sb.incidents.service.view(1)
    assert view is not None
    return view.incident.severity == "SEV1" and view.incident.reminders_snoozed_until is not None


async def click(world: World, row: Any, action_id: str) -> Any:
    """Click a card button that opens a modal; returns the modal."""
    opened = len(world.slack.calls("views.open"))
    await button(world, row, action_id, BOB)
    calls = await eventually(lambda: world.slack.calls("views.open")[opened:])
    return calls[0].response["view"]


# values the bot never offered


async def test_crafted_option_values_are_refused_and_never_echoed(world: World) -> None:
    row = await declared(world)
    url = await choose(world, row, "incident_severity", "1:<!channel> pwn", BOB)
    (told,) = await eventually(lambda: world.slack.response_posts(url))
    assert told["text"] == (
        "`&lt;!channel&gt; pwn` is not a severity. Choose one of `SEV1`, `SEV2`, `SEV3`, `SEV4`."
    )
    url = await choose(world, row, "incident_status", "1:<!here>", BOB)
    (told,) = await eventually(lambda: world.slack.response_posts(url))
    assert told["text"].startswith("`&lt;!here&gt;` is not a status. Choose one of")
    modal = await click(world, row, "incident_assign")
    crafted_role = {
        "role": {"value": {"type": "static_select", "selected_option": {"value": "<!channel>"}}},
        "user": {"value": {"type": "users_select", "selected_user": DAVE}},
    }
    answer = await world.requester.view_submission(modal["id"], user_id=BOB, values=crafted_role)
    assert answer.json()["errors"] == {
        "role": "`&lt;!channel&gt;` is not a role. Choose one of `commander`, `communications`, "
        "`scribe`."
    }
    crafted_user = {"user": {"value": {"type": "users_select", "selected_user": "<!channel>"}}}
    answer = await world.requester.view_submission(modal["id"], user_id=BOB, values=crafted_user)
    assert answer.status == 400
    row = await world.settled()
    assert (row.severity, row.status) == ("SEV2", "investigating")
    everything = world.texts(row.channel_id) + world.texts(world.incidents_channel)
    assert not any("<!channel>" in t or "<!here>" in t for t in everything)
    assert await events(world, "assign") == []


async def test_a_crafted_severity_or_service_in_the_declare_modal_is_refused(
    world: World,
) -> None:
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    view = opened.response["view"]["id"]
    title = {"title": {"value": {"type": "plain_text_input", "value": "Outage"}}}
    severity = {"value": {"type": "static_select", "selected_option": {"value": "<!channel>"}}}
    answer = await world.requester.view_submission(
        view, user_id=ALICE, values=title | {"severity": severity}
    )
    assert answer.json()["errors"] == {"severity": "`&lt;!channel&gt;` is not a severity."}
    services = {"incident_services": {"selected_options": [{"value": "component:default/nope"}]}}
    answer = await world.requester.view_submission(
        view, user_id=ALICE, values=title | {"services": services}
    )
    assert answer.json()["errors"] == {
        "services": "`component:default/nope` is not in the catalog."
    }
    assert await world.sb.incidents.service.view(1) is None


# payloads of the wrong shape


def interaction(user: str = ALICE, **fields: Any) -> dict[str, Any]:
    return {"type": "block_actions", "user": {"id": user}, "trigger_id": "1.2.3"} | fields


def clicked(action_id: str, value: Any) -> dict[str, Any]:
    action = {"action_id": action_id, "action_ts": "1700000000.1", "value": value}
    return interaction(actions=[action], channel={"id": "C1"}, container={"type": "message"})


@pytest.mark.parametrize(
    "payload",
    [
        clicked("incident_snooze", "abc"),
        clicked("incident_dismiss", "9" * 30),
        clicked("incident_resolve", "-1"),
        clicked("incident_assign", None),
        clicked("timeline_add", "1.5"),
        clicked("timeline_page:next", "1:x"),
        clicked("followup_open", "x:1"),
        clicked("followup_done", "1 nowhere:else"),
        {k: v for k, v in clicked("incident_page", "1").items() if k != "user"},
        interaction(
            actions=[
                {
                    "action_id": "incident_status",
                    "action_ts": "1.2",
                    "selected_option": {"value": "99999999999999999999999999:closed"},
                }
            ]
        ),
        {
            "type": "view_submission",
            "user": {"id": ALICE},
            "view": {"id": "V1", "callback_id": "incident_assign_role", "private_metadata": "1"},
        },
        {
            "type": "view_submission",
            "user": {"id": ALICE},
            "view": {
                "id": "V1",
                "callback_id": "incident_backfill",
                "private_metadata": "one",
                "state": {"values": {}},
            },
        },
    ],
)
async def test_malformed_payloads_are_answered_400(
    world: World, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    row = await declared(world)
    body = urlencode({"payload": json.dumps(payload)}).encode()
    answer = await world.requester.raw(body)
    assert answer.status == 400
    assert (await world.settled()).version == row.version
    # One warning line, no traceback: the listener refused it before doing anything.
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


async def test_a_command_with_a_malformed_user_is_answered_400(world: World) -> None:
    answer = await world.requester.slash_command(
        "/incident", "declare Outage", user_id="<!channel>", channel_id=world.elsewhere
    )
    assert answer.status == 400
    assert await world.sb.incidents.service.view(1) is None


# what the timeline says


async def test_lifecycle_entries_name_their_author_once(world: World) -> None:
    row = await declared(world)
    await world.incident("status identified", user=CAROL, channel=row.channel_id)
    await world.settled()
    listing = (await world.incident("timeline", user=CAROL, channel=row.channel_id)).json()
    lines = [b["text"]["text"] for b in listing["blocks"] if b["type"] == "section"]
    (status,) = [line for line in lines if "changed the status" in line]
    assert status.endswith(
        f"CET* <@{CAROL}> changed the status from *investigating* to *identified*."
    ) or status.endswith(
        f"UTC* <@{CAROL}> changed the status from *investigating* to *identified*."
    )
    assert status.count(f"<@{CAROL}>") == 1

"""A private incident's title and details never reach anyone outside it: one test per public
place (the announcement channel, a non-participant's App Home, `/incident list`, the stats
in Slack and on the command line, `/owner` for its service, the other commands a
non-participant may try, and the logs). Digests are not built yet: not covered here."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from switchboard.cli import main
from switchboard.fakes.slack.server import FakeSlack
from tests.incidents.conftest import ALICE, BOB, DAVE, World, eventually

# Every piece of the incident's own text carries this; channel names are lower case.
MARK = "zqx"
TITLE = "ZQXtitle payroll keys leaked"
DETAILS = {
    "description": "ZQXdescription the keys were in a public repo",
    "update": "update ZQXupdate keys rotated",
    "note": "note ZQXnote legal informed",
    "followup": "followup ZQXfollowup audit every repo team:shop",
}


async def declare_private(world: World) -> Any:
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": TITLE}},
        "description": {"value": {"type": "plain_text_input", "value": DETAILS["description"]}},
        "services": {
            "incident_services": {
                "type": "multi_external_select",
                "selected_options": [{"value": "component:default/checkout"}],
            }
        },
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    submitted = await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    assert submitted.status == 200
    row = await world.settled()
    for command in ("update", "note", "followup"):
        answer = await world.incident(DETAILS[command], channel=row.channel_id)
        assert answer.status == 200
    await world.incident(f"assign commander <@{BOB}>", channel=row.channel_id)
    return await world.settled()


async def resolve(world: World, row: Any) -> Any:
    await world.incident("resolve", channel=row.channel_id)
    return await world.until(lambda incident: incident.resolved_at is not None)


def seen(*things: Any) -> str:
    """Everything given, as one lower-case text to look for the mark in."""
    return json.dumps(things, default=str).lower()


def shown_outside(slack: FakeSlack, channel: str, since: int = 0) -> str:
    """What the bot sent anywhere but the incident's own channel, since call `since`:
    messages and updates, ephemeral messages, views, and response_url answers."""
    calls = [c.args for c in slack.calls()[since:] if c.args.get("channel") != channel]
    answers = [post for hook in slack.hooks.values() for post in hook.posts]
    ephemeral = [(e.text, e.blocks) for e in slack.ephemeral if e.channel != channel]
    return seen(calls, answers, ephemeral)


async def test_the_announcement_says_only_that_a_private_incident_exists(world: World) -> None:
    row = await resolve(world, await declare_private(world))
    announced = world.slack.messages(world.incidents_channel)
    assert [m.text for m in announced] == ["INC-1: a private incident (resolved)"]
    assert MARK not in seen([(m.text, m.blocks) for m in announced])
    to_announcements = [
        c.args for c in world.slack.calls() if c.args.get("channel") == world.incidents_channel
    ]
    assert to_announcements and MARK not in seen(to_announcements)
    assert MARK in seen([m.text for m in world.slack.messages(row.channel_id)])  # it is there


async def test_a_non_participant_s_app_home(world: World) -> None:
    await declare_private(world)
    await world.requester.event({"type": "app_home_opened", "user": DAVE, "tab": "home"})
    home = await eventually(lambda: world.slack.home(DAVE))
    assert "inc-1: a private incident (investigating)" in seen(home.payload)
    assert MARK not in seen(home.payload)


async def test_incident_list(world: World) -> None:
    await declare_private(world)
    listing = await world.listing(DAVE)
    assert listing.json()["text"] == "• INC-1: a private incident (investigating)"
    assert MARK in seen((await world.listing(ALICE)).json())  # a participant


async def test_incident_stats_in_slack(world: World) -> None:
    await resolve(world, await declare_private(world))
    since = len(world.slack.calls())
    for user in (DAVE, ALICE):  # not even its participants see it named in the stats
        answer = await world.requester.answer(
            "/incident", "stats", user_id=user, channel_id=world.elsewhere
        )
        assert answer.status == 200
        assert "1 of them private (counted here, in no breakdown)" in seen(answer.json())
        assert "*by service*\\nnone" in seen(answer.json())  # counted, under no service
        assert MARK not in seen(answer.json())
    assert MARK not in shown_outside(world.slack, "", since)


@pytest.fixture
async def resolved_private(world: World) -> World:
    await resolve(world, await declare_private(world))
    return world


def test_switchboard_stats(
    resolved_private: World,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ("SWITCHBOARD_CATALOG", "SWITCHBOARD_CONFIG", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["stats", "--json"]) == 0
    printed = capsys.readouterr().out
    found = json.loads(printed)
    assert (found["by_service"], found["private_counted"]) == ([], 1)
    assert main(["stats"]) == 0
    printed += capsys.readouterr().out
    assert MARK not in printed.lower()


async def test_owner_of_its_service(world: World) -> None:
    await declare_private(world)
    owner = await world.requester.answer(
        "/owner", "checkout", user_id=DAVE, channel_id=world.elsewhere
    )
    assert owner.status == 200 and "Checkout" in seen(owner.json()).title()
    assert MARK not in seen(owner.json())


async def test_whatever_else_a_non_participant_types(world: World) -> None:
    row = await declare_private(world)
    since = len(world.slack.calls())
    answers = []
    for text in (
        "timeline INC-1",
        "postmortem INC-1",
        "followups",
        "followups team:shop",
        f"followups <@{ALICE}|alice>",
        "status INC-1 identified",
        "update INC-1 whatever",
        "note INC-1 whatever",
        "followup INC-1 whatever",
        "list",
    ):
        answer = await world.incident(text, user=DAVE)
        assert answer.status == 200, text
        answers.append(answer.json() if answer.body else None)
    await world.settled()
    assert answers[0]["text"] == "INC-1 is private: only its participants may read its timeline."
    assert MARK not in seen(answers)
    assert MARK not in shown_outside(world.slack, row.channel_id, since)


async def test_the_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="switchboard")
    row = await declare_private(world)
    world.slack.fail("chat.postMessage", error="channel_not_found")  # failures are logged too
    await world.incident("update ZQXupdate again", channel=row.channel_id)
    await world.retry()
    await resolve(world, row)
    logged = "\n".join(caplog.text.splitlines()).lower()
    assert caplog.records  # something was logged
    assert MARK not in logged

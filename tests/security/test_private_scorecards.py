"""A private incident counts toward its services' scorecard results, but no public surface
says that an incident is the reason, names it or dates it: one test per surface (`/scorecard`
for a service and for a team, its shared copy, scorecard nags, the weekly digest, initiative
reminders). Only a participant's own `/scorecard` answer tells the rule's detail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from switchboard.bot.incidents.modals import SERVICES_SEARCH
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.jobs import Run
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, DAVE, World

MONDAY = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)  # digest day, nag and reminder time
DECLARED = MONDAY - timedelta(days=6)  # so unresolved for more than 3 days on Monday
TITLE = "ZQX payroll keys leaked"
RULE = "No SEV1/SEV2 left unresolved for more than 3 days"
# What would tell the incident: its title, the rule's title or detail, its date, its privacy
TELLING = ("zqx", RULE.lower(), "unresolved", DECLARED.date().isoformat(), "private")

SCORECARD = f"""\
scorecard: hygiene
name: Hygiene
levels: [Bronze]
rules:
  - {{id: owner, title: Has an owner, level: Bronze, check: field_present, field: owner}}
  - id: unresolved
    title: {RULE}
    level: Bronze
    check: no_unresolved_incidents
    older_than_days: 3
initiatives:
  - id: bronze
    name: Checkout reaches Bronze
    level: Bronze
    services: [checkout]
    deadline: 2026-03-09
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    (tmp_path / "hygiene.yaml").write_text(SCORECARD)
    return Config.model_validate({"scorecards": {"paths": [str(tmp_path / "hygiene.yaml")]}})


@pytest.fixture
async def dropped(world: World) -> World:
    """Checkout at Bronze a week ago; then a private SEV2 on it, still unresolved on Monday."""
    world.slack.add_channel("shop")
    world.clock.now = MONDAY - timedelta(days=8)
    await world.sb.scorecards.results.evaluate()
    world.clock.now = DECLARED
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": TITLE}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "SEV2"}}},
        "services": {
            SERVICES_SEARCH: {
                "type": "multi_external_select",
                "selected_options": [{"value": "component:default/checkout"}],
            }
        },
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    await world.settled()
    world.clock.now = MONDAY - timedelta(minutes=35)
    await world.sb.scorecards.results.evaluate()  # what the evaluation job does: the drop is stored
    world.clock.now = MONDAY
    return world


def told(*things: Any) -> list[str]:
    text = json.dumps(things, default=str).lower()
    return [word for word in TELLING if word in text]


def posted(world: World, start: str) -> Any:
    (message,) = [m for m in world.slack.messages("shop") if m.text.startswith(start)]
    return message


async def scorecard(world: World, text: str, user: str) -> dict[str, Any]:
    answer = await world.requester.answer(
        "/scorecard", text, user_id=user, channel_id=world.elsewhere
    )
    assert answer.status == 200
    result: dict[str, Any] = answer.json()
    return result


def lines(answer: dict[str, Any]) -> list[str]:
    return [
        line
        for block in answer["blocks"]
        if block["type"] == "section"
        for line in block["text"]["text"].split("\n")
    ]


async def test_a_service_s_scorecard_counts_it_and_tells_only_its_participants(
    dropped: World,
) -> None:
    public = await scorecard(dropped, "checkout", DAVE)
    assert public["text"] == "Checkout: Hygiene (50%)"  # counted: the score stays honest
    assert ":x: _1 rule not shown here_ (Bronze)" in lines(public)
    assert "*Blocks Bronze*: 1 rule not shown here" in json.dumps(public)
    assert told(public) == []

    insider = await scorecard(dropped, "checkout", ALICE)  # she declared it
    assert (
        f":x: *{RULE}* (Bronze): 1 unresolved SEV1/SEV2 incident older than 3 days, the oldest "
        f"declared {DECLARED.date()} (including a private incident)"
    ) in lines(insider)


async def test_its_shared_copy_tells_nothing(dropped: World) -> None:
    insider = await scorecard(dropped, "checkout", ALICE)
    share = insider["blocks"][-1]["elements"][0]
    url = dropped.slack.new_response_url(channel_id=dropped.elsewhere, user_id=ALICE)
    message = {"type": "message", "ts": "1700000000.000100", **insider}
    await dropped.requester.block_actions(
        [share], user_id=ALICE, channel_id=dropped.elsewhere, message=message, response_url=url
    )
    # The copy for the channel, then the note that replaces Alice's private one.
    copy, note = await eventually(
        lambda: (posts := dropped.slack.response_posts(url))[1:] and posts
    )
    assert (copy["response_type"], note["replace_original"]) == ("in_channel", True)
    assert ":x: _1 rule not shown here_ (Bronze)" in lines(copy)
    assert told(copy) == []


async def test_a_team_s_scorecard(dropped: World) -> None:
    for user in (DAVE, ALICE):
        answer = await scorecard(dropped, "team:shop", user)
        assert "• *Checkout*: none yet · 50% · 1 blocking Bronze" in "\n".join(lines(answer))
        assert told(answer) == []


async def test_the_scorecard_nag(dropped: World) -> None:
    assert "1 sent" in await dropped.sb.teams.scorecard_nags.run(Run())
    nag = posted(dropped, ":chart_with_downwards_trend:")
    assert nag.blocks[1]["text"]["text"] == (
        "*Checkout* · Hygiene: Bronze → *no level*\nTo fix:\n• 1 rule not shown here"
    )
    assert told(nag.text, nag.blocks) == []


async def test_the_weekly_digest(dropped: World) -> None:
    assert "1 sent" in await dropped.sb.teams.digest.run(Run(team="shop"))
    digest = posted(dropped, "Weekly digest")
    sections = [b["text"]["text"] for b in digest.blocks if b["type"] == "section"]
    scored = "\n".join(sections[: sections.index("*Follow-ups*")])
    assert ":warning: Checkout (Hygiene): dropped from Bronze to no level" in scored
    assert "• 1 rule not shown here (failing, counted in the levels)" in scored
    assert told(scored) == []
    # the incidents section counts it, as every public surface may, and names nothing
    assert "1 private incident (not named here)" in sections
    assert told([s for s in sections if s != "1 private incident (not named here)"]) == []


async def test_the_initiative_reminder(dropped: World) -> None:
    assert "1 sent" in await dropped.sb.teams.initiative_reminders.run(Run())
    reminder = posted(dropped, ":hourglass_flowing_sand:")
    assert reminder.blocks[1]["text"]["text"] == "• *Checkout* needs 1 rule not shown here"
    assert told(reminder.text, reminder.blocks) == []

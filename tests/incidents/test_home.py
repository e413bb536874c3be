"""The App Home tab: a Declare button that opens the declare modal of `/incident declare`,
and the viewer's own open follow-ups with their incident and due date (those of private
incidents only to their participants)."""

from __future__ import annotations

from typing import Any

from switchboard.bot.home import DECLARE_ACTION
from switchboard.bot.incidents.modals import DECLARE
from tests.incidents.conftest import ALICE, BOB, DAVE, World, eventually
from tests.security.test_private import declare_private


async def home_of(world: World, user: str) -> Any:
    before = world.slack.home(user)
    await world.requester.event({"type": "app_home_opened", "user": user, "tab": "home"})
    return await eventually(lambda: (h := world.slack.home(user)) is not before and h)


def section(home: Any, title: str) -> str:
    blocks = home.payload["blocks"]
    at = next(
        i for i, b in enumerate(blocks) if b["type"] == "header" and b["text"]["text"] == title
    )
    text: str = blocks[at + 1]["text"]["text"]
    return text


async def test_the_declare_button_opens_the_declare_modal_which_declares(world: World) -> None:
    home = await home_of(world, ALICE)
    button = home.payload["blocks"][1]["accessory"]
    assert (button["action_id"], button["text"]["text"]) == (DECLARE_ACTION, "Declare an incident")
    clicked = await world.requester.block_actions([button], user_id=ALICE, view=home.id)
    assert clicked.status == 200
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    view = opened.response["view"]
    assert view["callback_id"] == DECLARE
    values = {"title": {"value": {"type": "plain_text_input", "value": "Checkout is down"}}}
    submitted = await world.requester.view_submission(view["id"], user_id=ALICE, values=values)
    assert submitted.status == 200
    row = await world.settled()
    assert row.title == "Checkout is down" and row.declared_by == ALICE


async def test_the_viewer_s_own_open_followups(world: World) -> None:
    await world.incident("declare sev2 service:checkout Checkout errors")
    row = await world.settled()
    for text in (f"Add a breaker <@{ALICE}|alice> due:2030-01-31", f"Page less <@{BOB}|bob>"):
        added = await world.incident(f"followup {text}", channel=row.channel_id)
        assert added.status == 200
    assert section(await home_of(world, ALICE), "Your open follow-ups") == (
        "• Add a breaker (INC-1, due 2030-01-31)"
    )
    assert section(await home_of(world, BOB), "Your open follow-ups") == (
        "• Page less (INC-1, no due date)"
    )
    assert section(await home_of(world, DAVE), "Your open follow-ups") == "None."


async def test_a_private_incident_s_followups_only_to_its_participants(world: World) -> None:
    row = await declare_private(world)  # by Alice, with a follow-up of team Shop's
    added = await world.incident(f"followup ZQX rotate <@{ALICE}|alice>", channel=row.channel_id)
    assert added.status == 200
    assert section(await home_of(world, ALICE), "Your open follow-ups").startswith(
        "• ZQX rotate (INC-1"
    )
    assert "zqx" not in str((await home_of(world, DAVE)).payload).lower()

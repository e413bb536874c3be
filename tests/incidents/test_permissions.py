"""Who may do what, as configured: refusals are ephemeral and change nothing."""

from __future__ import annotations

import pytest

from switchboard.bot.platform.config import Config, IncidentsConfig
from switchboard.fakes.slack.server import FakeSlack
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, CAROL, DAVE, World


@pytest.fixture
def config(slack: FakeSlack) -> Config:
    responders = slack.add_usergroup("responders", [DAVE])
    declarers = slack.add_usergroup("declarers", [ALICE, BOB, DAVE])
    return Config(
        incidents=IncidentsConfig(
            declare_group=declarers, responders_group=responders, private_in_public="hide"
        )
    )


async def test_only_the_declare_group_declares(world: World, config: Config) -> None:
    url = world.slack.new_response_url(channel_id=world.elsewhere, user_id=CAROL)
    await world.requester.slash_command(
        "/incident", "declare Outage", user_id=CAROL, channel_id=world.elsewhere, response_url=url
    )
    (told,) = await eventually(lambda: world.slack.response_posts(url))
    group = config.incidents.declare_group
    assert told["text"] == f"Only members of <!subteam^{group}> may declare incidents here."
    assert await world.sb.incidents.service.view(1) is None


async def test_the_responders_group_may_close(world: World) -> None:
    await world.incident("declare Outage", user=BOB)
    row = await world.settled()
    refused = await world.incident("close", user=ALICE, channel=row.channel_id)
    assert refused.json()["text"].startswith("Only the commander or <!subteam^")
    await world.incident("close", user=DAVE, channel=row.channel_id)
    assert (await world.settled()).status == "closed"


async def test_hidden_private_incidents_are_not_announced(world: World) -> None:
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Secret"}},
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    await world.settled()
    assert world.slack.messages(world.incidents_channel) == []
    assert (await world.listing(CAROL)).json()["text"] == "No open incidents."


def test_bad_incident_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match=r"channel_name\n  Value error, must contain \{number\}"):
        IncidentsConfig(channel_name="inc-{slug}")
    with pytest.raises(ValueError, match="exactly one status must have milestone: resolved"):
        IncidentsConfig(statuses=({"name": "open"}, {"name": "done"}))  # type: ignore[arg-type]

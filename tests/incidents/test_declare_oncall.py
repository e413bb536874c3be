"""`/incident declare`: whoever is on call now for the affected service (the stored
`oncall.now` of the live facts) is invited to the incident's channel, besides the page, and
the channel is told who they are, service by service."""

from __future__ import annotations

from pathlib import Path

from switchboard.bot.facts.people import person
from switchboard.storage.facts_store import Observation
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, CAROL, DAVE, World

CHECKOUT = "component:default/checkout"


async def test_the_on_call_now_is_invited_besides_being_paged(world: World) -> None:
    on_call = [person(user_id=DAVE, email="dave@example.com", name="Dave", end="")]
    await world.sb.facts.live.store.record(
        "pagerduty", [Observation(CHECKOUT, "oncall.now", on_call, world.clock())], world.clock()
    )
    await world.incident("declare sev2 service:checkout Checkout is slow")
    row = await world.settled()
    members = set(world.slack.channel(row.channel_id).members)
    assert {ALICE, BOB, DAVE} <= members  # the declarer, the team, and Dave on call
    assert CAROL not in members
    (paged,) = world.pagerduty.incidents.values()
    assert paged.status == "triggered"


async def test_nobody_more_is_invited_without_a_stored_on_call(world: World) -> None:
    await world.incident("declare sev2 service:checkout Checkout is slow")
    row = await world.settled()
    assert DAVE not in set(world.slack.channel(row.channel_id).members)


async def on_call_now(world: World, entity: str, *people: dict[str, str]) -> None:
    """Store who PagerDuty says is on call now for `entity`, as its refresh does."""
    facts = [Observation(entity, "oncall.now", list(people), world.clock())]
    await world.sb.facts.live.store.record("pagerduty", facts, world.clock())


def dave() -> dict[str, str]:
    return person(user_id=DAVE, email="dave@example.com", name="Dave", end="")


async def test_the_channel_names_who_is_on_call_for_each_service(world: World) -> None:
    await on_call_now(world, CHECKOUT, dave(), person(user_id=CAROL, name="Carol", level=2))
    # Search has no stored on-call: it gets no line.
    await world.incident("declare sev2 service:checkout service:search Checkout is slow")
    row = await world.settled()
    said = [t for t in world.texts(row.channel_id) if t.startswith("On call now")]
    assert said == [f"On call now, invited to this channel:\n• *Checkout*: <@{DAVE}>, <@{CAROL}>"]
    assert {DAVE, CAROL} <= set(world.slack.channel(row.channel_id).members)
    texts = world.texts(row.channel_id)  # said once the invitations went out, before the pages
    assert texts.index(said[0]) < next(i for i, t in enumerate(texts) if t.startswith("Paged"))
    assert not any("On call now" in t for t in world.texts(world.incidents_channel))


async def test_nothing_is_said_of_on_call_without_a_stored_one(world: World) -> None:
    await world.incident("declare sev2 service:checkout Checkout is slow")
    row = await world.settled()
    assert not [t for t in world.texts(row.channel_id) if "On call now" in t]


async def test_a_crafted_on_call_or_name_is_never_a_mention(world: World, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        catalog.read_text().replace("name: Checkout", 'name: "Check <!channel> & out"')
    )
    await world.sb.catalog.sync()
    await on_call_now(world, CHECKOUT, dave(), person(user_id="U0001EVE> <!channel", name="Eve"))
    await world.incident("declare sev2 service:checkout Checkout is slow")
    row = await world.settled()
    said = [t for t in world.texts(row.channel_id) if t.startswith("On call now")]
    assert said == [
        f"On call now, invited to this channel:\n• *Check &lt;!channel&gt; &amp; out*: <@{DAVE}>"
    ]


async def test_a_private_incident_names_its_on_call_in_its_channel_only(world: World) -> None:
    await on_call_now(world, CHECKOUT, dave())
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Card data exposed"}},
        "services": {
            "incident_services": {
                "type": "multi_external_select",
                "selected_options": [{"value": CHECKOUT}],
            }
        },
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    row = await world.settled()
    channel = world.slack.channel(row.channel_id)
    assert channel.is_private and DAVE in channel.members
    assert f"• *Checkout*: <@{DAVE}>" in " ".join(world.texts(row.channel_id))
    elsewhere = [
        m
        for c in world.slack.channels.values()
        if c.id != row.channel_id
        for m in c.messages.values()
    ]
    assert elsewhere and not [m for m in elsewhere if DAVE in f"{m.text}{m.blocks}"]
    assert not [m for m in elsewhere if "Checkout" in f"{m.text}{m.blocks}"]


async def test_after_a_catalog_import_a_declare_brings_in_the_new_owners(
    world: World, tmp_path: Path
) -> None:
    """Who owns a service is kept between declares, until the catalog changes."""
    await world.incident("declare sev2 service:checkout First")
    await world.settled(1)
    catalog = tmp_path / "catalog.yaml"
    text = catalog.read_text().replace("members: [alice, bob]", "members: [alice, bob, carol]")
    catalog.write_text(
        text.replace("people:\n", f"people:\n  - {{id: carol, name: Carol, slack_id: {CAROL}}}\n")
    )
    await world.sb.catalog.sync()
    await world.incident("declare sev2 service:checkout Second")
    row = await world.settled(2)
    assert CAROL in world.slack.channel(row.channel_id).members
    assert CAROL not in world.slack.channel((await world.settled(1)).channel_id).members

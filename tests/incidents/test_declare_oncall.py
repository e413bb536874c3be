"""`/incident declare`: whoever is on call now for the affected service (the stored
`oncall.now` of the live facts) is invited to the incident's channel, besides the page."""

from __future__ import annotations

from pathlib import Path

from switchboard.bot.facts.people import person
from switchboard.storage.facts_store import Observation
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

"""The demo without a browser: the emulator sends the bot Slack's own requests and shows
people what Slack would; the page's JSON API; what the bot subscribes to."""

from __future__ import annotations

import aiohttp

from switchboard import handlers
from switchboard.bot.catalog.reader import ServiceAnswer
from switchboard.demo import emulator
from switchboard.demo.run import Demo
from switchboard.fakes.slack import FakeSlack
from switchboard.storage import db, timeline_store
from tests.conftest import eventually
from tests.demo.conftest import ALICE, BOB
from tests.incidents.conftest import eventually_async


def test_the_emulator_sends_what_the_bot_subscribes_to() -> None:
    assert set(emulator.COMMANDS) == set(handlers.COMMANDS)
    assert {"reaction_added", "reaction_removed", "app_home_opened"} <= set(handlers.EVENTS)
    assert {"message.channels", "message.groups"} <= set(handlers.EVENTS)


async def test_catalog_people_channels_and_groups_are_seeded(demo: Demo) -> None:
    fake = demo.fake
    assert fake.users[ALICE].real_name == "Alice Ahmed"
    assert {"general", "incidents", "payments", "platform", "storefront"} <= {
        c.name for c in fake.channels.values()
    }
    assert set(fake.usergroups["S0001PAY"].users) == {ALICE, BOB}
    assert ALICE in fake.channel("payments").members


async def test_a_reaction_in_an_incident_channel_reaches_the_timeline(demo: Demo) -> None:
    general = demo.fake.channel("general").id
    await demo.emulator.command(ALICE, general, "/incident declare sev2 Checkout is down")
    channel = await eventually(
        lambda: next(
            (c for c in demo.fake.channels.values() if c.name.endswith("checkout-is-down")), None
        )
    )

    async def stored() -> bool:  # the channel is the incident's once its id is stored
        view = await demo.switchboard.incidents.service.view(1)
        return view is not None and view.incident.channel_id == channel.id

    await eventually_async(stored)
    ts = await demo.emulator.post(BOB, channel.id, "Rolled back <the> deploy & waiting")
    # Bob's message by its ts: the bot may still be posting the card after it.
    assert channel.message(ts).text == "Rolled back &lt;the&gt; deploy &amp; waiting"
    await demo.emulator.react(BOB, channel.id, ts, "pushpin", add=True)
    message = channel.message(ts)
    await eventually(lambda: "white_check_mark" in message.reactions)
    assert message.reactions["pushpin"] == [BOB]

    sessions = db.session_factory(demo.switchboard.core.engine)

    async def entries() -> int:
        async with sessions() as session:
            return len(await timeline_store.for_message(session, channel.id, ts))

    assert await entries() == 1
    await demo.emulator.react(BOB, channel.id, ts, "pushpin", add=False)
    assert "pushpin" not in message.reactions

    async def left() -> bool:  # the bot hears of it after Slack got its ack
        return await entries() == 0

    await eventually_async(left)  # nobody keeps it on the timeline any more


async def test_typed_names_reach_the_bot_as_slacks_references(demo: Demo) -> None:
    """Slack's client turns a typed `@bob`, `@payments` (a user group) and `#payments` into
    references; names it does not know, and e-mail addresses, stay as typed."""
    payments = demo.fake.channel("payments").id
    await demo.emulator.post(
        ALICE, payments, "@bob see #payments & ask @payments, not @nobody or bob@example.com"
    )
    assert demo.fake.messages(payments)[-1].text == (
        f"<@{BOB}> see <#{payments}|payments> &amp; ask <!subteam^S0001PAY>, "
        "not @nobody or bob@example.com"
    )
    line = emulator.mentions(demo.fake, ALICE, "@Bob #payments @payments", labels=True)
    assert line == f"<@{BOB}|bob> <#{payments}|payments> <!subteam^S0001PAY|@payments>"


async def test_the_readmes_assign_and_followup_with_typed_names(demo: Demo) -> None:
    general = demo.fake.channel("general").id
    await demo.emulator.command(ALICE, general, "/incident declare sev2 Checkout is down")

    async def channel() -> str:
        view = await demo.switchboard.incidents.service.view(1)
        return view.incident.channel_id if view else ""

    incident = await eventually_async(channel)
    await demo.emulator.command(ALICE, incident, "/incident assign commander @bob")
    await eventually(lambda: f"<@{ALICE}> made <@{BOB}> the commander." in texts(demo, incident))
    line = "/incident followup Add a circuit breaker @bob due:2026-12-01"
    await demo.emulator.command(ALICE, incident, line)
    await eventually(
        lambda: (
            f"<@{ALICE}> added a follow-up: Add a circuit breaker · owner <@{BOB}> · "
            "due 2026-12-01" in texts(demo, incident)
        )
    )
    assert not [e.text for e in demo.fake.ephemerals(incident, ALICE) if "Say who" in e.text]


async def test_the_first_incident_pages_through_the_loopback_pagers(demo: Demo) -> None:
    """The example catalog's on-call targets page the demo's PagerDuty and Opsgenie fakes:
    nobody is told that paging failed."""
    general = demo.fake.channel("general").id
    line = "/incident declare sev2 service:payments-api service:auth Card payments failing"
    await demo.emulator.command(ALICE, general, line)

    async def paged() -> list[str]:
        view = await demo.switchboard.incidents.service.view(1)
        said = texts(demo, view.incident.channel_id) if view and view.incident.channel_id else []
        notes = [t for t in said if t.startswith(("Paged", "Paging"))]  # done, or failed
        return notes if len(notes) >= 2 else []

    assert sorted(await eventually_async(paged)) == [
        "Paged the on-call of *Auth* through Opsgenie.",
        "Paged the on-call of *Payments API* through PagerDuty.",
    ]
    (page,) = demo.pagerduty.incidents.values()
    assert (page.status, page.summary) == ("triggered", "INC-1 SEV2: Card payments failing")
    (alert,) = demo.opsgenie.alerts.values()
    assert alert.message.startswith("INC-1")


async def test_unknown_commands_and_failing_actions_are_told_as_slack_tells_them(
    demo: Demo,
) -> None:
    general = demo.fake.channel("general").id
    await demo.emulator.command(ALICE, general, "/deploy now")
    assert demo.fake.ephemerals(general, ALICE)[-1].text == "`/deploy` is not a valid command."
    async with aiohttp.ClientSession() as http:
        body = {"user": ALICE, "view_id": "V404", "values": {}}
        async with http.post(demo.url + "api/submit", json=body) as response:
            assert response.status == 400
            assert (await response.json())["error"] == "That form is no longer open."


async def test_the_page_and_its_state(demo: Demo) -> None:
    general = demo.fake.channel("general").id
    await demo.emulator.command(ALICE, general, "/owner payments-api")
    await eventually(lambda: demo.fake.ephemerals(general, ALICE))  # answered after the ack
    async with aiohttp.ClientSession() as http:
        async with http.get(demo.url) as response:
            assert response.status == 200
            assert '<script src="/static/demo.js">' in await response.text()
        params = {"user": ALICE, "channel": general}
        async with http.get(demo.url + "api/state", params=params) as response:
            state = await response.json()
        params["user"] = BOB
        async with http.get(demo.url + "api/state", params=params) as response:
            bobs = await response.json()
    (answer,) = state["messages"]
    assert answer["ephemeral"] is True
    assert answer["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Payments API"},
    }
    assert bobs["messages"] == []  # only visible to Alice


def test_a_catalog_without_people_still_has_someone_at_the_keyboard() -> None:
    fake = FakeSlack()
    (person,) = emulator.seed(fake, [])
    assert person.real_name == "You"
    assert person.id in fake.channel("general").members


def texts(demo: Demo, channel: str) -> list[str]:
    return [m.text for m in demo.fake.messages(channel)]


async def test_owner_in_the_demo_shows_who_is_on_call_now(demo: Demo) -> None:
    answer = await demo.switchboard.catalog.reader.answer("payments-api")
    assert isinstance(answer, ServiceAnswer)
    assert answer.oncall_now.startswith("On call now: <@U"), answer.oncall_now
    assert "; next <@U" in answer.oncall_now


async def test_owner_in_the_demo_shows_the_services_code_health(demo: Demo) -> None:
    """Seeded repositories and SonarQube measures reach `/owner`'s health line, and the
    catalog's custom metadata the facts scorecards read."""
    answer = await demo.switchboard.catalog.reader.answer("payments-api")
    assert isinstance(answer, ServiceAnswer)
    assert answer.health.startswith(":stethoscope: "), answer.health
    assert "no open incidents" in answer.health
    assert "coverage 86.4%" in answer.health
    assert "no critical or high vulnerabilities" in answer.health
    ledger = await demo.switchboard.catalog.reader.answer("ledger")
    assert isinstance(ledger, ServiceAnswer)
    assert "coverage 61%" in ledger.health and "1 high vulnerabilities" in ledger.health
    facts = await demo.switchboard.facts.live.facts_of(["component:default/payments-api"])
    by_key = {f.key: f for f in facts}
    assert by_key["git.file:README.md"].value is True
    assert by_key["custom.ci"].value == "github-actions"

"""A burst of concurrent declares (two hundred people noticing one outage): each stored,
numbered once, none told it failed."""

from __future__ import annotations

import asyncio

from switchboard.app import Switchboard
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from tests.conftest import eventually
from tests.faults.test_kill import poll

DECLARES = 30


async def test_concurrent_declares_are_each_stored_once(
    switchboard: Switchboard, requester: SlackRequester, slack: FakeSlack
) -> None:
    slack.add_channel("incidents")
    home = slack.add_channel("general")
    users = [slack.add_user(f"user{n}") for n in range(DECLARES)]
    responses = await asyncio.gather(
        *(
            requester.slash_command(
                "/incident", f"declare Outage seen by {n}", user_id=user, channel_id=home
            )
            for n, user in enumerate(users)
        )
    )
    assert all(r.status == 200 for r in responses)

    async def stored() -> bool:
        views = [await switchboard.incidents.service.view(n) for n in range(1, DECLARES + 2)]
        return sum(v is not None for v in views) >= DECLARES

    await poll(stored, within=60)
    views = [await switchboard.incidents.service.view(n) for n in range(1, DECLARES + 2)]
    titles = sorted(v.incident.title for v in views if v is not None)
    assert titles == sorted(f"Outage seen by {n}" for n in range(DECLARES))
    told = await eventually(
        lambda: [e.text for u in users for e in slack.ephemerals(home, u) if "INC-" in e.text],
        within=60,
    )
    assert not [e.text for e in slack.ephemeral if "could not store" in e.text], told

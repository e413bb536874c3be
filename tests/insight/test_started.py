"""When the impact started: `/incident started <time>` in the configured time zone
(Europe/Berlin here, across the night the clocks go back and the one they skip an hour),
stored, on the timeline, and measured from; the declare modal's field; bad input refused
with a clear answer that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from switchboard.bot.incidents.impact_time import BadMoment, parse_moment
from switchboard.bot.insight.service import Asked
from switchboard.bot.platform.config import Config
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, DAVE, World

BERLIN = Config(timezone="Europe/Berlin").tz


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "now", "expected"),
    [
        ("14:05", "2026-12-06 15:00", "2026-12-06 13:05"),  # CET, UTC+1
        ("today 9:30", "2026-07-01 12:00", "2026-07-01 07:30"),  # CEST, UTC+2
        ("yesterday 23:40", "2026-10-25 06:00", "2026-10-24 21:40"),  # still summer time
        ("2026-10-25 02:30", "2026-10-26 00:00", "2026-10-25 00:30"),  # twice: the first
        ("2026-10-25 03:30", "2026-10-26 00:00", "2026-10-25 02:30"),  # after: winter time
        ("2026-03-29T01:59", "2026-03-30 00:00", "2026-03-29 00:59"),
    ],
)
def test_times_are_read_in_the_configured_zone(typed: str, now: str, expected: str) -> None:
    assert parse_moment(typed, BERLIN, utc(now)) == utc(expected)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("2026-03-29 02:30", "2026-03-29 02:30 does not exist in Europe/Berlin"),
        ("25:00", "Say when the impact started, in Europe/Berlin"),
        ("2026-02-30 10:00", "`2026-02-30` is not a date."),
        ("an hour ago", "Say when the impact started"),
    ],
)
def test_bad_times_are_refused(typed: str, said: str) -> None:
    with pytest.raises(BadMoment) as refused:
        parse_moment(typed, BERLIN, utc("2026-04-01 12:00"))
    assert str(refused.value).startswith(said)


@pytest.fixture
def config() -> Config:
    return Config(timezone="Europe/Berlin")


async def declared(world: World) -> Any:
    world.clock.now = utc("2026-10-25 06:00")  # 07:00 in Berlin, winter time since 03:00
    await world.incident("declare sev2 Checkout is down")
    return await world.settled()


async def test_started_is_stored_said_in_the_channel_and_measured_from(world: World) -> None:
    row = await declared(world)
    answer = (await world.incident("started 2026-10-25 02:30", channel=row.channel_id)).json()
    # 02:30 happened twice that night: the first, in summer time (UTC+2)
    assert answer == {
        "response_type": "ephemeral",
        "text": "The impact of *INC-1* started at 2026-10-25 02:30 CEST (UTC+0200).",
    }
    view = await world.sb.incidents.service.view(row.id)
    assert view is not None and view.incident.impact_started_at == utc("2026-10-25 00:30")
    line = "<@U0001ALICE> said the impact started at *2026-10-25 02:30 CEST (UTC+0200)*."
    await eventually(lambda: line in world.texts(row.channel_id))
    world.clock.advance(minutes=30)
    await world.incident("resolve", channel=row.channel_id)
    stats = await world.sb.insight.service.insight(
        await world.sb.insight.service.scope(Asked()),
        public=False,
    )
    # from 00:30 UTC to the resolve at 06:30: 6 h, not the 30 min since declared
    assert stats.response.to_resolve.median is not None
    assert stats.response.to_resolve.median.total_seconds() == 6 * 3600
    assert stats.response.from_impact == 1


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("started", "When did the impact start? For example `/incident started 14:05`."),
        ("started soon", "Say when the impact started, in Europe/Berlin"),
        ("started 08:00", "The impact cannot have started after the incident was declared."),
        ("started 2026-09-01 10:00", "That is more than 31 days before the incident was declared."),
        ("started 2026-03-29 02:15", "2026-03-29 02:15 does not exist in Europe/Berlin"),
    ],
)
async def test_bad_input_changes_nothing(world: World, typed: str, said: str) -> None:
    row = await declared(world)
    answer = (await world.incident(typed, channel=row.channel_id)).json()
    assert answer["response_type"] == "ephemeral" and answer["text"].startswith(said)
    view = await world.sb.incidents.service.view(row.id)
    assert view is not None and view.incident.impact_started_at is None


async def test_outside_an_incident_channel_and_by_an_outsider(world: World) -> None:
    answer = (await world.incident("started 05:00")).json()
    assert answer["text"].startswith("This is not an incident channel.")
    world.clock.now = utc("2026-10-25 06:00")
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Card data"}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "SEV1"}}},
        "started": {"value": {"type": "plain_text_input", "value": "yesterday 23:50"}},
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    done = await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    assert (done.status, done.body) == (200, "")
    row = await world.settled()
    # yesterday 23:50 in Berlin, summer time still: 21:50 UTC
    assert row.impact_started_at == utc("2026-10-24 21:50")
    refused = (await world.incident("started INC-1 05:00", user=DAVE)).json()
    assert (
        refused["text"]
        == "INC-1 is private: only its participants may say when its impact started."
    )


async def test_the_modal_field_is_checked(world: World) -> None:
    world.clock.now = utc("2026-10-25 06:00")
    await world.incident("declare")
    (opened,) = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Checkout"}},
        "started": {"value": {"type": "plain_text_input", "value": "tomorrow"}},
    }
    refused = await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    assert refused.json()["response_action"] == "errors"
    assert refused.json()["errors"]["started"].startswith("Say when the impact started")
    assert await world.sb.incidents.service.view(1) is None

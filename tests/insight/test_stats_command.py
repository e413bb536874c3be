"""`/incident stats` as a person sees it, on the seeded month: only to them, the private
incident counted but never named or put in a breakdown; every bad input answered, only to
whoever typed it; and `/incident stats chart`: a real PNG in the channel, once."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import pytest

from switchboard.bot.insight import chart
from tests.incidents.conftest import ALICE, World
from tests.insight.history import SECRET, seed


async def stats(world: World, text: str = "") -> dict[str, Any]:
    response = await world.requester.answer(
        "/incident", f"stats {text}".strip(), user_id=ALICE, channel_id=world.elsewhere
    )
    assert response.status == 200
    answer: dict[str, Any] = response.json()
    return answer


def sections(answer: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"]


async def test_the_answer_is_for_whoever_asked_and_names_no_private_incident(
    world: World,
) -> None:
    await seed(world)
    answer = await stats(world)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == (
        "4 incidents in the last 30 days (everyone), 1 of them private "
        "(counted here, in no breakdown)."
    )
    shown = sections(answer)
    assert shown[1] == (
        "*Response*\n"
        "to acknowledge: median 25 min, p90 40 min (over 4)\n"
        "to mitigate: median 1 h 30 min, p90 4 h (over 3)\n"
        "to resolve: median 2 h, p90 4 h (over 3)\n"
        "measured from when the impact started for 1 of 4, from when declared for the rest\n"
        "by severity: SEV1 1, SEV2 2, SEV3 1, SEV4 0"
    )
    assert shown[2] == (
        "*By service*\nCheckout: 2, median to resolve 3 h\nSearch: 1, median to resolve 4 h\n"
        "Storefront: 1"
    )
    assert shown[5].startswith(
        "*Standards against outcomes*\nReady, 28 days: SEV1/2 per service below Silver 0.82 "
        "(1 in 1.2), Silver or above 1.56 (2 in 1.3): 0.5x"
    )
    assert shown[6] == (
        "*DORA*\ndeployment frequency: 0.93 a week (medium)\n"
        "lead time for changes: median 2 h over 3 deploys (elite)\n"
        "change failure rate: 40% (2 of 5) (low)\ntime to restore: median 3 h (high)"
    )
    assert shown[7] == (
        "*Follow-through*\nfollow-ups due: 4; done on time 1, late 1 (33% on time)\n"
        "overdue now: 1; won't do: 1\nrepeat incidents: 2 (Checkout)"
    )
    said = json.dumps(answer)
    assert SECRET not in said and "INC-4" not in said


async def test_a_service_a_team_and_a_severity(world: World) -> None:
    await seed(world)
    answer = await stats(world, "team:shop sev:sev2 60")
    # INC-1 (20 Sep) and INC-3 are the shop's public SEV2s in 60 days; the private one is not
    # counted when a team is asked for
    assert answer["text"] == "2 incidents in the last 60 days (team Shop, SEV2 only)."
    assert "median to resolve" in sections(answer)[2]
    one = await stats(world, "service:storefront")
    assert one["text"] == "1 incident in the last 30 days (service Storefront)."


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("0", "Look back 1 to 3660 days."),
        ("99999", "Look back 1 to 3660 days."),
        ("lately", "I don't understand `lately`."),
        ("sev:sev9", "`sev9` is not a severity. Choose one of `SEV1`, `SEV2`, `SEV3`, `SEV4`."),
        ("service:nope", "No service called `nope`."),
        ("team:nobody", "No team called `nobody`."),
        ("service:checkout team:shop", "Ask for a service or a team, not both."),
        ("<!channel>", "I don't understand `&lt;!channel&gt;`."),
        ("chart 0", "Look back 1 to 3660 days."),
    ],
)
async def test_bad_input_is_answered_to_whoever_typed_it(
    world: World, text: str, said: str
) -> None:
    since = len(world.slack.calls())
    answer = await stats(world, text)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(said)
    assert not [c for c in world.slack.calls()[since:] if c.method.startswith("files.")]


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height in a PNG's IHDR chunk, its CRC checked."""
    assert chart.is_png(data)
    length, kind = struct.unpack(">I4s", data[8:16])
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert kind == b"IHDR" and zlib.crc32(kind + body) == crc
    width, height = struct.unpack(">II", body[:8])
    return width, height


async def chart_command(world: World, channel: str) -> tuple[str, str]:
    """`/incident stats chart` in `channel`: (the ack's text, the answer after it)."""
    url = world.requester._response_url(channel, ALICE)
    ack = await world.requester.slash_command(
        "/incident", "stats chart", user_id=ALICE, channel_id=channel, response_url=url
    )
    reply = await world.slack.first_response(url, 10)
    return ack.json()["text"], reply["text"]


async def test_the_chart_is_a_png_in_the_channel_once(world: World) -> None:
    await seed(world)
    assert await chart_command(world, world.elsewhere) == (
        "Drawing the chart…",
        "The chart is in this channel.",
    )
    (file,) = world.slack.files.values()
    assert file.channels == [world.elsewhere]
    assert png_size(file.content or b"") == (800, 360)
    # the numbers in words: 12 weeks to 2 Nov, the three public incidents by week
    assert "week of 2026-10-19: 1 SEV1, median 2 h to resolve" in file.alt_txt
    assert "week of 2026-10-26: 1 SEV2, median 4 h to resolve" in file.alt_txt
    assert "week of 2026-11-02: 1 SEV3" in file.alt_txt
    assert SECRET not in file.alt_txt
    (message,) = [m for m in world.slack.messages(world.elsewhere) if m.extra.get("files")]
    assert "Public incidents only" in message.text


async def test_no_chart_without_incidents_and_slack_refusals_said(world: World) -> None:
    assert (await chart_command(world, world.elsewhere))[1] == (
        "No public incidents in the last 12 weeks (everyone): no chart."
    )
    await seed(world)
    outside = world.slack.add_channel("outside", members=[ALICE], bot_member=False)
    assert (await chart_command(world, outside))[1] == (
        "Slack did not take the chart (not_in_channel). Invite me to this channel first."
    )
    assert not [f for f in world.slack.files.values() if f.channels]
    # the refused upload gave its claim back: once the bot is invited, it is shared
    world.slack.channels[outside].members.append(world.slack.team.bot_user_id)
    assert (await chart_command(world, outside))[1] == "The chart is in this channel."

"""Exactly-once fan-out through the ledger: claims, sends, takeovers of stale claims (with a
look in the channel first), 429s, pacing per channel and for the workspace."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from switchboard.app import Switchboard
from switchboard.bot.platform.config import DeliveryConfig
from switchboard.bot.platform.delivery import EVENT_TYPE, Delivery, Key, Outgoing, Pacer
from switchboard.fakes.slack.server import FakeSlack
from switchboard.storage import db, delivery_store
from switchboard.storage.delivery_store import Claim

FAST = DeliveryConfig(posts_per_minute=6000, lease_seconds=60)


def delivery(sb: Switchboard, config: DeliveryConfig = FAST) -> Delivery:
    return Delivery(
        db.session_factory(sb.core.engine), sb.core.gateway, config, lambda: datetime.now(UTC)
    )


def messages(channels: list[str], kind: str = "test", period: str = "2026-01-05") -> list[Outgoing]:
    return [Outgoing(Key(kind, c, period), c, f"hello {c}") for c in channels]


def keys_posted(slack: FakeSlack, channels: list[str]) -> Counter[str]:
    """How many times each ledger key was posted, from the messages' metadata."""
    return Counter(
        m.extra["metadata"]["event_payload"]["key"]
        for channel in channels
        for m in slack.messages(channel)
        if m.extra.get("metadata", {}).get("event_type") == EVENT_TYPE
    )


def team_channels(slack: FakeSlack, n: int) -> list[str]:
    return [slack.add_channel(f"team-{i}") for i in range(n)]


async def test_two_deliveries_at_once_send_each_message_once(
    switchboard: Switchboard, slack: FakeSlack
) -> None:
    channels = team_channels(slack, 12)
    first, second = delivery(switchboard), delivery(switchboard)
    reports = await asyncio.gather(
        first.deliver(messages(channels)), second.deliver(messages(channels))
    )
    assert sum(len(r.sent) for r in reports) == 12
    assert sum(len(r.taken) for r in reports) == 12
    assert set(keys_posted(slack, channels).values()) == {1}
    again = await delivery(switchboard).deliver(messages(channels))  # a later run
    assert (len(again.sent), len(again.taken)) == (0, 12)


async def test_a_stale_claim_is_checked_in_slack_before_it_is_sent_again(
    switchboard: Switchboard, slack: FakeSlack
) -> None:
    """What a process killed between its post and marking it sent leaves behind."""
    posted, lost, fresh = team_channels(slack, 3)
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    sessions = db.session_factory(switchboard.core.engine)
    for channel in (posted, lost, fresh):
        async with sessions() as session:
            key = Key("test", channel, "2026-01-05")
            at = datetime.now(UTC) if channel == fresh else long_ago
            claimed = await delivery_store.claim(session, key, channel, at, at)
            assert claimed.outcome is Claim.NEW
            await session.commit()
    # The dead process did post to `posted` (its metadata carries the key), not to `lost`.
    await switchboard.core.gateway.post(
        posted,
        "hello",
        None,
        {"event_type": EVENT_TYPE, "event_payload": {"key": f"test/{posted}/2026-01-05"}},
    )
    report = await delivery(switchboard).deliver(messages([posted, lost, fresh]))
    assert [k.subject for k in report.recovered] == [posted]
    assert [k.subject for k in report.sent] == [lost]
    assert [k.subject for k in report.taken] == [fresh]  # a live claim: someone is sending it
    assert keys_posted(slack, [posted, lost, fresh]) == {
        f"test/{posted}/2026-01-05": 1,
        f"test/{lost}/2026-01-05": 1,
    }


async def test_429s_in_the_middle_of_a_fan_out_drop_and_double_nothing(
    switchboard: Switchboard, slack: FakeSlack
) -> None:
    channels = team_channels(slack, 10)
    slack.fail("chat.postMessage", ratelimit_retry_after=1, times=4)
    slack.fail("chat.postMessage", status=503)
    report = await delivery(switchboard).deliver(messages(channels))
    assert len(report.sent) == 10 and not report.failed
    assert set(keys_posted(slack, channels).values()) == {1}
    assert sum(c.status == 429 for c in slack.calls("chat.postMessage")) == 4


async def test_posts_to_one_channel_are_paced_and_kept_in_order(
    switchboard: Switchboard, slack: FakeSlack
) -> None:
    slack.limit_channel_posts(1.0)
    busy, *others = team_channels(slack, 3)
    batch = [Outgoing(Key("test", f"part-{i}", "p"), busy, f"part {i}") for i in range(4)]
    report = await delivery(switchboard).deliver(batch + messages(others))
    assert len(report.sent) == 6
    posted = slack.messages(busy)
    assert [m.text for m in posted] == [f"part {i}" for i in range(4)]
    gaps = [Decimal(b.ts) - Decimal(a.ts) for a, b in itertools.pairwise(posted)]
    assert all(gap >= Decimal("0.99") for gap in gaps), gaps
    assert all(c.status == 200 for c in slack.calls("chat.postMessage"))  # no 429 needed
    # The other channels did not wait behind the busy one.
    first_other = min(Decimal(slack.messages(c)[0].ts) for c in others)
    assert first_other - Decimal(posted[0].ts) < Decimal("0.5")


async def test_a_failed_send_gives_its_claim_back(
    switchboard: Switchboard, slack: FakeSlack
) -> None:
    report = await delivery(switchboard).deliver(messages(["#nowhere"]))
    assert [(k.subject, error) for k, error in report.failed] == [("#nowhere", "channel_not_found")]
    slack.add_channel("nowhere")
    report = await delivery(switchboard).deliver(messages(["#nowhere"]))
    assert [k.subject for k in report.sent] == ["#nowhere"]


async def test_the_pacer_spaces_posts_per_channel_and_overall() -> None:
    pacer = Pacer(per_minute=600, channel_interval=0.3)  # 0.1 s apart in all
    loop = asyncio.get_running_loop()
    start = loop.time()
    times: dict[str, list[float]] = {}

    async def post(channel: str, count: int) -> None:
        for _ in range(count):
            await pacer.wait(channel)
            times.setdefault(channel, []).append(loop.time() - start)

    await asyncio.gather(post("C1", 3), post("C2", 1), post("C3", 1))
    assert times["C1"] == pytest.approx([0.0, 0.3, 0.6], abs=0.05)
    assert sorted(times["C2"] + times["C3"]) == pytest.approx([0.1, 0.2], abs=0.05)


async def test_a_channel_s_next_post_waits_an_interval_from_the_end_of_the_last() -> None:
    """Slack spaces a channel's posts as they arrive. A post released at 0 that took 0.5 s to
    get there (a slow ledger claim, a loaded loop) must not be followed by one released at
    the interval after its release, which arrived 0.6 s behind it and got a 429 under load."""
    now = [0.0]
    pacer = Pacer(per_minute=600, channel_interval=1.1, clock=lambda: now[0])
    await pacer.wait("C1")
    now[0] = 0.5  # the post is over
    pacer.posted("C1")
    now[0] = 1.1  # an interval after the release, 0.6 s after the post
    next_post = asyncio.create_task(pacer.wait("C1"))
    await asyncio.sleep(0)
    assert not next_post.done()  # it waits until 1.6
    next_post.cancel()


async def test_after_a_stall_the_pacer_catches_up_without_bunching() -> None:
    """A loop busy for half a second owes five posts; they are made up for at most
    CATCH_UP at once, never all together (which would empty Slack's bucket)."""
    pacer = Pacer(per_minute=600, channel_interval=0.0)  # 0.1 s apart
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def post(channel: str) -> None:
        await pacer.wait(channel)
        times.append(loop.time())

    tasks = [asyncio.create_task(post(f"C{i}")) for i in range(10)]
    await asyncio.sleep(0.05)
    time.sleep(0.5)  # the event loop stalls  # noqa: ASYNC251
    await asyncio.gather(*tasks)
    assert len(times) == 10
    most_at_once = max(sum(1 for u in times if t <= u < t + 0.05) for t in times)
    assert 1 < most_at_once <= Pacer.CATCH_UP

"""Timeline capture under a burst of reactions, against a bare Bolt app.

2,000 messages in one incident channel each get a `reaction_added` (pushpin) event; 10% of
the events are delivered a second time, as Slack's retries are (same event_id,
X-Slack-Retry-Num: 1). They are sent as fast as the app accepts them (a fixed number of
concurrent senders), and each ack is timed. Afterwards every message must be on the
timeline exactly once. The same events are sent to a bare Bolt app with a no-op
reaction_added listener in the same run; its ack p50/p99 are printed beside ours.
Aim: ack p99 within 1.3x of bare Bolt's.

    python bench/reactions.py [--messages 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from harness import SECRET, percentile, serve, settings
from slack_bolt.async_app import AsyncApp

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.slack_gateway import make_client
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.storage import timeline_store

USERS = ("U0READER1", "U0READER2", "U0READER3")
Delivery = tuple[dict[str, Any], str, int | None]  # event, event_id, retry number


def bare_bolt(slack: FakeSlack) -> web.Application:
    app = AsyncApp(client=make_client("xoxb-bench", slack.base_url), signing_secret=SECRET)

    async def reaction_added(event: dict[str, Any]) -> None:
        return None

    app.event("reaction_added")(reaction_added)
    return app.web_app(path="/slack/events")


def deliveries(channel: str, stamps: Sequence[str], rng: random.Random) -> list[Delivery]:
    events = [
        (
            {
                "type": "reaction_added",
                "user": rng.choice(USERS),
                "reaction": "pushpin",
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": ts,
            },
            f"Ev0BENCH{n:06d}",
            None,
        )
        for n, ts in enumerate(stamps)
    ]
    retries: list[Delivery] = [(e, i, 1) for e, i, _ in rng.sample(events, len(events) // 10)]
    sent = events + retries
    rng.shuffle(sent)
    return sent


async def blast(requester: SlackRequester, sent: list[Delivery], concurrency: int) -> list[float]:
    """Send every delivery with `concurrency` senders; the ack time of each."""
    queue = list(reversed(sent))
    acks: list[float] = []

    async def sender() -> None:
        while queue:
            event, event_id, retry = queue.pop()
            started = time.perf_counter()
            response = await requester.event(event, event_id=event_id, retry_num=retry)
            acks.append(time.perf_counter() - started)
            assert response.status == 200, response.body

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return acks


async def captured(sb: Switchboard, expected: int, within: float = 300) -> list[str]:
    """Message timestamps on the timeline, once all `expected` are there (or time is up)."""
    deadline = time.monotonic() + within
    while True:
        async with (
            sb.catalog.reader._sessions() as session
        ):  # a bench may read the database directly
            entries = await timeline_store.entries(session, 1)
        if len(entries) >= expected or time.monotonic() > deadline:
            return [e.message_ts or "" for e in entries]
        await asyncio.sleep(0.2)


async def run(messages: int, concurrency: int, folder: Path) -> None:
    rng = random.Random(11)
    async with FakeSlack() as slack:
        for user in USERS:
            slack.add_user(user.lower(), user_id=user)
        slack.add_channel("incidents")
        sb = build(settings(slack, folder), Config())
        await prepare(sb)
        ours, ours_url = await serve(sb.web)
        bare, bare_url = await serve(bare_bolt(slack))
        async with (
            SlackRequester(ours_url, SECRET, fake=slack) as us,
            SlackRequester(bare_url, SECRET, fake=slack) as them,
        ):
            await us.slash_command(
                "/incident",
                "declare Bench",
                user_id=USERS[0],
                channel_id=slack.add_channel("bench"),
            )
            channel = await incident_channel(sb)
            stamps = [
                slack.add_message(channel, f"step {n}", user=USERS[n % 3]) for n in range(messages)
            ]
            sent = deliveries(channel, stamps, rng)
            bare_acks = await blast(them, sent, concurrency)
            started = time.perf_counter()
            our_acks = await blast(us, sent, concurrency)
            sending = time.perf_counter() - started
            found = await captured(sb, messages)
            drained = time.perf_counter() - started
        await ours.cleanup()
        await bare.cleanup()
        await sb.close()
    report(our_acks, bare_acks, found, stamps, len(sent), sending, drained)


async def incident_channel(sb: Switchboard) -> str:
    while True:
        view = await sb.incidents.service.view(1)
        if view is not None and view.incident.channel_id:
            return view.incident.channel_id
        await asyncio.sleep(0.05)


def report(
    ours: list[float],
    bare: list[float],
    found: list[str],
    stamps: list[str],
    sent: int,
    sending: float,
    drained: float,
) -> None:
    def p(samples: list[float], q: int) -> float:
        return percentile(samples, q) * 1000

    once = len(found) == len(set(found)) == len(stamps) and set(found) == set(stamps)
    print(
        f"reactions: {len(stamps)} messages, {sent} deliveries (10% retried), "
        f"{sent / sending:.0f} events/s accepted"
    )
    print(
        f"  every message captured exactly once: {once} ({len(found)} entries, "
        f"{len(set(found))} distinct), all captured {drained:.1f} s after the first event"
    )
    print(f"  ack switchboard   p50 {p(ours, 50):6.2f} ms   p99 {p(ours, 99):6.2f} ms")
    print(f"  ack bare Bolt     p50 {p(bare, 50):6.2f} ms   p99 {p(bare, 99):6.2f} ms")
    print(
        f"  ack ratio: p50 {p(ours, 50) / p(bare, 50):.2f}x, p99 {p(ours, 99) / p(bare, 99):.2f}x"
        " (aim <= 1.3x)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args.messages, args.concurrency, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Digest fan-out through the Slack fake's rate limits, against the floor those limits allow.

1,000 team channels each get one digest through `bot/delivery.py` (ledger claim, post,
mark sent). The fake enforces Slack's ~1 post a second per channel and a workspace-wide cap
on chat.postMessage, and answers some posts with a 429 and Retry-After in the middle of the
run. Afterwards every channel must hold its digest exactly once, and a second run must send
nothing. The total time is printed beside the floor the limits allow: the workspace cap
spreads N posts over (N - 1) / rate seconds, and a channel's k posts over (k - 1) seconds.
Aim: within 1.1x.

The digest text is a placeholder per team until scorecard digests exist.

    python bench/digest.py [--teams 1000] [--rate 100] [--faults 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from harness import settings

from switchboard.app import build, prepare
from switchboard.bot.config import Config, DeliveryConfig
from switchboard.bot.delivery import EVENT_TYPE, Key, Outgoing, Report
from switchboard.fakes.slack.server import FakeSlack

CHANNEL_INTERVAL = 1.1  # our pace per channel; the fake allows 1 a second
FAKE_BURST = 10  # the fake's workspace bucket: Slack tolerates short bursts too


async def inject_429s(slack: FakeSlack, count: int, every: float) -> None:
    """One 429 (Retry-After: 1) every `every` seconds, to posts in the middle of the run."""
    for _ in range(count):
        await asyncio.sleep(every)
        slack.fail("chat.postMessage", ratelimit_retry_after=1)


def delivered(slack: FakeSlack, channels: list[str]) -> Counter[str]:
    return Counter(
        m.extra["metadata"]["event_payload"]["key"]
        for channel in channels
        for m in slack.messages(channel)
        if m.extra.get("metadata", {}).get("event_type") == EVENT_TYPE
    )


async def run(teams: int, rate: float, faults: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        async with FakeSlack() as slack:
            slack.limit_channel_posts(1.0)
            slack.limit("chat.postMessage", per_minute=rate * 60, burst=FAKE_BURST)
            channels = [slack.add_channel(f"team-{i}") for i in range(teams)]
            pacing = DeliveryConfig(
                posts_per_minute=int(rate * 60), channel_interval_seconds=CHANNEL_INTERVAL
            )
            sb = build(settings(slack, Path(folder)), Config(delivery=pacing))
            await prepare(sb)
            digests = [
                Outgoing(
                    Key("digest", f"team-{i}", "2026-W10"),
                    channel,
                    f"Weekly digest for team-{i} (placeholder: scorecard digests come later)",
                )
                for i, channel in enumerate(channels)
            ]
            floor = max((teams - 1) / rate, 0.0)  # one digest per channel: the cap binds
            # In the middle: a 429 on the very last posts would add its Retry-After to any run.
            injector = asyncio.create_task(inject_429s(slack, faults, 0.8 * floor / faults))
            start = time.perf_counter()
            report = await sb.delivery.deliver(digests)
            took = time.perf_counter() - start
            await injector
            again = await sb.delivery.deliver(digests)
            counts = delivered(slack, channels)
            await sb.close()
    limited = sum(c.status == 429 for c in slack.calls("chat.postMessage"))
    return _print(teams, rate, faults, report, again, counts, limited, took, floor)


def _print(
    teams: int,
    rate: float,
    faults: int,
    report: Report,
    again: Report,
    counts: Counter[str],
    limited: int,
    took: float,
    floor: float,
) -> int:
    once = len(counts) == teams and set(counts.values()) == {1}
    print("digest text: a placeholder per team (scorecard digests come later)")
    print(
        f"limits: {rate:g} posts/s workspace-wide (fake burst {FAKE_BURST}), 1 post/s per "
        f"channel (we pace {CHANNEL_INTERVAL} s); {faults} injected 429s, {limited} 429s in all"
    )
    print(f"first run:  {report.summary()}")
    print(f"second run: {again.summary()}")
    print(f"every digest delivered exactly once: {once}")
    print(f"total {took:.2f} s, floor {floor:.2f} s, ratio {took / floor:.3f}x (aim <= 1.1x)")
    return 0 if once and not report.failed and not again.sent else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="workspace posts a second")
    parser.add_argument("--faults", type=int, default=10, help="429s injected mid-run (>= 1)")
    args = parser.parse_args()
    return asyncio.run(run(args.teams, args.rate, args.faults))


if __name__ == "__main__":
    sys.exit(main())

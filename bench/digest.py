"""The weekly digest job through the Slack fake's rate limits, against the floor those limits
allow.

1,000 teams, each owning three services that a scorecard grades, each get this week's digest
from the `weekly-digest` job (evaluation, the team's week, then `bot/platform/delivery.py`: ledger
claim, post, mark sent). The fake enforces Slack's ~1 post a second per channel and a
workspace-wide cap on chat.postMessage, and answers some posts with a 429 and Retry-After in
the middle of the run. Afterwards every channel must hold its digest exactly once, and a
second run must send nothing. The total time is printed beside the floor the limits allow:
the workspace cap spreads N posts over (N - 1) / rate seconds, and a channel's k posts over
(k - 1) seconds. Aim: within 1.1x.

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
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.delivery import EVENT_TYPE
from switchboard.bot.platform.jobs import Run
from switchboard.fakes.slack.server import FakeSlack

CHANNEL_INTERVAL = 1.1  # our pace per channel; the fake allows 1 a second
# Our workspace pace, as a share of the fake's cap: posting at exactly a token bucket's rate
# empties it on the first hiccup, and every 429 then costs its Retry-After.
WORKSPACE_SHARE = 0.97
FAKE_BURST = 10  # the fake's workspace bucket: Slack tolerates short bursts too
SERVICES = 3  # per team
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCORECARD = """\
scorecard: readiness
name: Readiness
levels: [Bronze, Silver]
rules:
  - {id: owner, title: Has an owner, level: Bronze, check: field_present, field: owner}
  - {id: runbook, title: Has a runbook, level: Silver, check: field_present, field: runbook}
  - {id: tier, title: Has a tier, check: tier_in, tiers: [1, 2, 3]}
"""


def catalog(teams: int) -> str:
    lines = ["switchboard: 1", "teams:"]
    lines += [f"  - {{id: team-{i}, slack_channel: '#team-{i}'}}" for i in range(teams)]
    lines.append("services:")
    for i in range(teams * SERVICES):
        runbook = f", runbook: 'https://runbooks.example.com/{i}'" if i % 2 else ""
        lines.append(f"  - {{id: svc-{i}, owner: team-{i // SERVICES}, tier: 2{runbook}}}")
    return "\n".join(lines) + "\n"


def config(folder: Path, rate: float) -> Config:
    (folder / "readiness.yaml").write_text(SCORECARD)
    today = WEEKDAYS[time.gmtime().tm_wday]
    return Config.model_validate(
        {
            "scorecards": {"paths": [str(folder / "readiness.yaml")]},
            "digest": {"day": today, "at": "00:00"},
            "delivery": {
                "posts_per_minute": int(rate * 60 * WORKSPACE_SHARE),
                "channel_interval_seconds": CHANNEL_INTERVAL,
            },
        }
    )


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
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "catalog.yaml").write_text(catalog(teams))
        async with FakeSlack() as slack:
            slack.limit_channel_posts(1.0)
            slack.limit("chat.postMessage", per_minute=rate * 60, burst=FAKE_BURST)
            channels = [slack.add_channel(f"team-{i}") for i in range(teams)]
            catalog_path = str(folder / "catalog.yaml")
            sb = build(
                settings(slack, folder, SWITCHBOARD_CATALOG=catalog_path), config(folder, rate)
            )
            await prepare(sb)
            await (
                sb.scorecards.results.evaluate()
            )  # what the scheduler does on start, and every hour
            floor = max((teams - 1) / rate, 0.0)  # one digest per channel: the cap binds
            # In the middle: a 429 on the very last posts would add its Retry-After to any run.
            injector = asyncio.create_task(inject_429s(slack, faults, 0.8 * floor / faults))
            start = time.perf_counter()
            first = await sb.teams.digest.run(Run())
            took = time.perf_counter() - start
            await injector
            again = await sb.teams.digest.run(Run())
            counts = delivered(slack, channels)
            sample = next(m for m in slack.messages(channels[0]) if m.blocks)
            await sb.close()
    limited = sum(c.status == 429 for c in slack.calls("chat.postMessage"))
    print("one team's digest, as posted:")
    for block in sample.blocks:
        for text in [block.get("text", {}).get("text", "")] + [
            e.get("text", "") for e in block.get("elements", [])
        ]:
            if text:
                print("  | " + text.replace("\n", "\n  | "))
    return _print(teams, rate, faults, (first, again), counts, limited, took, floor)


def _print(
    teams: int,
    rate: float,
    faults: int,
    said: tuple[str, str],
    counts: Counter[str],
    limited: int,
    took: float,
    floor: float,
) -> int:
    once = len(counts) == teams and set(counts.values()) == {1}
    print(
        f"limits: {rate:g} posts/s workspace-wide (fake burst {FAKE_BURST}; we pace "
        f"{rate * WORKSPACE_SHARE:g}/s), 1 post/s per channel (we pace {CHANNEL_INTERVAL} s); "
        f"{faults} injected 429s, {limited} 429s in all"
    )
    print(f"first run:  {said[0]}")
    print(f"second run: {said[1]}")
    print(f"every digest delivered exactly once: {once}")
    print(f"total {took:.2f} s, floor {floor:.2f} s, ratio {took / floor:.3f}x (aim <= 1.1x)")
    return 0 if once and "not sent" not in said[0] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="workspace posts a second")
    parser.add_argument("--faults", type=int, default=10, help="429s injected mid-run (>= 1)")
    args = parser.parse_args()
    return asyncio.run(run(args.teams, args.rate, args.faults))


if __name__ == "__main__":
    sys.exit(main())

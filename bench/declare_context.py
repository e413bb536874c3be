"""`/incident declare` with the responder context at scale: 20 affected services and 2,000
services depending on them (two dependsOn levels, 100 teams), every Slack call slowed to
50 ms, beside today's declare (one service, nothing depending on it) in the same run.

For each declare we time the command to the announcement (as bench/declare.py does) and to
the context card in the incident channel (deploys and dependents). Each is printed as a
ratio of its critical path: the Slack calls that must follow one another (announcement:
conversations.create, chat.postMessage; context card: conversations.create, the card's
concurrent posts, the context card's chat.postMessage), times 50 ms. Today's declare aim is
the announcement within 1.5x its critical path; the dependents are read from the catalog
reader's in-memory graph, so the big catalog is held to the same aim.

    python bench/declare_context.py [--incidents 20] [--delay-ms 50] [--dependents 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from declare import CATALOG, ROUTING_KEY, settled, timed_ack
from harness import SECRET, percentile, serve, settings

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.platform.config import Config
from switchboard.fakes.pagers import FakePagerDuty
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester

ANNOUNCE_CALLS = 2  # conversations.create -> chat.postMessage (the announcement)
CONTEXT_CALLS = 3  # conversations.create -> the card (and the rest) -> the context card
AFFECTED = 20
TEAMS = 100
CONTEXT_TEXT = "what changed and what else is affected"


def big_catalog(dependents: int) -> str:
    """CATALOG, plus `AFFECTED` services owned by shop and `dependents` services of `TEAMS`
    teams: half depend on an affected service, half on one of those (level 2)."""
    teams = "".join(f"  - {{id: team-{t}, name: Team {t}}}\n" for t in range(TEAMS))
    lines = [CATALOG.replace("services:\n", teams + "services:\n")]
    lines += [f"  - {{id: svc-{n}, name: Service {n}, owner: shop}}\n" for n in range(AFFECTED)]
    half = dependents // 2
    for n in range(dependents):
        target = f"svc-{n % AFFECTED}" if n < half else f"dep-{n % half}"
        lines.append(
            f"  - {{id: dep-{n}, name: Dependent {n}, owner: team-{n % TEAMS}, "
            f"depends_on: [{target}]}}\n"
        )
    return "".join(lines)


async def declare(
    sb: Switchboard, requester: SlackRequester, slack: FakeSlack, text: str, n: int
) -> tuple[float, float]:
    """(seconds to the announcement, seconds to the context card) for one declare."""
    announce = slack.channel("incidents").id
    before = len(slack.messages(announce))
    started = time.perf_counter()
    await timed_ack(requester, f"{text} {n}", slack.channel("bench").id)
    while len(slack.messages(announce)) == before:  # noqa: ASYNC110
        await asyncio.sleep(0.001)
    announced = time.perf_counter() - started
    while not _context_posted(slack, n + 1):  # noqa: ASYNC110
        await asyncio.sleep(0.001)
    context = time.perf_counter() - started
    while not await settled(sb, n + 1):  # noqa: ASYNC110  (one incident at a time)
        await asyncio.sleep(0.005)
    return announced, context


def _context_posted(slack: FakeSlack, number: int) -> bool:
    wanted = f"INC-{number}: {CONTEXT_TEXT}"
    return any(
        m.text == wanted
        for c in list(slack.channels.values())
        if c.name.startswith("inc-") and f"-{number}-" in c.name
        for m in list(c.messages.values())
    )


async def run(
    incidents: int, delay: float, folder: Path, catalog: str, text: str
) -> list[tuple[float, float]]:
    (folder / "catalog.yaml").write_text(catalog)
    async with FakeSlack() as slack, FakePagerDuty() as pagerduty:
        pagerduty.add_service(ROUTING_KEY)
        slack.add_channel("incidents")
        slack.add_channel("bench")
        config = settings(
            slack,
            folder,
            SWITCHBOARD_CATALOG=str(folder / "catalog.yaml"),
            PAGERDUTY_EVENTS_URL=pagerduty.base_url,
        )
        sb = build(config, Config())
        await prepare(sb)
        ours, url = await serve(sb.web)
        slack.fail("*", delay=delay, times=10**9)
        async with SlackRequester(url, SECRET, fake=slack) as requester:
            await declare(sb, requester, slack, text, 0)  # warm-up: index, graph, #incidents
            results = [
                await declare(sb, requester, slack, text, n) for n in range(1, incidents + 1)
            ]
        await ours.cleanup()
        await sb.close()
    return results


def report(name: str, results: list[tuple[float, float]], delay: float) -> None:
    for what, samples, calls in (
        ("announcement", [r[0] for r in results], ANNOUNCE_CALLS),
        ("context card", [r[1] for r in results], CONTEXT_CALLS),
    ):
        critical = calls * delay
        print(
            f"  {name:<30} {what:<13} p50 {percentile(samples, 50) / critical:.2f}x, "
            f"p99 {percentile(samples, 99) / critical:.2f}x of {critical * 1000:.0f} ms "
            "(aim <= 1.5x)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--dependents", type=int, default=2000)
    args = parser.parse_args()
    delay = args.delay_ms / 1000
    services = " ".join(f"service:svc-{n}" for n in range(AFFECTED))
    print(f"declare with the responder context, Slack fake adds {args.delay_ms:.0f} ms a call")
    with tempfile.TemporaryDirectory() as today, tempfile.TemporaryDirectory() as big:
        small = asyncio.run(
            run(args.incidents, delay, Path(today), CATALOG, "declare sev2 service:checkout Outage")
        )
        report("today (1 service, 0 dependents)", small, delay)
        large = asyncio.run(
            run(
                args.incidents,
                delay,
                Path(big),
                big_catalog(args.dependents),
                f"declare sev2 {services} Outage",
            )
        )
        report(f"{AFFECTED} services, {args.dependents} dependents", large, delay)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long `/incident declare` takes to reach the announcement channel, and how fast it
acks, with every Slack call slowed to 50 ms.

The loopback Slack fake adds 50 ms to every Web API call. For each of N declares we time
(1) the slash command's ack and (2) the moment the announcement is posted. (2) is printed
beside the critical path: the Slack calls that must happen one after the other before the
announcement can be posted (conversations.create, then chat.postMessage with the channel
link), times 50 ms; the moment is taken when the fake has answered the post (it tells its
listeners after every call), not by polling, which would cost the bot time in this process.
(1) is printed beside a bare Bolt app acking the same signed command in the same run.
Aims (issue 19): announcement within 1.3x the critical path at p99; ack within 1.2x bare
Bolt.

    python bench/declare.py [--incidents 40] [--delay-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web
from harness import SECRET, percentile, serve, settings
from slack_bolt.async_app import AsyncAck, AsyncApp

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.slack_gateway import make_client
from switchboard.fakes.pagers import FakePagerDuty
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.storage import incident_store

ROUTING_KEY = "b" * 32
CRITICAL_CALLS = 2  # conversations.create -> chat.postMessage (the announcement)
ANNOUNCE_AIM = 1.3
ACK_AIM = 1.2
CATALOG = f"""\
switchboard: 1
people:
  - {{id: ann, name: Ann, slack_id: U0BENCH1}}
  - {{id: ben, name: Ben, slack_id: U0BENCH2}}
teams:
  - {{id: shop, name: Shop, members: [ann, ben]}}
services:
  - id: checkout
    name: Checkout
    owner: shop
    oncall: {{pagerduty_service: PBENCH, integration_key: {ROUTING_KEY}}}
"""


def bare_bolt(slack: FakeSlack) -> web.Application:
    app = AsyncApp(client=make_client("xoxb-bench", slack.base_url), signing_secret=SECRET)

    async def incident(ack: AsyncAck) -> None:
        await ack(text="Declaring your incident…", response_type="ephemeral")

    app.command("/incident")(incident)
    return app.web_app(path="/slack/events")


async def timed_ack(requester: SlackRequester, text: str, channel: str) -> float:
    started = time.perf_counter()
    response = await requester.slash_command(
        "/incident", text, user_id="U0BENCH1", channel_id=channel
    )
    assert response.status == 200, response.body
    return time.perf_counter() - started


async def declare(
    sb: Switchboard,
    requester: SlackRequester,
    slack: FakeSlack,
    announce: str,
    channel: str,
    n: int,
) -> tuple[float, float]:
    """(ack seconds, seconds until the announcement is posted) for one declare."""
    before = len(slack.messages(announce))
    posted = asyncio.get_running_loop().create_future()

    def seen() -> None:  # the fake calls this after every call it answered
        if not posted.done() and len(slack.messages(announce)) > before:
            posted.set_result(time.perf_counter())

    slack.on_change.append(seen)
    try:
        started = time.perf_counter()
        ack = await timed_ack(requester, f"declare sev2 service:checkout Bench outage {n}", channel)
        announced = await posted - started
    finally:
        slack.on_change.remove(seen)
    while not await settled(sb, n + 1):  # noqa: ASYNC110  (one incident at a time)
        await asyncio.sleep(0.005)
    return ack, announced


async def settled(sb: Switchboard, number: int) -> bool:
    """Whether incident `number` is stored and no sync holds its lease any more."""
    async with sb.core.sessions() as session:
        incident = await incident_store.by_number(session, number)
        return incident is not None and incident.lease_until is None


async def run(incidents: int, delay: float, folder: Path) -> None:
    (folder / "catalog.yaml").write_text(CATALOG)
    async with FakeSlack() as slack, FakePagerDuty() as pagerduty:
        pagerduty.add_service(ROUTING_KEY)
        announce = slack.add_channel("incidents")
        channel = slack.add_channel("bench")
        config = settings(
            slack,
            folder,
            SWITCHBOARD_CATALOG=str(folder / "catalog.yaml"),
            PAGERDUTY_EVENTS_URL=pagerduty.base_url,
        )
        sb = build(config, Config())
        await prepare(sb)
        ours, ours_url = await serve(sb.web)
        bare, bare_url = await serve(bare_bolt(slack))
        slack.fail("*", delay=delay, times=10**9)
        async with (
            SlackRequester(ours_url, SECRET, fake=slack) as us,
            SlackRequester(bare_url, SECRET, fake=slack) as them,
        ):
            await declare(
                sb, us, slack, announce, channel, 0
            )  # warm-up: auth.test, index, joining #incidents
            await timed_ack(them, "declare warm-up", channel)
            results = [
                await declare(sb, us, slack, announce, channel, n) for n in range(1, incidents + 1)
            ]
            bare_acks = [
                await timed_ack(them, f"declare Bench {n}", channel) for n in range(incidents)
            ]
        await ours.cleanup()
        await bare.cleanup()
        await sb.close()
    report(results, bare_acks, delay)


def report(results: list[tuple[float, float]], bare_acks: list[float], delay: float) -> None:
    acks, announced = [r[0] for r in results], [r[1] for r in results]
    critical = CRITICAL_CALLS * delay
    print(f"declare: {len(results)} incidents, Slack fake adds {delay * 1000:.0f} ms to every call")
    print(f"  command -> announcement  {_ms(announced)}")
    print(f"  critical path            {critical * 1000:.1f} ms ({CRITICAL_CALLS} dependent calls)")
    print(
        f"  announcement / critical path: p50 {_p(announced, 50) / critical:.2f}x, "
        f"p99 {_p(announced, 99) / critical:.2f}x (aim <= {ANNOUNCE_AIM}x at p99)"
    )
    print(f"  ack switchboard          {_ms(acks)}")
    print(f"  ack bare Bolt            {_ms(bare_acks)}")
    print(
        f"  ack ratio: p50 {_p(acks, 50) / _p(bare_acks, 50):.2f}x, "
        f"p99 {_p(acks, 99) / _p(bare_acks, 99):.2f}x (aim <= {ACK_AIM}x)"
    )


def _p(samples: list[float], q: int) -> float:
    return percentile(samples, q)


def _ms(samples: list[float]) -> str:
    return f"p50 {_p(samples, 50) * 1000:7.2f} ms   p99 {_p(samples, 99) * 1000:7.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=40)
    parser.add_argument("--delay-ms", type=float, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args.incidents, args.delay_ms / 1000, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

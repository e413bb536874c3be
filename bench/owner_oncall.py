"""What showing who is on call now costs `/owner`, against `/owner` without live facts.

Two bots in one process on SQLite files, the example catalog: one with PagerDuty's REST API
(the loopback fake) configured and its on-call refreshed, so every answer carries "On call
now: ..." and the health line; one with no facts source (the bot before live facts). Both
get the same signed `/owner` requests over HTTP, 8 at once, in alternating rounds. Prints the
p50/p99 of the ack and of the answer (the response URL's post) for each, and the ratios;
the aim for the ack is p99 <= 1.05x (the on-call is read after the ack, from the database).

    python bench/owner_oncall.py [--requests 400]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from harness import SECRET, percentile, serve, settings

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.catalog.loader import parse_paths
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.jobs import Run
from switchboard.demo.emulator import seed
from switchboard.demo.run import examples, seed_oncall
from switchboard.fakes.pagers.pagerduty_rest import FakePagerDutyRest
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester

QUERIES = ("payments-api", "ledger", "Payments API", "paymnts-api", "auth", "search")
AT_ONCE = 8


async def timed(
    requester: SlackRequester, slack: FakeSlack, channel: str, query: str
) -> tuple[float, float]:
    """(ack seconds, answer seconds) of one `/owner`."""
    url = slack.new_response_url(channel_id=channel, user_id="U0001ALICE")
    started = time.perf_counter()
    response = await requester.slash_command(
        "/owner", query, user_id="U0001ALICE", channel_id=channel, response_url=url
    )
    acked = time.perf_counter() - started
    assert response.status == 200, response.status
    # the fake has no signal to wait on: look every 2 ms
    while not slack.response_posts(url):  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    return acked, time.perf_counter() - started


async def rounds(
    requester: SlackRequester, slack: FakeSlack, channel: str, count: int
) -> tuple[list[float], list[float]]:
    acks: list[float] = []
    answers: list[float] = []
    for start in range(0, count, AT_ONCE):
        batch = [QUERIES[(start + n) % len(QUERIES)] for n in range(AT_ONCE)]
        for ack, answer in await asyncio.gather(
            *(timed(requester, slack, channel, q) for q in batch)
        ):
            acks.append(ack)
            answers.append(answer)
    return acks, answers


async def bot(folder: Path, slack: FakeSlack, **extra: str) -> Switchboard:
    sb = build(settings(slack, folder, SWITCHBOARD_CATALOG=examples("catalog"), **extra), Config())
    await prepare(sb)
    return sb


async def main(requests: int) -> None:
    entities = parse_paths([examples("catalog")]).entities
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        async with FakeSlack() as slack, FakePagerDutyRest(token="pd-bench-token") as pagerduty:
            seed(slack, entities)
            channel = slack.add_channel("bench")
            seed_oncall(pagerduty, entities, datetime.now(UTC) - timedelta(minutes=1))
            live = await bot(
                Path(one),
                slack,
                PAGERDUTY_API_TOKEN=pagerduty.token,
                PAGERDUTY_API_URL=pagerduty.base_url,
            )
            job = live.jobs.get("facts-pagerduty")
            assert job is not None
            await job.run(Run(manual=True))
            bare = await bot(Path(two), slack)
            served = [await serve(sb.web) for sb in (live, bare)]
            samples: dict[str, tuple[list[float], list[float]]] = {
                "live": ([], []),
                "bare": ([], []),
            }
            async with aiohttp.ClientSession() as session:
                requesters = {
                    name: SlackRequester(url, SECRET, session, fake=slack)
                    for name, (_, url) in zip(("live", "bare"), served, strict=True)
                }
                await rounds(requesters["live"], slack, channel, 16)  # warm both
                await rounds(requesters["bare"], slack, channel, 16)
                for _ in range(max(1, requests // 80)):
                    for name in ("live", "bare"):
                        acks, answers = await rounds(requesters[name], slack, channel, 80)
                        samples[name][0].extend(acks)
                        samples[name][1].extend(answers)
            for runner, _ in served:
                await runner.cleanup()
            for sb in (live, bare):
                await sb.close()
    for what, index in (("ack", 0), ("answer", 1)):
        live_p50, live_p99 = (percentile(samples["live"][index], q) * 1000 for q in (50, 99))
        bare_p50, bare_p99 = (percentile(samples["bare"][index], q) * 1000 for q in (50, 99))
        aim = " (aim <= 1.05x)" if what == "ack" else ""
        ratio = live_p99 / bare_p99
        print(
            f"/owner {what}, {len(samples['live'][index])} requests, {AT_ONCE} at once: "
            f"with on-call p50 {live_p50:.1f} ms p99 {live_p99:.1f} ms; without live facts "
            f"p50 {bare_p50:.1f} ms p99 {bare_p99:.1f} ms; p99 ratio {ratio:.2f}x{aim}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    asyncio.run(main(parser.parse_args().requests))

"""What each kind of request costs the bot in CPU, against a bare Bolt app's ack.

`bench/load.py` shows where the acks stand under load; this says why: a real `switchboard
serve` process with a 50,000-service catalog gets N requests of one kind after another (each
answer awaited), and the CPU time its process used (from /proc, background work included)
is divided by N. A bare Bolt app (listeners that only ack) gets the same commands and events
in its own process in the same run: the floor of any Bolt app.

    python bench/request_cost.py [--services 50000] [--requests 300] [--settle 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from harness import SECRET
from load import (
    USERS,
    Tally,
    Targets,
    ask,
    prepare_incidents,
    send,
    service_name,
    start,
    start_bot,
    wait_ready,
    warm_up,
)

from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester

KINDS = ("owner help", "owner exact", "owner typo", "incident list", "reaction")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one(kind: str, requester: SlackRequester, targets: Targets, rng: random.Random) -> None:
    user, tally = rng.choice(USERS), Tally()
    if kind == "reaction":
        await send(requester, "reaction", user, targets, rng, tally, True)
        return
    if kind == "incident list":
        command, text = "/incident", "list"
    elif kind == "owner help":
        command, text = "/owner", "help"
    else:
        name = service_name(rng.randrange(targets.services))
        command, text = "/owner", name if kind == "owner exact" else name[:2] + name[3:]
    _, ok, _ = await ask(requester, "x", command, text, user, targets.home, tally, True)
    if not ok:
        raise SystemExit(f"{kind}: no answer to {command} {text}")


async def cost(pid: int, requests: int, send_one: Callable[[], Awaitable[None]]) -> float:
    """CPU milliseconds per request of `pid` while `send_one()` is awaited `requests` times,
    with a second afterwards for what each left to do in the background."""
    before = cpu_seconds(pid)
    for _ in range(requests):
        await send_one()
    await asyncio.sleep(1)
    return (cpu_seconds(pid) - before) / requests * 1000


async def run(args: argparse.Namespace, folder: Path) -> None:
    async with FakeSlack() as slack:
        bot = await start_bot(slack, args.services, f"sqlite:///{folder / 'cost.db'}", folder)
        here = str(Path(__file__).with_name("load.py"))
        bare = await start(
            "bare-bolt", [here, "--bare-bolt", slack.base_url], dict(os.environ), folder
        )
        try:
            await wait_ready(bot, "/healthz", 900)
            await wait_ready(bare, "/slack/events", 60)
            url = bot.base + "/slack/events"
            targets = await prepare_incidents(slack, url)
            targets.services = args.services
            await warm_up(url, slack, targets)
            await asyncio.sleep(args.settle)  # the start-up jobs (digests, nags) are done
            rng = random.Random(7)
            async with SlackRequester(url, SECRET, fake=slack) as requester:
                ours = {
                    kind: await cost(
                        bot.process.pid,
                        args.requests,
                        lambda k=kind: one(k, requester, targets, rng),
                    )
                    for kind in KINDS
                }
            floor = await bare_costs(
                bare.process.pid, bare.base + "/slack/events", slack, targets, args
            )
        finally:
            await bot.stop()
            await bare.stop()
    print(f"request cost: CPU per request of the serving process, {args.services} services")
    print(f"  bare Bolt  command {floor['command']:6.2f} ms   event {floor['event']:6.2f} ms")
    for kind, ms in ours.items():
        base = floor["event" if kind == "reaction" else "command"]
        print(f"  switchboard {kind:<14} {ms:6.2f} ms   {ms / base:5.2f}x bare Bolt's")


async def bare_costs(
    pid: int, url: str, slack: FakeSlack, targets: Targets, args: argparse.Namespace
) -> dict[str, float]:
    rng = random.Random(7)
    async with SlackRequester(url, SECRET, fake=slack) as requester:

        async def command() -> None:
            await requester.slash_command("/owner", "x", user_id=USERS[0], channel_id=targets.home)

        async def event() -> None:
            await send(requester, "reaction", USERS[0], targets, rng, Tally(), False)

        return {
            "command": await cost(pid, args.requests, command),
            "event": await cost(pid, args.requests, event),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--settle", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bot as a real `switchboard serve --front` process under load, against a bare Bolt app.

A 50,000-service catalog is imported on start. Then 200 concurrent clients send signed
`/owner` lookups (exact and with typos), `/incident list`, a few `/incident declare`s and
pushpin `reaction_added` events (5% of them delivered again as Slack's retries) for 30
seconds, each client pausing a random think time between requests (`--think-ms 0`: flat
out). The same clients send the same mix to a bare Bolt app (its own process too, listeners
that only ack) in the same run. Printed: requests and errors, ack p50/p99 of both and their
ratio (aim: p99 within 1.3x), the load generator's own event-loop lag (part of every ack time
it measures; its garbage collector is off meanwhile), the bot's answer time for `/owner` and
`/incident list` (acked empty at once, answered through the response URL), that every
declare made one incident and every reacted message is on its timeline once, and the bot's
peak memory with the catalog loaded: the peak RSS (VmHWM) of the bot and of its front, and
the peak of their PSS summed, sampled every 0.2 s (aim: under 300 MB).

    python bench/load.py [--clients 200] [--seconds 30] [--services 50000] [--think-ms 1000]
                         [--database-url postgresql://...] [--alone]

`--alone` runs `switchboard serve` without its front, as the bot ran before it had one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from harness import SECRET, percentile
from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlalchemy import select

from switchboard.bot.platform.slack_gateway import make_client
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.handlers.owner import UNAVAILABLE
from switchboard.settings import load_settings
from switchboard.storage import db, timeline_store
from switchboard.storage.tables import Incident

WORDS = ("payments", "ledger", "checkout", "cart", "search", "orders", "billing", "auth")
WORDS += ("notify", "email", "inventory", "shipping", "pricing", "gateway", "media", "risk")
KINDS = ("api", "worker", "service", "db", "cache", "ui", "batch", "proxy")
TEAMS = 200
USERS = [f"U0LOAD{n:04d}" for n in range(50)]
INCIDENT_CHANNELS = 5
MESSAGES_PER_CHANNEL = 400
MIX = (("owner", 50), ("list", 20), ("declare", 2), ("reaction", 28))
LIST = ("/incident", "list")
RSS_AIM_MB = 200  # the bot's peak RSS with the catalog, live facts and the query language
ANSWER_WITHIN = 10.0  # seconds: later than this, an answer counts as missing


def service_name(n: int) -> str:
    return f"{WORDS[n % 16]}-{WORDS[n // 16 % 16]}-{KINDS[n // 256 % 8]}-{n}"


def write_catalog(path: Path, services: int) -> None:
    """A native catalog: TEAMS teams (with people and a channel each) owning `services`."""
    lines = ["switchboard: 1", "people:"]
    lines += [f"  - {{id: p{n}, name: Person {n}, slack_id: {u}}}" for n, u in enumerate(USERS)]
    lines.append("teams:")
    lines += [
        f"  - {{id: team-{t}, name: Team {t}, slack_channel: '#team-{t}', "
        f"members: [p{t % len(USERS)}]}}"
        for t in range(TEAMS)
    ]
    lines.append("services:")
    for n in range(services):
        lines.append(
            f"  - {{id: {service_name(n)}, name: Service {n}, owner: team-{n % TEAMS}, "
            f"tier: {n % 4 + 1}, lifecycle: production, "
            f"runbook: 'https://wiki.example.com/runbooks/{n}'}}"
        )
    path.write_text("\n".join(lines) + "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# the bare Bolt app, run as `load.py --bare-bolt PORT SLACK_URL` in its own process


def serve_bare_bolt(port: int, slack_url: str) -> None:
    app = AsyncApp(client=make_client("xoxb-bench", slack_url), signing_secret=SECRET)

    async def command(ack: AsyncAck) -> None:
        await ack(text="ok", response_type="ephemeral")

    async def reaction_added(event: dict[str, Any]) -> None:
        return None

    app.command("/owner")(command)
    app.command("/incident")(command)
    app.event("reaction_added")(reaction_added)
    web.run_app(
        app.web_app(path="/slack/events"), host="127.0.0.1", port=port, print=None, access_log=None
    )


# the processes


@dataclass
class Process:
    name: str
    process: asyncio.subprocess.Process
    base: str
    log: Path

    def peak_rss_mb(self) -> list[float]:
        """The peak RSS (VmHWM) of the process, and of its children (the bot's front)."""
        return [status_mb(pid, "VmHWM") for pid in self.pids()]

    def pids(self) -> list[int]:
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [pid, *map(int, children)]

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def status_mb(pid: int, field: str, file: str = "status") -> float:
    for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class PssPeak(threading.Thread):
    """The largest sum of the PSS (proportional set size: a page that two processes share
    counts half in each) of a process and its children, sampled every 0.2 s. The bot and
    its front share the interpreter and its libraries: their peak RSS summed counts those
    twice."""

    def __init__(self, process: Process) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.stopping = process, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.2):
            with contextlib.suppress(OSError):
                pss = sum(status_mb(p, "Pss", "smaps_rollup") for p in self.process.pids())
                self.peak = max(self.peak, pss)


async def start(name: str, args: list[str], env: dict[str, str], folder: Path) -> Process:
    port = free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, "--port", str(port), env=env, stdout=out, stderr=out
        )
    return Process(name, process, f"http://127.0.0.1:{port}", log)


async def wait_ready(proc: Process, path: str, within: float) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        while time.perf_counter() - started < within:
            if proc.process.returncode is not None:
                raise SystemExit(f"{proc.name} exited: {proc.log.read_text()[-2000:]}")
            try:
                async with http.request("GET" if path == "/healthz" else "POST", proc.base + path):
                    return time.perf_counter() - started
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)
    raise SystemExit(f"{proc.name} did not answer within {within:.0f} s")


# the load


@dataclass
class Tally:
    acks: dict[str, list[float]] = field(default_factory=dict)
    answers: dict[str, list[float]] = field(default_factory=dict)  # to the response URL
    errors: Counter[str] = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)  # the load generator's own loop
    declares: int = 0
    reacted: set[tuple[str, str]] = field(default_factory=set)

    def add(self, kind: str, seconds: float) -> None:
        self.acks.setdefault(kind, []).append(seconds)

    def all_acks(self) -> list[float]:
        return [s for samples in self.acks.values() for s in samples]


@dataclass
class Targets:
    """What the clients send about: service names, incident channels and their messages."""

    services: int
    home: str  # where the commands are typed
    channels: list[str]
    messages: dict[str, list[str]]


async def client(
    requester: SlackRequester,
    targets: Targets,
    rng: random.Random,
    until: float,
    think: float,
    tally: Tally,
    check: bool,
    mix: tuple[tuple[str, int], ...] = MIX,
) -> None:
    kinds, weights = zip(*mix, strict=True)
    await asyncio.sleep(rng.uniform(0, think))  # not all at once at the start
    while time.perf_counter() < until:
        kind = rng.choices(kinds, weights)[0]
        user = rng.choice(USERS)
        started = time.perf_counter()
        try:
            response, ok, acked = await send(requester, kind, user, targets, rng, tally, check)
        except (aiohttp.ClientError, OSError) as error:
            tally.errors[f"{kind}: {type(error).__name__}"] += 1
            continue
        tally.add(kind, acked - started)
        if response.status != 200:
            tally.errors[f"{kind}: HTTP {response.status}"] += 1
        elif not ok:
            tally.errors[f"{kind}: unexpected answer {response.body[:60]!r}"] += 1
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def send(
    requester: SlackRequester,
    kind: str,
    user: str,
    targets: Targets,
    rng: random.Random,
    tally: Tally,
    check: bool,
) -> tuple[Any, bool, float]:
    """The response, whether it is what the bot should answer, and when the ack came."""
    if kind == "declare":
        service = service_name(rng.randrange(targets.services))
        text = f"declare sev3 service:{service} Load test outage {rng.randrange(10**6)}"
        tally.declares += 1
        return await ask(requester, kind, "/incident", text, user, targets.home, tally, check)
    if kind in ("owner", "list"):
        command, text = ("/owner", typed_name(targets, rng)) if kind == "owner" else LIST
        return await ask(requester, kind, command, text, user, targets.home, tally, check)
    channel = rng.choice(targets.channels)
    ts = rng.choice(targets.messages[channel])
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": "pushpin",
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": ts,
    }
    event_id = f"Ev0LOAD{rng.randrange(16**10):010X}"
    response = await requester.event(event, event_id=event_id)
    if response.status == 200 and rng.random() < 0.05:  # Slack delivers it again
        again = await requester.event(event, event_id=event_id, retry_num=1)
        response = again if again.status != 200 else response
    if response.status == 200:
        tally.reacted.add((channel, ts))
    return response, True, time.perf_counter()


async def load(
    url: str,
    slack: FakeSlack,
    targets: Targets,
    args: argparse.Namespace,
    check: bool,
    mix: tuple[tuple[str, int], ...] = MIX,
) -> tuple[Tally, float]:
    tally = Tally()
    rng = random.Random(args.seed)
    connector = aiohttp.TCPConnector(limit=0)
    # This process's collector stays off while it measures (as timeit's does): its full
    # collections of the fake Slack's growing state paused it for up to 0.2 s, and an ack
    # that came then was measured that much later.
    gc.collect()
    gc.disable()
    async with aiohttp.ClientSession(connector=connector) as http:
        requester = SlackRequester(url, SECRET, http, fake=slack)
        started = time.perf_counter()
        until = started + args.seconds
        await asyncio.gather(
            loop_lag(until, tally.lags),
            *(
                client(
                    requester,
                    targets,
                    random.Random(rng.random()),
                    until,
                    args.think_ms / 1000,
                    tally,
                    check,
                    mix,
                )
                for _ in range(args.clients)
            ),
        )
        took = time.perf_counter() - started
    gc.enable()
    return tally, took


async def loop_lag(until: float, lags: list[float], every: float = 0.01) -> None:
    """How late this process's event loop wakes a sleeper: an ack that came is measured
    only when the loop gets to it, so this lag is in every ack time measured here."""
    while time.perf_counter() < until:
        asked = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - asked - every)


def typed_name(targets: Targets, rng: random.Random) -> str:
    name = service_name(rng.randrange(targets.services))
    if rng.random() < 0.5:  # a typo: swap two letters
        i = rng.randrange(1, 6)
        name = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name


async def ask(
    requester: SlackRequester,
    kind: str,
    command: str,
    text: str,
    user: str,
    channel: str,
    tally: Tally,
    check: bool,
) -> tuple[Any, bool, float]:
    """A command and its answer as the person sees it: the ack's message, or the first post
    to the response URL after an empty ack (the bot's way); the time until the answer comes
    is kept apart from the ack's. The bare app answers in its ack, so `check` is off for it."""
    assert requester.fake is not None
    url = requester.fake.new_response_url(channel_id=channel, user_id=user)
    started = time.perf_counter()
    response = await requester.slash_command(
        command, text, user_id=user, channel_id=channel, response_url=url
    )
    acked = time.perf_counter()
    if not check or response.status != 200:
        return response, True, acked
    answer = response.body
    if not answer:
        try:  # woken by the fake when the answer comes (polling 200 clients was the bench's load)
            answer = str((await requester.fake.first_response(url, ANSWER_WITHIN)).get("text", ""))
        except TimeoutError:
            return response, False, acked
        tally.answers.setdefault(kind, []).append(time.perf_counter() - started)
    expected = "Declaring" in answer if kind == "declare" else UNAVAILABLE not in answer
    return response, bool(answer) and expected, acked


# checking what the bot did


async def incidents_and_timeline(database_url: str) -> tuple[int, dict[int, list[str]]]:
    settings = load_settings(_env_file=None, DATABASE_URL=database_url)
    engine = db.create_engine(settings.database_url)
    try:
        async with db.session_factory(engine)() as session:
            ids = [i for i in await session.scalars(select(Incident.id)) if i is not None]
            entries = {
                i: [e.message_ts or "" for e in await timeline_store.entries(session, i)]
                for i in ids
            }
    finally:
        await engine.dispose()
    return len(ids), entries


async def prepare_incidents(slack: FakeSlack, url: str, within: float = 120) -> Targets:
    """Declare INCIDENT_CHANNELS incidents and fill their channels with messages."""
    home = slack.add_channel("load")
    async with SlackRequester(url, SECRET, fake=slack) as requester:
        for n in range(INCIDENT_CHANNELS):
            response = await requester.slash_command(
                "/incident",
                f"declare sev2 Bench incident {n}",
                user_id=USERS[0],
                channel_id=home,
            )
            assert response.status == 200, response.body
    deadline = time.perf_counter() + within
    while True:
        channels = [
            c.id for c in slack.channels.values() if c.name.startswith("inc-") and not c.is_im
        ]
        if len(channels) >= INCIDENT_CHANNELS:
            break
        if time.perf_counter() > deadline:
            raise SystemExit("the bench incidents' channels were not created in time")
        await asyncio.sleep(0.2)
    messages = {
        c: [
            slack.add_message(c, f"step {m}", user=USERS[m % len(USERS)])
            for m in range(MESSAGES_PER_CHANNEL)
        ]
        for c in channels
    }
    return Targets(0, home, channels, messages)


async def warm_up(url: str, slack: FakeSlack, targets: Targets) -> float:
    """The first /owner builds the in-memory lookup index: not part of the steady state.
    Returns how long it took."""
    async with SlackRequester(url, SECRET, fake=slack) as requester:
        started = time.perf_counter()
        await requester.slash_command(
            "/owner", service_name(1), user_id=USERS[0], channel_id=targets.home
        )
        took = time.perf_counter() - started
        await requester.slash_command(
            "/incident", "list", user_id=USERS[0], channel_id=targets.home
        )
    return took


async def captured(database_url: str, expected: int, within: float) -> dict[int, list[str]]:
    deadline = time.perf_counter() + within
    while True:
        _, entries = await incidents_and_timeline(database_url)
        if sum(len(v) for v in entries.values()) >= expected or time.perf_counter() > deadline:
            return entries
        await asyncio.sleep(0.5)


async def start_bot(
    slack: FakeSlack, services: int, database_url: str, folder: Path, front: bool = False
) -> Process:
    """`switchboard serve` (`--front`: with its front process) with a catalog of `services`,
    its people and team channels known to `slack`."""
    catalog = folder / "catalog.yaml"
    write_catalog(catalog, services)
    slack.add_channel("incidents")
    for user in USERS:
        slack.add_user(user.lower(), user_id=user)
    for t in range(TEAMS):
        slack.add_channel(f"team-{t}")
    env = os.environ | {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        "SWITCHBOARD_CATALOG": str(catalog),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SWITCHBOARD_CONFIG", None)
    return await start(
        "switchboard",
        ["-m", "switchboard", "serve", "--host", "127.0.0.1", *(["--front"] if front else [])],
        env,
        folder,
    )


async def run(args: argparse.Namespace, folder: Path) -> None:
    database_url = args.database_url or f"sqlite:///{folder / 'load.db'}"
    async with FakeSlack() as slack:
        bot = await start_bot(slack, args.services, database_url, folder, not args.alone)
        pss = PssPeak(bot)
        pss.start()
        bare = await start(
            "bare-bolt", [__file__, "--bare-bolt", slack.base_url], os.environ.copy(), folder
        )
        try:
            imported = await wait_ready(bot, "/healthz", 900)
            await wait_ready(bare, "/slack/events", 60)
            after_import = bot.peak_rss_mb()
            targets = await prepare_incidents(slack, bot.base + "/slack/events")
            targets.services = args.services
            first_owner = await warm_up(bot.base + "/slack/events", slack, targets)
            ours, our_seconds = await load(bot.base + "/slack/events", slack, targets, args, True)
            theirs, their_seconds = await load(
                bare.base + "/slack/events", slack, targets, args, False
            )
            entries = await captured(
                database_url, len(ours.reacted), within=max(60, args.seconds * 2)
            )
            peak = bot.peak_rss_mb()
            pss.stopping.set()
            incidents = len(entries)
        finally:
            await bot.stop()
            await bare.stop()
    log = bot.log.read_text(errors="replace")
    if "Traceback" in log:
        kept = Path(tempfile.gettempdir()) / "switchboard-load-bot.log"
        kept.write_text(log)
        print(f"  the bot's log, with tracebacks: {kept}")
    report(args, imported, (after_import, peak, pss.peak), ours, our_seconds, theirs, their_seconds)
    print(f"  first /owner after the start (builds the lookup index): {first_owner:.2f} s")
    check(ours, incidents, entries, targets, log)


def report(
    args: argparse.Namespace,
    imported: float,
    memory: tuple[list[float], list[float], float],
    ours: Tally,
    our_seconds: float,
    theirs: Tally,
    their_seconds: float,
) -> None:
    def ms(samples: list[float], q: int) -> float:
        return percentile(samples, q) * 1000

    def line(name: str, tally: Tally, seconds: float) -> str:
        samples = tally.all_acks()
        return (
            f"  ack {name:<12} p50 {ms(samples, 50):7.2f} ms   p99 {ms(samples, 99):7.2f} ms"
            f"   {len(samples)} requests, {len(samples) / seconds:.0f}/s, "
            f"{sum(tally.errors.values())} errors; the load generator's loop lag p99 "
            f"{ms(tally.lags, 99):.2f} ms"
        )

    mine, bare = ours.all_acks(), theirs.all_acks()
    print(
        f"load: {args.clients} clients for {args.seconds} s (think {args.think_ms:.0f} ms), "
        f"{args.services} services; mix " + ", ".join(f"{k} {w}%" for k, w in MIX)
    )
    print(line("switchboard", ours, our_seconds))
    print(line("bare Bolt", theirs, their_seconds))
    for kind in sorted(k for k in ours.acks if len(ours.acks[k]) > 1):
        print(
            f"    switchboard {kind:<9} p50 {ms(ours.acks[kind], 50):7.2f} ms   "
            f"p99 {ms(ours.acks[kind], 99):7.2f} ms   ({len(ours.acks[kind])})"
        )
    print(
        f"  ack ratio: p50 {ms(mine, 50) / ms(bare, 50):.2f}x, "
        f"p99 {ms(mine, 99) / ms(bare, 99):.2f}x (aim <= 1.3x)"
    )
    after_import, peak, pss = memory
    print(
        f"  memory: catalog imported on start in {imported:.1f} s; peak RSS (VmHWM) "
        f"{mb(after_import)} after the import, {mb(peak)} after the load; the bot's own "
        f"{peak[0]:.0f} MB (aim <= {RSS_AIM_MB} MB): {'ok' if peak[0] <= RSS_AIM_MB else 'OVER'}"
    )
    print(f"  memory: peak PSS of the bot's processes together {pss:.0f} MB (aim < 300 MB)")
    for kind, samples in sorted(ours.answers.items()):
        print(
            f"    answer {kind:<6} (response URL) p50 {ms(samples, 50):7.2f} ms   "
            f"p99 {ms(samples, 99):7.2f} ms   ({len(samples)})"
        )
    for error, count in (ours.errors + theirs.errors).most_common(10):
        print(f"  error: {error} x{count}")


def mb(peaks: list[float]) -> str:
    """The bot's peak, and with its front's (their sum is an upper bound: the two peaks need
    not come at the same moment)."""
    if len(peaks) == 1:
        return f"{peaks[0]:.0f} MB"
    return " + ".join(f"{p:.0f}" for p in peaks) + f" = {sum(peaks):.0f} MB (bot + front)"


def check(
    ours: Tally, incidents: int, entries: dict[int, list[str]], targets: Targets, log: str
) -> None:
    declared = incidents - INCIDENT_CHANNELS
    on_timelines = [ts for stamps in entries.values() for ts in stamps]
    reacted = {ts for _, ts in ours.reacted}
    once = len(on_timelines) == len(set(on_timelines)) and set(on_timelines) == reacted
    tracebacks = log.count("Traceback")
    print(
        f"  declares: {ours.declares} sent, {declared} incidents made; reacted messages: "
        f"{len(reacted)}, on timelines exactly once: {once} ({len(on_timelines)} entries); "
        f"tracebacks in the bot's log: {tracebacks}"
    )


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--bare-bolt":  # the baseline's own process
        serve_bare_bolt(int(sys.argv[4]), sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--think-ms", type=float, default=1000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--alone", action="store_true", help="the bot without its front (serve, not serve --front)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

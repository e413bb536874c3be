"""The front of `switchboard serve --front`: a small process of its own that acknowledges
Slack at once and hands each request to the bot behind it.

Why: the bot does real work for each request (database reads and writes, rendering, Slack
calls), several times the CPU of a bare Bolt app, on one event loop. Under load that loop
is busy, and an ack waits behind the work. The front does no more than a bare app does
(check the signature, acknowledge), so its acks stay prompt whatever the bot is doing
(`bench/load.py` measures both).

What the front acknowledges itself, with an empty 200, before the bot has seen it:
- our slash commands. When the bot's own acknowledgement says something ("Declaring…", a
  usage error), the front posts it to the command's response URL: the person sees the same
  message. When the bot cannot be reached, the person is told so there.
- the events we subscribe to. The front delivers each to the bot, again and again (with
  backoff) while the bot cannot take it, as Slack itself would have.

Everything else (modal submissions, whose answer carries field errors; options; buttons; URL
verification; `/healthz`, `/metrics` and the PagerDuty webhook) is relayed to the bot, and
its answer returned as it is. The bot listens on a Unix socket that only the front uses, and
checks every signature again.

It imports aiohttp, Slack's signature check and three small modules of the bot (logs,
metrics, request parsing), none of its weight (import-linter keeps it so): the process stays
small, about 40 MB of RSS of which 30 MB its own (PSS).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from slack_sdk.signature import SignatureVerifier

from switchboard.bot.platform import logs
from switchboard.bot.platform.metrics import RequestMetrics, outcome
from switchboard.edge.slack_requests import (
    MAX_BODY,
    SLACK_PATH,
    BadRequest,
    event_attempts,
    parse_body,
    request_kind,
    signed_body,
)

log = logging.getLogger("switchboard.edge.front")

# Deliveries to the bot at once; the rest wait here, as a few hundred bytes each.
DELIVERIES_AT_ONCE = 32
# The bot answers a command within Bolt's 3 s (or says it is busy); a modal within Slack's.
BOT_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=15)
STOP_GRACE_SECONDS = 10.0
# Headers that belong to one connection, not to the request or answer relayed (aiohttp
# decodes a compressed body as it reads it).
HOP_BY_HOP = frozenset(
    {"host", "content-length", "connection", "transfer-encoding", "content-encoding"}
)
UNAVAILABLE = {
    "response_type": "ephemeral",
    "text": "Switchboard could not answer just now: it is restarting or overloaded. "
    "Try again in a minute.",
}

# What the bot's 4xx to a command means to the person (Slack itself would say the command
# failed): not an outage, and nothing was done.
REFUSED = {
    "response_type": "ephemeral",
    "text": "Switchboard could not read that command, so nothing was done.",
}


@dataclass(frozen=True)
class Taken:
    """What the front acknowledges itself: the bot's slash commands and event types."""

    commands: frozenset[str]
    events: frozenset[str]


class Front:
    def __init__(
        self,
        signing_secret: str,
        bot: aiohttp.ClientSession,
        deliveries: aiohttp.ClientSession,
        slack: aiohttp.ClientSession,
        taken: Taken,
    ) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._bot, self._deliveries, self._slack = bot, deliveries, slack
        self._taken = taken
        self.metrics = RequestMetrics(CollectorRegistry(), "switchboard_front")
        self._background: set[asyncio.Task[None]] = set()
        self._closing = asyncio.Event()

    async def slack(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        kind, response = await self._answer(request)
        self.metrics.request(kind, outcome(response.status), time.perf_counter() - started)
        return response

    async def relay(self, request: web.Request) -> web.Response:
        return await self._relay(request, await request.read())

    async def metrics_page(self, request: web.Request) -> web.Response:
        """The bot's metrics, and the front's own after them."""
        response = await self.relay(request)
        if response.status == 200 and isinstance(response.body, bytes):
            response.body = response.body + generate_latest(self.metrics.registry)
        return response

    async def _answer(self, request: web.Request) -> tuple[str, web.Response]:
        """The request's kind, and the answer to it."""
        raw = await signed_body(request, self._verifier)
        if isinstance(raw, web.Response):
            return "unknown", raw
        try:
            body = parse_body(raw, request.content_type)
        except BadRequest as error:  # signed, but not a body Slack sends: as the bot answers
            return "unknown", web.json_response({"error": str(error)}, status=400)
        kind = request_kind(body)
        headers = relayed_headers(request)
        if kind == "command" and self._takes(body, request.content_type):
            self._in_background(self._deliver_command(raw, headers, body["response_url"]))
        elif kind == "event" and self._takes(body, request.content_type):
            self._in_background(self._deliver_event(raw, headers, str(body.get("event_id"))))
        else:  # and every malformed request: the bot answers it, as without a front
            return kind, await self._relay(request, raw)
        return kind, web.Response(status=200)

    def _takes(self, body: dict[str, Any], content_type: str) -> bool:
        """Whether the front acknowledges this command or event itself."""
        if content_type == "application/json":
            event = body.get("event")
            return (
                body.get("type") == "event_callback"
                and isinstance(event, dict)
                and event.get("type") in self._taken.events
            )
        return (
            "payload" not in body
            and body.get("command") in self._taken.commands
            and str(body.get("response_url", "")).startswith("http")
        )

    async def _relay(self, request: web.Request, raw: bytes) -> web.Response:
        try:
            async with self._bot.request(
                request.method, request.path_qs, data=raw, headers=relayed_headers(request)
            ) as answer:
                body = await answer.read()
                kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                return web.Response(status=answer.status, body=body, headers=kept)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("the bot did not answer %s: %s", request.path, type(error).__name__)
            return web.json_response({"error": "the bot is not answering"}, status=503)

    async def _deliver_command(
        self, raw: bytes, headers: dict[str, str], response_url: str
    ) -> None:
        """The bot's acknowledgement, when it says something, goes to the response URL."""
        try:
            async with self._deliveries.post(SLACK_PATH, data=raw, headers=headers) as answer:
                status, said = answer.status, await answer.read()
                is_json = answer.content_type == "application/json"
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("a command could not be handed to the bot: %s", type(error).__name__)
            message: dict[str, Any] = UNAVAILABLE
        else:
            if status == 200 and not said:
                return  # acknowledged empty: the bot answers through the response URL itself
            if status != 200:
                log.warning("the bot answered a command with HTTP %d", status)
                message = REFUSED if 400 <= status < 500 else UNAVAILABLE
            else:
                message = {"response_type": "ephemeral"} | (
                    json.loads(said) if is_json else {"text": said.decode()}
                )
        try:
            async with self._slack.post(response_url, json=message) as posted:
                posted.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("a command's answer could not be posted: %s", type(error).__name__)

    async def _deliver_event(self, raw: bytes, headers: dict[str, str], event_id: str) -> None:
        async for _ in event_attempts(self._closing):
            try:
                async with self._deliveries.post(SLACK_PATH, data=raw, headers=headers) as answer:
                    if answer.status < 500:  # taken (200), or refused for good (4xx)
                        return
                    reason = f"HTTP {answer.status}"
            except (aiohttp.ClientError, TimeoutError) as error:
                reason = type(error).__name__
            log.warning("event %s not taken by the bot (%s)", event_id, reason)
        log.error("event %s dropped: the bot did not take it", event_id)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)  # a reference, or the task may vanish mid-way
        task.add_done_callback(self._background.discard)

    async def drain(self, within: float = STOP_GRACE_SECONDS) -> None:
        """Let the deliveries under way finish; events waiting to be tried again are given
        up."""
        self._closing.set()
        if self._background:
            await asyncio.wait(self._background, timeout=within)


def relayed_headers(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}


# the front's process, started by the bot


async def start_front(
    listener: socket.socket, bot_socket: str, secret: str, taken: Taken, env: dict[str, str]
) -> asyncio.subprocess.Process:
    """`python -m switchboard.edge.front`, answering on `listener` (bound by the bot, so that the
    port is known, and open, before the front runs). The secret goes by the environment,
    where `ps` does not show it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchboard.edge.front",
        f"--fd={listener.fileno()}",
        f"--bot={bot_socket}",
        f"--parent={os.getpid()}",
        "--commands=" + ",".join(sorted(taken.commands)),
        "--events=" + ",".join(sorted(taken.events)),
        env=os.environ | env | {"SLACK_SIGNING_SECRET": secret},
        pass_fds=(listener.fileno(),),
    )


async def stop_front(front: asyncio.subprocess.Process) -> None:
    if front.returncode is None:
        front.terminate()
        try:
            await asyncio.wait_for(front.wait(), STOP_GRACE_SECONDS + 5)
        except TimeoutError:
            front.kill()
            await front.wait()


async def run_front(listener: socket.socket, bot_socket: str, secret: str, taken: Taken) -> None:
    """Answer on `listener` until cancelled (SIGTERM), relaying to the bot at `bot_socket`."""

    def to_bot(limit: int) -> aiohttp.ClientSession:
        connector = aiohttp.UnixConnector(path=bot_socket, limit=limit)
        return aiohttp.ClientSession("http://bot", connector=connector, timeout=BOT_TIMEOUT)

    async with (
        to_bot(100) as bot,
        to_bot(DELIVERIES_AT_ONCE) as deliveries,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as slack,
    ):
        front = Front(secret, bot, deliveries, slack, taken)
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(SLACK_PATH, front.slack)
        app.router.add_get("/metrics", front.metrics_page)
        app.router.add_route("*", "/{path:.*}", front.relay)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=STOP_GRACE_SECONDS)
        await runner.setup()
        await web.SockSite(runner, listener).start()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()  # no new requests; those being answered finish
            await front.drain()


def die_with_parent(parent: int) -> None:
    """Exit when the bot that started us dies, even by `kill -9` (Linux), rather than
    acknowledge requests nobody will handle."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before we asked
        sys.exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m switchboard.edge.front", description=__doc__)
    parser.add_argument("--fd", type=int, required=True, help="the listening socket")
    parser.add_argument("--bot", required=True, help="the bot's Unix socket")
    parser.add_argument("--parent", type=int, required=True, help="the bot's process id")
    parser.add_argument("--commands", default="", help="comma-separated")
    parser.add_argument("--events", default="", help="comma-separated event types")
    args = parser.parse_args(argv)
    die_with_parent(args.parent)
    secret = os.environ.pop("SLACK_SIGNING_SECRET")
    level, format = os.environ.get("LOG_LEVEL", "INFO"), os.environ.get("LOG_FORMAT", "text")
    logs.configure(level, format, logs.Redactor([secret]))
    taken = Taken(frozenset(args.commands.split(",")), frozenset(args.events.split(",")))
    listener = socket.socket(fileno=args.fd)
    return _until_stopped(run_front(listener, args.bot, secret, taken))


def _until_stopped(work: Awaitable[None]) -> int:
    async def runner() -> int:
        task = asyncio.ensure_future(work)
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return 0

    return asyncio.run(runner())


if __name__ == "__main__":
    sys.exit(main())

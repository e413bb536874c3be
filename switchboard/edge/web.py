"""The HTTP edge: `POST /slack/events` (every Slack request), `GET /healthz` and
`GET /metrics`. Each Slack request is counted and timed by kind and outcome, and logged
under its request id (see `switchboard.bot.platform.logs`).

We verify signatures and parse bodies ourselves instead of using Bolt's aiohttp adapter,
because Bolt 1.30 drops any form body that merely contains the text "payload" (a slash
command such as `/incident declare payload API down` answers 404). A parsed dict body is
dispatched in Bolt's "socket_mode" request mode, the one mode that accepts a dict, and in
which Bolt skips its own signature check: so ours here must never be skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook.async_client import AsyncWebhookClient

from switchboard.bot.platform.bodies import cleaned
from switchboard.bot.platform.logs import SLACK_REQUEST, request_id
from switchboard.bot.platform.metrics import CONTENT_TYPE, Metrics, outcome
from switchboard.edge.middleware import LISTENER_STARTED, EventRun
from switchboard.edge.screening import acked_at_once, refusal
from switchboard.edge.slack_requests import (
    MAX_BODY,
    SLACK_PATH,
    BadRequest,
    event_attempts,
    parse_body,
    request_kind,
    signed_body,
)

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[bool]]
# What /healthz adds as detail (the facts sources), never failing health
Detail = Callable[[], Awaitable[dict[str, Any]]]
Scrape = Callable[[], Awaitable[bytes]]
EVENTS_AT_ONCE = 2
# How long an attempt's listener is watched for a failure worth trying again.
LISTENER_WATCH = 600.0


# Bolt's answer to a slash command whose listener did not acknowledge it within its 3 s is a
# 404, as if no listener took it (`watch_listeners` tells them apart). Slack shows the body of
# a 200 answer to the person, and only a generic "failed with the error ..." for anything
# else (it does not retry commands), so this is a 200. Bolt's 3 s run from the dispatch, so
# Slack may have given up already; and the work may still finish and answer by the response
# URL, hence "if".
BUSY = {
    "response_type": "ephemeral",
    "text": "I could not answer within Slack's 3 seconds: I am busy just now. If nothing more "
    "comes of it, try again in a minute.",
}


class SlackEdge:
    """Events (`event_callback`) are acknowledged on receipt and handled in the background,
    the de-duplication write included: a burst of them must not queue behind database
    writes while Slack waits. When the database has just failed, events are refused with
    503 instead, so that Slack delivers them again later rather than losing them."""

    def __init__(
        self,
        app: AsyncApp,
        signing_secret: str,
        accepting_events: Callable[[], bool] = lambda: True,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._app = app
        self._metrics = metrics
        self._verifier = SignatureVerifier(signing_secret, clock or Clock())
        self._accepting_events = accepting_events
        self._background: set[asyncio.Task[None]] = set()
        # Handled a few at a time: a burst then waits in memory, and acks stay prompt.
        self._handling = asyncio.Semaphore(EVENTS_AT_ONCE)
        self._closing = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        kind, status = "unknown", 500  # what aiohttp answers should the dispatch raise
        try:
            kind, response = await self._answer(request)
            status = response.status
            return response
        finally:
            if self._metrics is not None:
                self._metrics.request(kind, outcome(status), time.perf_counter() - started)

    async def _answer(self, request: web.Request) -> tuple[str, web.Response]:
        """The request's kind, and the answer to it."""
        raw = await signed_body(request, self._verifier)
        if isinstance(raw, web.Response):
            return "unknown", raw
        try:
            body = cleaned(parse_body(raw, request.content_type))
        except BadRequest as error:
            return "unknown", refuse(str(error))
        if refused := refusal(body, request.content_type):
            return "unknown", refuse(refused)
        # aiohttp serves each request in a task of its own: this stays with this request.
        SLACK_REQUEST.set(request_id(body))
        kind = request_kind(body)
        headers: dict[str, str | Sequence[str]] = {
            k.lower(): request.headers.getall(k) for k in request.headers
        }
        try:  # Bolt reads the ids in the body here, and fails on a payload of the wrong shape
            bolt_request = AsyncBoltRequest(
                body=body, query=request.query_string, headers=headers, mode="socket_mode"
            )
        except (TypeError, KeyError, IndexError, AttributeError):
            return kind, refuse("malformed request")
        if kind == "command" and acked_at_once(body):
            self._track(self._command(bolt_request))
            return kind, web.Response(status=200)
        if body.get("type") == "event_callback":
            if not self._accepting_events():
                return kind, web.json_response({"error": "try again later"}, status=503)
            self._in_background(body, request.query_string, headers)
            return kind, web.Response(status=200)
        response = await self._app.async_dispatch(bolt_request)
        if (
            response.status == 404
            and kind == "command"
            and bolt_request.context.get(LISTENER_STARTED)
        ):  # a listener took it and did not acknowledge it within Bolt's 3 s
            log.warning("%s was not acknowledged in time", body["command"])
            return kind, web.json_response(BUSY)
        if response.status == 404:  # no listener took it: an action or view we never made
            return kind, web.json_response({"error": "unhandled request"}, status=400)
        return kind, await to_aiohttp_response(response)

    def _in_background(
        self, body: dict[str, Any], query: str, headers: dict[str, str | Sequence[str]]
    ) -> None:
        self._track(self._dispatch(body, query, headers))

    def _track(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)  # a reference, or the task may vanish mid-way
        task.add_done_callback(self._background.discard)

    async def _command(self, request: AsyncBoltRequest) -> None:
        """A command acknowledged already: its listener answers through the response URL.
        What Bolt would have acknowledged with instead (a refusal of our token, a failure
        before the listener) is posted there, as the front does."""
        command = request.body.get("command")
        try:
            response = await self._app.async_dispatch(request)
        except Exception:  # Bolt reports listener errors itself; this is everything else
            log.exception("%s failed", command)
            return
        if response.status != 200:
            log.warning("%s acknowledged at once, then answered %d", command, response.status)
        elif response.body:
            await _post_answer(str(request.body["response_url"]), response.body)

    async def _dispatch(
        self, body: dict[str, Any], query: str, headers: dict[str, str | Sequence[str]]
    ) -> None:
        run = EventRun()  # the listener's end, and the event's claim across attempts
        async for _ in event_attempts(self._closing):
            request = AsyncBoltRequest(body=body, query=query, headers=headers, mode="socket_mode")
            run.attach(request.context)
            try:
                async with self._handling:
                    response = await self._app.async_dispatch(request)
            except Exception:  # Bolt reports listener errors itself; this is everything else
                log.exception("event %s failed", body.get("event_id"))
                return
            if response.status < 500 and (
                response.status != 200 or await run.failure(self._closing, LISTENER_WATCH) is None
            ):
                return
            task = asyncio.current_task()
            if self._closing.is_set() or (task is not None and task.cancelling()):
                # Stopping: Bolt turns a cancelled listener into a 500 as well; do not retry.
                break
            # Slack has its 200 and will not send it again: keep it until the database is back.
            log.warning("event %s could not be handled; trying again", body.get("event_id"))
        await run.give_up()
        log.error("event %s dropped: could not handle it", body.get("event_id"))

    async def drain(self) -> None:
        """Let the events being handled finish (on shutdown); those waiting for the database
        are given up."""
        self._closing.set()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


async def _post_answer(response_url: str, body: str) -> None:
    try:
        message = json.loads(body)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        message = {"text": body}
    message.setdefault("response_type", "ephemeral")
    try:
        await AsyncWebhookClient(response_url, timeout=10).send_dict(message)
    except Exception as error:  # the response URL expired, or Slack is down: nobody to tell
        log.warning("an answer could not be posted: %s", type(error).__name__)


def refuse(reason: str) -> web.Response:
    """400 for a signed request that is not one Slack sends us, said in one log line."""
    log.warning("refused a signed request: %s", reason)
    return web.json_response({"error": reason}, status=400)


def metrics_handler(scrape: Scrape) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=await scrape(), headers={"Content-Type": CONTENT_TYPE})

    return metrics


def health_handler(
    check: HealthCheck, detail: Detail | None = None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def healthz(_: web.Request) -> web.Response:
        database = await check()
        body: dict[str, Any] = {"status": "ok" if database else "degraded", "database": database}
        if detail is not None and database:
            try:  # detail only: whatever it does, health is the database's
                async with asyncio.timeout(2):
                    body.update(await detail())
            except Exception as error:
                log.warning("healthz: no detail: %s", type(error).__name__)
        return web.json_response(body, status=200 if database else 503)

    return healthz


def build_web_app(
    edge: SlackEdge,
    health: HealthCheck,
    scrape: Scrape | None = None,
    detail: Detail | None = None,
) -> web.Application:
    web_app = web.Application(client_max_size=MAX_BODY)
    web_app.router.add_post(SLACK_PATH, edge.handle)
    web_app.router.add_get("/healthz", health_handler(health, detail))
    if scrape is not None:
        web_app.router.add_get("/metrics", metrics_handler(scrape))

    async def drain(_: web.Application) -> None:
        await edge.drain()

    web_app.on_shutdown.append(drain)
    return web_app

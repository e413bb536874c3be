"""Bolt middleware that applies to every request, over HTTP and Socket Mode alike: the
request named in the logs, `respond` over kept-alive connections, the event de-duplication
gate, the answer to a failed listener, and the watch on listeners (`install` puts them all
in place, before any listener is registered)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_bolt.listener.async_listener_completion_handler import AsyncListenerCompletionHandler
from slack_bolt.listener.async_listener_start_handler import AsyncListenerStartHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from switchboard.bot.platform.logs import SLACK_REQUEST, request_id
from switchboard.edge.seen_events import SeenEvents, worth_retrying
from switchboard.handlers.payloads import FAILED, Malformed

log = logging.getLogger(__name__)
Middleware = Callable[..., Awaitable[BoltResponse]]


class EventRun:
    """One event delivery as the HTTP edge hands it to Bolt, attempt after attempt.

    Bolt acknowledges an event and runs its listener in a task of its own (the app does not
    `process_before_response`), so the dispatch's response says nothing of how the listener
    ended. The listener's end is reported here (by `answer_errors` and `ListenerEnds`), and
    the event's de-duplication claim, once this delivery made it, is kept across the edge's
    attempts: an attempt after a failure runs the listener again instead of taking itself for
    a duplicate, and a giving-up edge releases the claim for Slack's next retry."""

    KEY = "switchboard_event_run"

    def __init__(self) -> None:
        self.claim: tuple[SeenEvents, str] | None = None
        self._ended: asyncio.Future[BaseException | None] | None = None

    def attach(self, context: dict[str, Any]) -> None:
        """Follow the next attempt, whose request has `context`."""
        context[self.KEY] = self
        self._ended = None

    def running(self) -> None:
        self._ended = asyncio.get_running_loop().create_future()

    def ended(self, error: BaseException | None) -> None:
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(error)

    async def failure(self, stop: asyncio.Event, within: float) -> BaseException | None:
        """The error that ended this attempt's listener, when trying it again may help; None
        when it succeeded (or no listener ran: a duplicate, the bot's own event), or when
        `stop` is set or `within` seconds passed first (it goes on, unwatched)."""
        if self._ended is None:
            return None
        ended: asyncio.Future[Any] = self._ended
        stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait(
                (ended, stopping), timeout=within, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stopping.cancel()
        if not self._ended.done():
            log.warning("an event's listener is still at work; no longer watched")
            return None
        error = self._ended.result()
        return error if error is not None and worth_retrying(error) else None

    async def give_up(self) -> None:
        """Release the claim (if the database takes it) so that Slack's retry is handled."""
        if self.claim is not None:
            seen, event_id = self.claim
            with contextlib.suppress(Exception):
                await seen.release(event_id)
            self.claim = None


# Set in a request's context when a listener took it: Bolt answers 404 both when none did and
# when the listener did not acknowledge within its 3 s.
LISTENER_STARTED = "switchboard_listener_started"


class Listening:
    """How many listeners are at work. A listener goes on after its ack (Bolt runs it in a
    task of its own), so Slack's 200 says nothing of how it ended; `idle()` does (a graceful
    stop, a test that checks what a request left behind)."""

    def __init__(self) -> None:
        self.running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def started(self) -> None:
        self.running += 1
        self._idle.clear()

    def ended(self) -> None:
        self.running -= 1
        if self.running <= 0:
            self.running = 0
            self._idle.set()

    async def idle(self) -> None:
        await self._idle.wait()


class ListenerStarts(AsyncListenerStartHandler):
    def __init__(self, listening: Listening) -> None:
        self.listening = listening

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        request.context[LISTENER_STARTED] = True
        self.listening.started()


class ListenerEnds(AsyncListenerCompletionHandler):
    """Bolt's hook after each listener (after `answer_errors` when it failed)."""

    def __init__(self, listening: Listening) -> None:
        self.listening = listening

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        run = request.context.get(EventRun.KEY)
        if isinstance(run, EventRun):
            run.ended(None)
        self.listening.ended()


def watch_listeners(app: AsyncApp) -> Listening:
    """Bolt's hooks before and after each listener (public on `AsyncApp.listener_runner`,
    but not among the app's arguments): the edge needs to know that a listener took a
    request, and, for an event (whose listener runs after its ack), how it ended."""
    listening = Listening()
    app.listener_runner.listener_start_handler = ListenerStarts(listening)
    app.listener_runner.listener_completion_handler = ListenerEnds(listening)
    return listening


def listening(app: AsyncApp) -> Listening:
    """The listeners at work in `app`, as `watch_listeners` counts them."""
    ends = app.listener_runner.listener_completion_handler
    if not isinstance(ends, ListenerEnds):
        raise ValueError("watch_listeners() was not applied to this app")
    return ends.listening


def deduplicate_events(seen: SeenEvents) -> Middleware:
    """Acknowledge a retried or duplicated event without running its listeners again: Bolt
    itself dispatches every delivery. An attempt of the HTTP edge after a failed one (same
    `EventRun`) holds the claim already."""

    async def middleware(
        body: dict[str, Any], context: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return await next()
        run = context.get(EventRun.KEY)
        if not (isinstance(run, EventRun) and run.claim is not None):
            if not await seen.first_delivery(str(event_id)):
                return BoltResponse(status=200, body="")
            if isinstance(run, EventRun):
                run.claim = (seen, str(event_id))
        if isinstance(run, EventRun):
            run.running()
        return await next()

    return middleware


class KeptAliveRespond(AsyncRespond):
    """Bolt's `respond`, over the app's keep-alive session. Bolt's own opens a session and
    a connection per answer: profiled, that was half the CPU of answering `/owner help`."""

    def __init__(self, response_url: str, session: aiohttp.ClientSession) -> None:
        super().__init__(response_url=response_url)
        self._session = session

    async def __call__(  # type: ignore[override]  # Bolt's keywords, passed on as they are
        self, text: str | dict[str, Any] = "", **fields: Any
    ) -> WebhookResponse:
        message = (
            _build_message(**text) if isinstance(text, dict) else _build_message(text, **fields)
        )
        client = AsyncWebhookClient(str(self.response_url), session=self._session)
        return await client.send_dict(message)


def keep_alive_respond(session: Callable[[], aiohttp.ClientSession]) -> Middleware:
    """Give listeners a `respond` that reuses `session`'s connections."""

    async def middleware(
        context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        if context.response_url:
            context["respond"] = KeptAliveRespond(context.response_url, session())
        return await next()

    return middleware


async def name_the_request(
    body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """Log under the request's id in Socket Mode too (the HTTP edge names it first)."""
    if not SLACK_REQUEST.get():
        SLACK_REQUEST.set(request_id(body))
    return await next()


def request_kind_of(body: dict[str, Any]) -> str:
    return str(body.get("command") or body.get("type") or "request")


async def answer_errors(
    error: Exception, body: dict[str, Any], context: dict[str, Any], response: BoltResponse | None
) -> BoltResponse | None:
    """A slash command that failed before its answer gets a clear one, not Slack's
    `dispatch_failed`. Anything else keeps Bolt's 500; an event's failure is told to the
    edge (`EventRun`), which tries it again when the database was away. A malformed payload
    (`Malformed`, raised by a listener's `parse`) is answered 400 with one log line."""
    run = context.get(EventRun.KEY)
    if isinstance(run, EventRun):
        run.ended(error)
    if isinstance(error, Malformed):
        log.warning("refused a malformed %s: %s", request_kind_of(body), error)
        return BoltResponse(status=400, body="") if response is not None else None
    log.error("%s failed", request_kind_of(body), exc_info=error)
    if response is None or "command" not in body:
        return None
    answer = {"response_type": "ephemeral", "text": FAILED}
    return BoltResponse(
        status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
    )


def install(
    app: AsyncApp, seen: SeenEvents, http: Callable[[], aiohttp.ClientSession]
) -> Listening:
    """Every middleware of this module on `app`, in the order they run."""
    app.middleware(name_the_request)
    app.middleware(keep_alive_respond(http))
    app.middleware(deduplicate_events(seen))
    app.error(answer_errors)
    return watch_listeners(app)

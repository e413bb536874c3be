"""Bolt middleware that applies to every request, over HTTP and Socket Mode alike."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_bolt.response import BoltResponse
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from switchboard.bot.events import EventLedger
from switchboard.bot.logs import SLACK_REQUEST, request_id

log = logging.getLogger(__name__)
Middleware = Callable[..., Awaitable[BoltResponse]]
FAILED = "Sorry, I could not do that just now: something on my side failed. Try again in a minute."


def deduplicate_events(ledger: EventLedger) -> Middleware:
    """Acknowledge a retried or duplicated event without running its listeners again: Bolt
    itself dispatches every delivery."""

    async def middleware(
        body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await ledger.first_delivery(str(event_id)):
            return BoltResponse(status=200, body="")
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


async def answer_errors(
    error: Exception, body: dict[str, Any], response: BoltResponse | None
) -> BoltResponse | None:
    """A slash command that failed before its answer gets a clear one, not Slack's
    `dispatch_failed`. Anything else keeps Bolt's 500 (an event's is tried again)."""
    log.error("%s failed", body.get("command") or body.get("type"), exc_info=error)
    if response is None or "command" not in body:
        return None
    answer = {"response_type": "ephemeral", "text": FAILED}
    return BoltResponse(
        status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
    )

"""Bolt middleware that applies to every request, over HTTP and Socket Mode alike."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

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

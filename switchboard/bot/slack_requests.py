"""A request Slack posts to `/slack/events`: its signature checked, its body parsed, and
what kind it is. Read the same way by the bot's edge and by its front (`switchboard.front`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

SLACK_PATH = "/slack/events"
MAX_BODY = 256 * 1024  # Slack's largest payloads (view submissions) are far smaller
# An acknowledged event whose handling failed for a passing reason (the database away, the
# bot restarting) is tried this many times in all, waiting twice as long each time: two
# minutes in all, well within the five minutes a signature is taken for.
EVENT_ATTEMPTS, EVENT_FIRST_WAIT = 8, 1.0


class BadRequest(ValueError):
    pass


async def signed_body(request: web.Request, verifier: SignatureVerifier) -> bytes | web.Response:
    """The raw body of a request Slack signed; else the answer to it: 400 for a body over
    MAX_BODY (the web app's `client_max_size`), 401 for a bad or stale signature."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": "body too large"}, status=400)
    try:
        signed = verifier.is_valid(
            body=raw,
            timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
            signature=request.headers.get("X-Slack-Signature", ""),
        )
    except ValueError:  # a non-numeric timestamp, or a body that is not UTF-8
        signed = False
    return raw if signed else web.json_response({"error": "invalid request"}, status=401)


def parse_body(raw: str, content_type: str) -> dict[str, Any]:
    """A Slack request body as a dict: JSON events, form-encoded slash commands, and
    interactions whose only form field is `payload` (JSON)."""
    try:
        if content_type == "application/json":
            body = json.loads(raw)
        else:
            fields = dict(parse_qsl(raw, keep_blank_values=True))
            body = json.loads(fields["payload"]) if fields.keys() == {"payload"} else fields
    except (ValueError, KeyError) as error:
        raise BadRequest(f"malformed body: {error}") from None
    if not isinstance(body, dict):
        raise BadRequest("body is not an object")
    return body


async def event_attempts(closing: asyncio.Event) -> AsyncIterator[int]:
    """The attempts at handling an event Slack has its 200 for (it will not send it again),
    waiting 1, 2, 4... s between them; no more once `closing` is set (the process stops).
    The bot's edge and its front both deliver events so."""
    for attempt in range(EVENT_ATTEMPTS):
        if attempt:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closing.wait(), EVENT_FIRST_WAIT * 2 ** (attempt - 1))
            if closing.is_set():
                return
        yield attempt


def request_kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return "command"
    kind = body.get("type")
    if kind in ("event_callback", "url_verification", "app_rate_limited"):
        return "event"
    if kind == "block_suggestion":
        return "options"
    return "interaction" if kind else "unknown"

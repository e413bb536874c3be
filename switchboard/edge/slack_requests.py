"""A request Slack posts to `/slack/events`: its signature checked, its body parsed, and
what kind it is. Read the same way by the bot's edge and by its front (`switchboard.edge.front`)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from switchboard.bot.platform.bodies import load_json

SLACK_PATH = "/slack/events"
MAX_BODY = 256 * 1024  # Slack's largest payloads (view submissions) are far smaller
SIGNATURE_WINDOW = 5 * 60  # seconds either side of now (CONTRACT 1.1)
# An acknowledged event whose handling failed for a passing reason (the database away, the
# bot restarting) is tried this many times in all, waiting twice as long each time: two
# minutes in all, well within the five minutes a signature is taken for.
EVENT_ATTEMPTS, EVENT_FIRST_WAIT = 8, 1.0


class BadRequest(ValueError):
    pass


async def signed_body(request: web.Request, verifier: SignatureVerifier) -> bytes | web.Response:
    """The raw body of a request Slack signed; else the answer to it: 400 for a body over
    MAX_BODY (the web app's `client_max_size`), 401 for a bad or stale signature. A signed
    body that is not UTF-8 is returned as it is (the caller answers it 400: the signature
    was fine, the body was not)."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": "body too large"}, status=400)
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if signed(verifier, raw, timestamp, signature):
        return raw
    return web.json_response({"error": "invalid request"}, status=401)


def signed(verifier: SignatureVerifier, raw: bytes, timestamp: str, signature: str) -> bool:
    """Slack's `v0` signature of `raw`, checked over its bytes. slack_sdk's own check decodes
    the body first, and so took a signed body that is not UTF-8 for a forged one (401)."""
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(verifier.clock.now() - int(timestamp)) > SIGNATURE_WINDOW:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    digest = hmac.new(verifier.signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), signature.encode(errors="replace"))


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """A Slack request body as a dict: JSON events, form-encoded slash commands, and
    interactions whose only form field is `payload` (JSON). `BadRequest` for a body that
    is not UTF-8, not well-formed, or nested deeper than `bodies.MAX_DEPTH`."""
    try:
        text = raw.decode("utf-8")
        if content_type == "application/json":
            body = load_json(text)
        else:
            fields = dict(parse_qsl(text, keep_blank_values=True))
            body = load_json(fields["payload"]) if fields.keys() == {"payload"} else fields
    except UnicodeDecodeError:
        raise BadRequest("malformed body: not UTF-8") from None
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

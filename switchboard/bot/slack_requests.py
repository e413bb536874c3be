"""A request Slack posts to `/slack/events`: its signature checked, its body parsed, and
what kind it is. Read the same way by the bot's edge and by its front (`switchboard.front`)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

SLACK_PATH = "/slack/events"
MAX_BODY = 256 * 1024  # Slack's largest payloads (view submissions) are far smaller
# Slack's deepest payloads (rich text in a message inside a block action) nest about 15
# levels; a body nested far deeper is refused before anything walks it recursively (Python's
# own JSON decoder raised RecursionError, a 500, on a body nested 100,000 levels deep).
MAX_DEPTH = 64
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
    is not UTF-8, not well-formed, or nested deeper than MAX_DEPTH."""
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


def load_json(text: str | bytes) -> Any:
    """`json.loads`, refusing (ValueError) a document nested deeper than MAX_DEPTH, so that
    nothing recursive (our cleaning, pydantic, Bolt) walks it afterwards."""
    try:
        document = json.loads(text)
    except RecursionError:  # the decoder's own limit, near 1,000 levels
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    if _brackets(text) > MAX_DEPTH and nesting(text) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return document


def _brackets(text: str | bytes) -> int:
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


# A bracket, or a whole string (whose brackets do not count). Linear on well-formed JSON,
# which is all `nesting` is given: `load_json` decodes the text first.
_TOKENS = re.compile(r'[\[{\]}]|"(?:[^"\\]|\\.)*"')


def nesting(text: str | bytes) -> int:
    """How deep the arrays and objects of a well-formed JSON text nest; a loop, not a
    recursion, so that any depth is measured."""
    data = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    depth = deepest = 0
    for found in _TOKENS.finditer(data):
        token = found.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


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

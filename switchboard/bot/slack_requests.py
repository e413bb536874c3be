"""The body of a request Slack posts to `/slack/events`, parsed, and what kind it is: read
the same way by the bot's edge and by its front (`switchboard.front`)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl


class BadRequest(ValueError):
    pass


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


def request_kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return "command"
    kind = body.get("type")
    if kind in ("event_callback", "url_verification", "app_rate_limited"):
        return "event"
    if kind == "block_suggestion":
        return "options"
    return "interaction" if kind else "unknown"

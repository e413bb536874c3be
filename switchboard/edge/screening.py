"""What the edge refuses with 400 before Bolt sees it: signed bodies of a kind we never
handle. An event is acknowledged before its listeners run, so an event type we do not
subscribe to must be turned away here, or it would be stored as delivered and answered 200."""

from __future__ import annotations

from typing import Any

from switchboard.handlers import ACKED_AT_ONCE, EVENT_PAYLOADS, EVENTS
from switchboard.handlers.payloads import Malformed, parse

# JSON bodies Slack sends to the events URL.
JSON_TYPES = frozenset({"event_callback", "url_verification", "app_rate_limited"})
# The `event.type` of each subscribed event (`message.channels` arrives as `message`).
EVENT_TYPES = frozenset(name.split(".")[0] for name in EVENTS)
# The interactions our listeners take: buttons and selects, modals, external select options.
INTERACTION_TYPES = frozenset(
    {"block_actions", "view_submission", "view_closed", "block_suggestion"}
)


def refusal(body: dict[str, Any], content_type: str) -> str:
    """Why `body` is not a request we handle ("" when it is one)."""
    if content_type == "application/json":
        kind = body.get("type")
        if kind not in JSON_TYPES:
            return "unknown request type"
        event = body.get("event")
        if kind != "event_callback":
            return ""
        if not isinstance(event, dict) or event.get("type") not in EVENT_TYPES:
            return "unknown event type"
        return _malformed_event(event)
    if "payload" in body:  # beside other fields: not how Slack sends an interaction
        return "unexpected payload field"
    if "command" in body:
        command = body["command"]
        return "" if isinstance(command, str) and command.startswith("/") else "bad command"
    if "ssl_check" in body:  # Slack checking the certificate of a slash command's URL
        return ""
    if isinstance(body.get("type"), str):  # an interaction, from its `payload` field
        if body["type"] not in INTERACTION_TYPES:
            return "unknown interaction type"
        return _malformed_interaction(body)
    return "unknown request"


def _malformed_event(event: dict[str, Any]) -> str:
    model = EVENT_PAYLOADS.get(str(event["type"]))
    if model is None:
        return ""
    try:
        parse(model, event)
    except Malformed as error:
        return f"malformed event: {error}"
    return ""


def _malformed_interaction(body: dict[str, Any]) -> str:
    """What Bolt reads of an interaction before any listener runs (and fails on, with a
    traceback and a 500, when it is missing or of the wrong type)."""
    view, actions, user = body.get("view"), body.get("actions"), body.get("user")
    needs_view = "view" in body or body["type"].startswith("view_")
    if needs_view and not (
        isinstance(view, dict) and isinstance(view.get("type"), str) and _names(view, "callback_id")
    ):
        return "malformed view"
    if body["type"] == "block_actions" and not (
        isinstance(actions, list)
        and actions
        and all(isinstance(a, dict) and _names(a, "action_id", "block_id") for a in actions)
    ):
        return "malformed actions"
    if body["type"] == "block_suggestion" and not _names(body, "action_id", "block_id"):
        return "malformed options request"  # Bolt matches on these, and logs them as text
    if not isinstance(user, dict):
        return "malformed user"
    return ""


def _names(part: dict[str, Any], *keys: str) -> bool:
    """Whether the ids Bolt matches listeners on are text where `part` has them."""
    return all(isinstance(part.get(key, ""), str) for key in keys)


def acked_at_once(body: dict[str, Any]) -> bool:
    """Whether `body` is a well-formed command the edge acknowledges itself (ACKED_AT_ONCE)."""
    model = ACKED_AT_ONCE.get(str(body.get("command")))
    if model is None:
        return False
    try:
        parse(model, body)
    except Malformed:
        return False
    return True

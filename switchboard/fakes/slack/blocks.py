"""Cheap Block Kit checks: the limits a bot overflows in practice (CONTRACT section 5).

Slack answers a bad message with `invalid_blocks` and a bad view with `invalid_arguments`, both
with `response_metadata.messages` in the `[ERROR] ... [json-pointer:...]` form. This is not a
schema validator: it catches counts and lengths, which is what digests and long incident
titles break.
"""

from __future__ import annotations

import json
from typing import Any

from switchboard.fakes.slack.args import SlackError, invalid_arguments

MESSAGE_BLOCKS = 50
MESSAGE_ATTACHMENTS = 100
VIEW_BLOCKS = 100
VIEW_BYTES = 250_000
MODAL_TEXT = 24  # title, submit, close
PRIVATE_METADATA = 3000
ID_LENGTH = 255  # block_id, action_id, callback_id, external_id

# (block type, path inside the block, max characters)
_TEXT_LIMITS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("section", ("text", "text"), 3000),
    ("header", ("text", "text"), 150),
    ("markdown", ("text",), 12_000),
    ("input", ("label", "text"), 2000),
    ("input", ("hint", "text"), 2000),
)
# (block type, list field, max items)
_COUNT_LIMITS = (
    ("section", "fields", 10),
    ("context", "elements", 10),
    ("actions", "elements", 25),
)


def _too_long(limit: int, pointer: str) -> str:
    return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _too_many(limit: int, pointer: str) -> str:
    return f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def block_problems(blocks: Any, limit: int, pointer: str) -> list[str]:
    """Every limit `blocks` breaks, as Slack-style messages rooted at `pointer`."""
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        return [f"[ERROR] must be an array of objects [json-pointer:{pointer}]"]
    problems = [_too_many(limit, pointer)] if len(blocks) > limit else []
    for index, block in enumerate(blocks):
        problems += _one_block(block, f"{pointer}/{index}")
    return problems


def _one_block(block: dict[str, Any], pointer: str) -> list[str]:
    kind = block.get("type")
    problems = (
        []
        if isinstance(kind, str)
        else [f"[ERROR] missing required field: type [json-pointer:{pointer}]"]
    )
    if len(str(block.get("block_id", ""))) > ID_LENGTH:
        problems.append(_too_long(ID_LENGTH, f"{pointer}/block_id"))
    for block_type, path, max_chars in _TEXT_LIMITS:
        text = _dig(block, path) if kind == block_type else None
        if isinstance(text, str) and len(text) > max_chars:
            problems.append(_too_long(max_chars, f"{pointer}/{'/'.join(path)}"))
    for block_type, field, max_items in _COUNT_LIMITS:
        items = block.get(field) if kind == block_type else None
        if isinstance(items, list) and len(items) > max_items:
            problems.append(_too_many(max_items, f"{pointer}/{field}"))
    return problems


def check_message_blocks(blocks: Any) -> None:
    if blocks is None:
        return
    if problems := block_problems(blocks, MESSAGE_BLOCKS, "/blocks"):
        raise SlackError("invalid_blocks", response_metadata={"messages": problems})


def check_attachments(attachments: Any) -> None:
    """Attachments as Slack takes them: at most 100 objects; blocks inside one are held to
    a message's rules, pointed at as `/attachments/<i>/blocks/...`."""
    if attachments is None:
        return
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise SlackError("invalid_attachments")
    if len(attachments) > MESSAGE_ATTACHMENTS:
        raise SlackError("too_many_attachments")
    problems = [
        problem
        for index, attachment in enumerate(attachments)
        if "blocks" in attachment
        for problem in block_problems(
            attachment["blocks"], MESSAGE_BLOCKS, f"/attachments/{index}/blocks"
        )
    ]
    if problems:
        raise SlackError("invalid_blocks", response_metadata={"messages": problems})


def check_view(view: Any, *, kind: str) -> dict[str, Any]:
    """Validate a view of type `kind` ("modal" or "home") and return it."""
    if not isinstance(view, dict):
        raise invalid_arguments("[ERROR] missing required field: view")
    if view.get("type") != kind:
        raise invalid_arguments(f"[ERROR] view type must be {kind} [json-pointer:/view/type]")
    if len(json.dumps(view)) > VIEW_BYTES:
        raise SlackError("view_too_large")
    problems = block_problems(view.get("blocks", []), VIEW_BLOCKS, "/view/blocks")
    problems += _modal_problems(view) if kind == "modal" else []
    if len(str(view.get("private_metadata", ""))) > PRIVATE_METADATA:
        problems.append(_too_long(PRIVATE_METADATA, "/view/private_metadata"))
    for field in ("callback_id", "external_id"):
        if len(str(view.get(field, ""))) > ID_LENGTH:
            problems.append(_too_long(ID_LENGTH, f"/view/{field}"))
    if problems:
        raise invalid_arguments(*problems)
    return view


def _modal_problems(view: dict[str, Any]) -> list[str]:
    problems = (
        [] if "title" in view else ["[ERROR] missing required field: title [json-pointer:/view]"]
    )
    for field in ("title", "submit", "close"):
        text = _dig(view, (field, "text"))
        if isinstance(text, str) and len(text) > MODAL_TEXT:
            problems.append(_too_long(MODAL_TEXT, f"/view/{field}/text"))
    blocks = view.get("blocks", [])
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if has_input and "submit" not in view:
        problems.append(
            "[ERROR] must provide a submit property when using input blocks [json-pointer:/view]"
        )
    return problems

"""What a user sees, checked: Block Kit's limits (stricter and wider than the fake's, which
only catches what Slack refuses most often) and special mentions smuggled in from user text.

Hostile text carries these mentions; the bot itself never writes them, so finding one
unescaped in a rendered message means user text got through unescaped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

# What user text tries to smuggle, and what must never come out unescaped.
SMUGGLED = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@UEVIL666>",
    "<@WEVIL666|boss>",
    "<!subteam^SEVIL666>",
    "<!subteam^SEVIL666|@admins>",
    "<#CEVIL666>",
    "<https://evil.example/login|Reset your password>",
    "<!date^1^{date}|x>",
)
FORBIDDEN = (
    "<!channel",
    "<!here",
    "<!everyone",
    "<@UEVIL666",
    "<@WEVIL666",
    "<!subteam^SEVIL666",
    "<#CEVIL666",
    "<https://evil",
    "<!date^1^",
)
# Keys whose strings Slack never renders as mrkdwn.
NOT_RENDERED = {
    "action_id", "block_id", "callback_id", "value", "private_metadata", "url", "image_url",
    "external_id", "initial_date", "initial_time", "initial_user", "ts", "channel", "user",
    "metadata", "response_type", "id", "type", "style",
}  # fmt: skip

# Hostile text: mentions, entities, control characters, newlines, unicode, huge runs.
hostile_piece = st.one_of(
    st.sampled_from(SMUGGLED),
    st.sampled_from(["&", "<", ">", "&amp;", "&lt;", "`", "```", "*", "_", "~", "|", "\n"]),
    st.text(max_size=20),
    st.sampled_from(["é" * 3000, "<" * 1500, "&" * 1200, "x" * 41_000, "🚒" * 200]),
)
hostile_text = st.lists(hostile_piece, max_size=6).map("".join)
# One line, as a title or a name would be after Slack's own trimming.
hostile_words = hostile_text.map(lambda t: " ".join(t.split()) or "x")

# (block type, path to a text, limit), the limits of Slack's Block Kit reference.
TEXT_LIMITS = {
    "section": 3000,
    "header": 150,
    "markdown": 12_000,
    "input": 2000,  # label and hint
}
ELEMENT_TEXT = {"button": 75, "static_select": 150, "external_select": 150, "users_select": 150}


def _too_long(problems: list[str], where: str, text: Any, limit: int) -> None:
    if isinstance(text, str) and len(text) > limit:
        problems.append(f"{where}: {len(text)} characters, limit {limit}")


def block_problems(blocks: Any, limit: int) -> list[str]:
    """Every Block Kit limit `blocks` breaks."""
    problems: list[str] = []
    if not isinstance(blocks, list):
        return ["blocks: not a list"]
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks, limit {limit}")
    for n, block in enumerate(blocks):
        kind = block.get("type")
        where = f"blocks[{n}] {kind}"
        text = block.get("text")
        if kind in ("section", "header", "markdown"):
            value = text if kind == "markdown" else (text or {}).get("text")
            _too_long(problems, where, value, TEXT_LIMITS[kind])
        if kind == "input":
            _too_long(problems, where + " label", block["label"]["text"], 2000)
            _too_long(problems, where + " hint", block.get("hint", {}).get("text"), 2000)
        fields = block.get("fields") or []
        if len(fields) > 10:
            problems.append(f"{where}: {len(fields)} fields, limit 10")
        for field in fields:
            _too_long(problems, where + " field", field.get("text"), 2000)
        if kind == "context":
            elements = block.get("elements", [])
            if len(elements) > 10:
                problems.append(f"{where}: {len(elements)} elements, limit 10")
            for element in elements:
                _too_long(problems, where + " element", element.get("text"), 2000)
        if kind == "actions" and len(block.get("elements", [])) > 25:
            problems.append(f"{where}: more than 25 elements")
        elements = block.get("elements", []) if kind == "actions" else []
        if "accessory" in block:
            elements = [block["accessory"]]
        if kind == "input":
            elements = [block["element"]]
        for element in elements:
            problems += _element_problems(element, where)
        _too_long(problems, where + " block_id", block.get("block_id"), 255)
    return problems


def _element_problems(element: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    kind = element.get("type", "")
    where = f"{where} {kind} {element.get('action_id', '')}"
    _too_long(problems, where + " action_id", element.get("action_id"), 255)
    if kind == "button":
        _too_long(problems, where + " text", element["text"]["text"], 75)
        _too_long(problems, where + " value", element.get("value"), 2000)
    _too_long(problems, where + " placeholder", element.get("placeholder", {}).get("text"), 150)
    options = element.get("options", [])
    if len(options) > 100:
        problems.append(f"{where}: {len(options)} options, limit 100")
    for option in options + element.get("initial_options", []):
        _too_long(problems, where + " option", option["text"]["text"], 75)
        _too_long(problems, where + " option value", option["value"], 150)
    return problems


def message_problems(message: dict[str, Any]) -> list[str]:
    """A chat.postMessage (or an ack, or a response_url answer): its blocks and its text."""
    problems = block_problems(message.get("blocks", []), 50)
    _too_long(problems, "text", message.get("text"), 40_000)
    return problems + smuggled(message)


def view_problems(view: dict[str, Any]) -> list[str]:
    problems = block_problems(view.get("blocks", []), 100)
    for field in ("title", "submit", "close"):
        _too_long(problems, field, view.get(field, {}).get("text"), 24)
    _too_long(problems, "private_metadata", view.get("private_metadata"), 3000)
    return problems + smuggled(view)


def rendered_strings(value: Any, key: str = "") -> Iterator[str]:
    """Every string Slack renders as mrkdwn (plain_text never renders a mention)."""
    if isinstance(value, str):
        if key not in NOT_RENDERED:
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from rendered_strings(item, key)
    elif isinstance(value, dict) and value.get("type") != "plain_text":
        for name, item in value.items():
            yield from rendered_strings(item, name)


def smuggled(value: Any) -> list[str]:
    """Each rendered string holding a mention, link or date that came from hostile text."""
    return [
        f"unescaped {bad!r} in {text[:200]!r}"
        for text in rendered_strings(value)
        for bad in FORBIDDEN
        if bad in text
    ]

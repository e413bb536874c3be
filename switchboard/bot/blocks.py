"""Block Kit building blocks, each within Slack's limits. Text given to `mrkdwn`,
`section` and `context` must already be escaped (`text.safe`); plain text never renders
mentions, so it is only shortened."""

from __future__ import annotations

from typing import Any

from switchboard.bot.text import HEADER_LIMIT, shorten

Block = dict[str, Any]
LABEL_LIMIT = 2000  # input labels and hints
PLAIN_LIMIT = 75  # button texts, options, placeholders: the tightest common limit


def plain(text: str, limit: int = PLAIN_LIMIT) -> dict[str, str]:
    return {"type": "plain_text", "text": shorten(text, limit)}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_LIMIT)}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def button(action: str, text: str, value: str, style: str = "") -> Block:
    block: Block = {"type": "button", "action_id": action, "text": plain(text), "value": value}
    if style:
        block["style"] = style
    return block


def input_block(
    block_id: str, label: str, element: Block, optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, LABEL_LIMIT),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, LABEL_LIMIT)
    return block


def option(value: str, text: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value[:150]}


def title(text: str) -> dict[str, str]:
    """A modal's title, submit or close text: 24 characters at most."""
    return plain(text, 24)

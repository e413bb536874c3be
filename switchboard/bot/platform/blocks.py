"""Block Kit building blocks, each within Slack's limits. Text given to `mrkdwn`,
`section` and `context` must already be escaped (`text.safe`); plain text never renders
mentions, so it is only shortened."""

from __future__ import annotations

from typing import Any

from switchboard.bot.platform.text import HEADER_LIMIT, shorten

Block = dict[str, Any]
LABEL_LIMIT = 2000  # input labels and hints
PLAIN_LIMIT = 75  # button texts, options, placeholders: the tightest common limit
MAX_BLOCKS = 50  # in one message
CHUNK = 2900  # section text, under Slack's 3000 with room to spare


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


def fit(
    head: list[Block], groups: list[list[Block]], footer: list[Block], what: str
) -> list[Block]:
    """`head`, as many whole groups as fit in one message with `footer`, and a note of how
    many were left out; a first group too big on its own is cut and says so."""
    blocks = list(head)
    room = MAX_BLOCKS - len(footer) - 2  # room for the "cut" and the "left out" notes
    shown = 0
    for group in groups:
        if len(blocks) + len(group) > room:
            if shown == 0:
                blocks += group[: room - len(blocks)]
                blocks.append(context("…cut here to fit in one Slack message."))
                shown = 1
            break
        blocks += group
        shown += 1
    if shown < len(groups):
        left = len(groups) - shown
        blocks.append(context(f"…and {left} more {what}{'' if left == 1 else 's'}"))
    return blocks + footer


def chunks(lines: list[str], limit: int = CHUNK) -> list[str]:
    """Lines joined into as few section texts of at most `limit` characters as they fit."""
    found: list[str] = []
    for line in lines:
        line = shorten(line, limit)
        if found and len(found[-1]) + len(line) + 1 <= limit:
            found[-1] += "\n" + line
        else:
            found.append(line)
    return found

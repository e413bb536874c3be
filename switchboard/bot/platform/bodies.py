"""What every body from outside goes through before anything reads it: JSON nested no
deeper than MAX_DEPTH, and every string storable and sendable. Used by the Slack edge, its
front and the PagerDuty webhook alike; light on purpose (the front imports it)."""

from __future__ import annotations

import json
import re
from typing import Any

# Slack's deepest payloads (rich text in a message inside a block action) nest about 15
# levels; a body nested far deeper is refused before anything walks it recursively (Python's
# own JSON decoder raised RecursionError, a 500, on a body nested 100,000 levels deep).
MAX_DEPTH = 64


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


# UTF-16 surrogates cannot stand alone in UTF-8. JSON's `\ud83d\ude00` escapes decode to
# one character; a lone `\ud800` stays a surrogate, which neither database stores nor any
# Slack call encodes (a UnicodeEncodeError, and a traceback, in each).
_UNENCODABLE = re.compile("[\ud800-\udfff]")


def cleaned(body: dict[str, Any]) -> dict[str, Any]:
    """`body` with every string (keys too) storable and sendable: NUL characters taken out
    (PostgreSQL stores no NUL in text, and refused a title or a note carrying one), lone
    surrogates replaced by U+FFFD, as a UTF-8 decoder replaces bytes it cannot read. The
    edge bounds the nesting first (`MAX_DEPTH`), so the recursion here stays shallow."""
    return {_text(key): _cleaned(value) for key, value in body.items()}


def clean_text(text: str) -> str:
    """One string as `cleaned` leaves it, for bodies that do not come from Slack."""
    return _text(text)


def _text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _UNENCODABLE.sub("\ufffd", text) if not text.isascii() else text


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    if isinstance(value, dict):
        return {_text(str(key)): _cleaned(item) for key, item in value.items()}
    return value


# The name the edge used before lone surrogates were cleaned too.
without_nul = cleaned

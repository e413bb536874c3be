"""What a catalog file says of an entity beyond the fields we map: Cortex's
`x-cortex-custom-metadata`, OpsLevel's `properties`, Backstage annotations we do not read
otherwise. Kept as plain JSON values, bounded, and stored as the entity's `custom.<key>`
facts at import (what CQL's `custom("key")` reads)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

from switchboard.bot.catalog.yamlsource import Node, excerpt

MAX_KEYS = 100  # per entity
MAX_KEY_CHARS = 128
MAX_VALUE_CHARS = 4_000  # a value's JSON text
_MAX_DEPTH = 8


class _TooDeep(Exception):
    pass


def custom_values(node: Node, *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The mapping at `node` as plain JSON values, each key a text; a key or value over the
    bounds is left out with a warning at its line. A Cortex value given as
    `{value: ..., description: ...}` is its `value`."""
    found: dict[str, Any] = {}
    for key in node.mapping().field_names():
        if key in skip:
            continue
        child = node.child(key)
        if len(found) == MAX_KEYS:
            node.src.warning(
                child.line, f"{node.path}: more than {MAX_KEYS} keys, the rest left out"
            )
            break
        if len(key) > MAX_KEY_CHARS:
            node.src.warning(
                child.line, f"{child.path}: a key of over {MAX_KEY_CHARS} characters, left out"
            )
            continue
        value = _described_value(child.raw)
        try:
            plain = _plain(value, 0)
        except _TooDeep:
            node.src.warning(child.line, f"{child.path}: nested over {_MAX_DEPTH} levels, left out")
            continue
        if len(json.dumps(plain)) > MAX_VALUE_CHARS:
            node.src.warning(
                child.line,
                f"{child.path}: a value of over {MAX_VALUE_CHARS:,} characters, left out",
            )
            continue
        if plain is not None:
            found[key] = plain
    return found


def _described_value(raw: Any) -> Any:
    if isinstance(raw, dict) and "value" in raw and set(raw) <= {"value", "description"}:
        return raw["value"]
    return raw


def _plain(value: Any, depth: int) -> Any:
    """JSON's own types: mappings with text keys, lists, text, numbers, booleans, null."""
    if depth > _MAX_DEPTH:
        raise _TooDeep
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or infinity
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return excerpt(str(value))

"""Methods on CQL values: collections (`.length`, `.filter(x => ...)`, `.sum`...), strings
(`.matches(regex)`), dates (`.fromNow()`) and versions (`.isStable()`).

Regular expressions run under the `regex` module's timeout, so a catastrophic pattern
fails the rule with a message instead of hanging the evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import regex

from switchboard.bot.scorecards.cql.ast import Pos
from switchboard.bot.scorecards.cql.errors import LIMIT, TYPE, CqlError
from switchboard.bot.scorecards.cql.values import (
    SemVer,
    as_datetime,
    greater,
    less,
    show,
    truth,
    type_name,
)

REGEX_TIMEOUT = 0.05  # seconds one `.matches` may take
MAX_PATTERN = 1000  # characters in one regular expression
Fn = Callable[[Any], Any]


def _list(value: Any, method: str, pos: Pos) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return list(value)
    raise CqlError(TYPE, f"`.{method}` needs a list, got {type_name(value)} {show(value)}", pos)


def length(value: Any, pos: Pos) -> int | None:
    if value is None:
        return None
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    raise CqlError(
        TYPE, f"`.length` needs a list, string or object, got {type_name(value)} {show(value)}", pos
    )


def any_of(value: Any, fn: Fn, pos: Pos) -> bool | None:
    items = _list(value, "any", pos)
    return None if items is None else any(truth(fn(i), "`.any`", pos) for i in items)


def all_of(value: Any, fn: Fn, pos: Pos) -> bool | None:
    items = _list(value, "all", pos)
    return None if items is None else all(truth(fn(i), "`.all`", pos) for i in items)


def none_of(value: Any, fn: Fn, pos: Pos) -> bool | None:
    items = _list(value, "none", pos)
    return None if items is None else not any(truth(fn(i), "`.none`", pos) for i in items)


def filter_of(value: Any, fn: Fn, pos: Pos) -> list[Any] | None:
    items = _list(value, "filter", pos)
    return None if items is None else [i for i in items if truth(fn(i), "`.filter`", pos)]


def map_of(value: Any, fn: Fn, pos: Pos) -> list[Any] | None:
    items = _list(value, "map", pos)
    return None if items is None else [fn(i) for i in items]


def _numbers(value: Any, method: str, pos: Pos) -> list[int | float] | None:
    items = _list(value, method, pos)
    if items is None:
        return None
    numbers = [i for i in items if i is not None]  # nulls in a list are skipped, not zero
    for item in numbers:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise CqlError(
                TYPE, f"`.{method}` needs numbers, got a {type_name(item)} {show(item)}", pos
            )
    return numbers


def sum_of(value: Any, pos: Pos) -> int | float | None:
    numbers = _numbers(value, "sum", pos)
    return None if numbers is None else sum(numbers)


def average_of(value: Any, pos: Pos) -> float | None:
    numbers = _numbers(value, "average", pos)
    return sum(numbers) / len(numbers) if numbers else None  # empty: no average, null


def min_of(value: Any, pos: Pos) -> Any:
    return _extreme(value, "min", pos, less)


def max_of(value: Any, pos: Pos) -> Any:
    return _extreme(value, "max", pos, greater)


def _extreme(value: Any, method: str, pos: Pos, better: Callable[[Any, Any, Pos], bool]) -> Any:
    items = _list(value, method, pos)
    if not items:
        return None
    best = None
    for item in items:
        if item is not None and (best is None or better(item, best, pos)):
            best = item
    return best


def get(value: Any, key: Any, pos: Pos) -> Any:
    if value is None or key is None:
        return None
    if isinstance(value, Mapping):
        return value.get(key) if isinstance(key, str) else None
    if isinstance(value, list | tuple) and isinstance(key, int) and not isinstance(key, bool):
        return value[key] if -len(value) <= key < len(value) else None
    raise CqlError(TYPE, f"`.get` needs an object or a list, got {type_name(value)}", pos)


def field(value: Any, name: str, pos: Pos) -> Any:
    """`value.name`: an object's field; null on null or a missing field."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value.get(name)
    if isinstance(value, SemVer) and name in ("major", "minor", "patch"):
        return getattr(value, name)
    raise CqlError(TYPE, f"`.{name}`: a {type_name(value)} has no fields ({show(value)})", pos)


def index(value: Any, key: Any, pos: Pos) -> Any:
    return get(value, key, pos)


def contains(value: Any, item: Any, pos: Pos) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not isinstance(item, str):
            raise CqlError(
                TYPE, f"`.contains` on a string needs a string, got {type_name(item)}", pos
            )
        return item in value
    from switchboard.bot.scorecards.cql.values import equal

    return any(equal(i, item) for i in _list(value, "contains", pos) or [])


def pattern(text: Any, pos: Pos) -> regex.Pattern[str]:
    """A regular expression, compiled once per rule when it is a literal."""
    if not isinstance(text, str):
        raise CqlError(TYPE, f"a regular expression must be a string, got {type_name(text)}", pos)
    if len(text) > MAX_PATTERN:
        raise CqlError(LIMIT, f"regular expression longer than {MAX_PATTERN} characters", pos)
    try:
        return regex.compile(text)
    except regex.error as error:
        raise CqlError(TYPE, f"invalid regular expression {text!r}: {error}", pos) from None


def matches(value: Any, compiled: regex.Pattern[str], pos: Pos) -> bool | None:
    """Whether the whole string matches (Java's `String.matches`, which Cortex uses)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise CqlError(
            TYPE, f"`.matches` needs a string, got {type_name(value)} {show(value)}", pos
        )
    try:
        return compiled.fullmatch(value, timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        raise CqlError(
            LIMIT, f"regular expression {compiled.pattern!r} took longer than {REGEX_TIMEOUT}s", pos
        ) from None


def any_match(value: Any, compiled: regex.Pattern[str], pos: Pos) -> bool | None:
    items = _list(value, "anyMatch", pos)
    if items is None:
        return None
    return any(matches(item, compiled, pos) for item in items if item is not None)


def from_now(value: Any, now: datetime, pos: Pos) -> timedelta | None:
    """The date's distance from now: negative in the past (`> duration("-P7D")`: within a week)."""
    moment = as_datetime(value, "`.fromNow()`", pos)
    return None if moment is None else moment - now


def is_stable(value: Any, pos: Pos) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, SemVer):
        raise CqlError(TYPE, f"`.isStable()` needs a semver, got {type_name(value)}", pos)
    return value.stable

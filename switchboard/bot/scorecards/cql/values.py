"""CQL's values at run time and the operators over them, with the null rules of docs/cql.md:
access on null is null, `==` and `!=` compare null like any value, ordering comparisons
with null are false, arithmetic with null is null, and null counts as false in `&&`, `||`
and `!`. Any other mismatch is a type error that names the value's type."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from switchboard.bot.scorecards.cql.ast import Pos
from switchboard.bot.scorecards.cql.errors import LIMIT, TYPE, CqlError

MAX_TEXT = 100_000  # characters a `+` of strings may build


@dataclass(frozen=True, slots=True, order=True)
class SemVer:
    major: int
    minor: int
    patch: int
    # a release sorts after its pre-releases: (1, ()) > (0, ("rc", 1))
    pre: tuple[int, tuple[int | str, ...]] = (1, ())

    @property
    def stable(self) -> bool:
        return self.major >= 1 and not self.pre[1]

    def __str__(self) -> str:
        pre = ".".join(map(str, self.pre[1]))
        return f"{self.major}.{self.minor}.{self.patch}" + (f"-{pre}" if pre else "")


_SEMVER = re.compile(
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?"
)


def semver(text: Any, pos: Pos) -> SemVer | None:
    if text is None:
        return None
    if isinstance(text, SemVer):
        return text
    if not isinstance(text, str):
        raise CqlError(TYPE, f"semver() needs a string, got {type_name(text)}", pos)
    match = _SEMVER.fullmatch(text.strip())
    if not match or len(text) > 256:
        raise CqlError(TYPE, f"semver(): {text[:60]!r} is not a semantic version", pos)
    major, minor, patch, pre = match.groups()
    parts = tuple(int(p) if p.isdigit() else p for p in pre.split(".")) if pre else ()
    return SemVer(int(major), int(minor), int(patch), (0, parts) if parts else (1, ()))


_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)


def duration(text: Any, pos: Pos) -> timedelta:
    """An ISO 8601 duration; a year is 365 days and a month 30 (Cortex's own reading)."""
    if not isinstance(text, str):
        raise CqlError(TYPE, f"duration() needs a string, got {type_name(text)}", pos)
    match = _DURATION.fullmatch(text.strip().upper())
    if not match or text.strip().upper() in ("P", "-P", "PT", "-PT") or len(text) > 40:
        raise CqlError(TYPE, f"duration(): {text[:60]!r} is not an ISO 8601 duration", pos)
    sign, years, months, weeks, days, hours, minutes, seconds = match.groups()
    try:
        value = timedelta(
            days=int(years or 0) * 365
            + int(months or 0) * 30
            + int(weeks or 0) * 7
            + int(days or 0),
            hours=int(hours or 0),
            minutes=int(minutes or 0),
            seconds=float(seconds or 0),
        )
    except OverflowError:
        raise CqlError(LIMIT, f"duration(): {text!r} is too long", pos) from None
    return -value if sign else value


def type_name(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list() | tuple():
            return "list"
        case Mapping():
            return "object"
        case timedelta():
            return "duration"
        case datetime() | date():
            return "date"
        case SemVer():
            return "semver"
        case Callable():
            return "lambda"
    return type(value).__name__


def show(value: Any, limit: int = 80) -> str:
    """A value as a reason shows it."""
    match value:
        case None:
            text = "null"
        case bool():
            text = "true" if value else "false"
        case float() if value.is_integer():
            text = str(int(value))
        case float():
            text = f"{value:.4g}"
        case str():
            text = f'"{value}"'
        case timedelta():
            text = _show_duration(value)
        case list() | tuple():
            text = (
                "["
                + ", ".join(show(v, limit) for v in value[:5])
                + (", ..." if len(value) > 5 else "")
                + "]"
            )
        case _:
            text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return (
        sign
        + (f"{days}d" if days else "")
        + (f"{hours}h" if hours or not days else "")
        + (f"{rest // 60}m" if rest >= 60 and not days else "")
    )


# Operators ---------------------------------------------------------------------------------

_NUMBERS = (int, float)


def truth(value: Any, what: str, pos: Pos) -> bool:
    """A value as `&&`, `||`, `!` and a rule's result read it: null is false."""
    if value is None:
        return False
    if value is True or value is False:
        return bool(value)
    raise CqlError(TYPE, f"{what} needs true or false, got {type_name(value)} {show(value)}", pos)


def equal(left: Any, right: Any) -> bool:
    """`==`: numbers by value (1 == 1.0), everything else by type and value; true is not 1."""
    if left is None or right is None:
        return left is right
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, SemVer) or isinstance(right, SemVer):
        return _as_semver(left) == _as_semver(right)
    return bool(
        type(left) is type(right) or (isinstance(left, _NUMBERS) and isinstance(right, _NUMBERS))
    ) and bool(left == right)


def _as_semver(value: Any) -> SemVer | None:
    if isinstance(value, SemVer):
        return value
    if isinstance(value, str):
        try:
            return semver(value, Pos(1, 1))
        except CqlError:
            return None
    return None


def _orderable(left: Any, right: Any, op: str, pos: Pos) -> tuple[Any, Any] | None:
    """The two sides as Python compares them, None when one is null (the comparison is
    false), a type error when they cannot be ordered against each other."""
    if left is None or right is None:
        return None
    kinds = (type(left), type(right))
    if bool in kinds:
        pass
    elif (isinstance(left, _NUMBERS) and isinstance(right, _NUMBERS)) or kinds in (
        (str, str),
        (timedelta, timedelta),
        (SemVer, SemVer),
    ):
        return left, right
    elif SemVer in kinds and str in kinds:
        other = _as_semver(left if kinds[0] is str else right)
        if other is not None:
            return (other, right) if kinds[0] is str else (left, other)
    raise CqlError(
        TYPE,
        f"`{op}` cannot order {type_name(left)} {show(left)} against "
        f"{type_name(right)} {show(right)}",
        pos,
    )


def less(left: Any, right: Any, pos: Pos) -> bool:
    pair = _orderable(left, right, "<", pos)
    return pair is not None and pair[0] < pair[1]


def less_equal(left: Any, right: Any, pos: Pos) -> bool:
    pair = _orderable(left, right, "<=", pos)
    return pair is not None and pair[0] <= pair[1]


def greater(left: Any, right: Any, pos: Pos) -> bool:
    pair = _orderable(left, right, ">", pos)
    return pair is not None and pair[0] > pair[1]


def greater_equal(left: Any, right: Any, pos: Pos) -> bool:
    pair = _orderable(left, right, ">=", pos)
    return pair is not None and pair[0] >= pair[1]


def arithmetic(op: str, left: Any, right: Any, pos: Pos) -> Any:
    if left is None or right is None:
        return None
    numbers = (
        isinstance(left, _NUMBERS)
        and isinstance(right, _NUMBERS)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    )
    if numbers:
        if op in "/%" and right == 0:
            raise CqlError(TYPE, f"`{op}` by zero", pos)
        match op:
            case "+":
                return left + right
            case "-":
                return left - right
            case "*":
                if abs(left) > 1e300 or abs(right) > 1e300:
                    raise CqlError(LIMIT, "`*`: the result is too large", pos)
                return left * right
            case "/":
                return left / right
            case _:
                return left % right
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        if len(left) + len(right) > MAX_TEXT:
            raise CqlError(LIMIT, f"`+`: a string longer than {MAX_TEXT} characters", pos)
        return left + right
    if op in "+-" and isinstance(left, timedelta) and isinstance(right, timedelta):
        return left + right if op == "+" else left - right
    raise CqlError(
        TYPE,
        f"`{op}` cannot combine {type_name(left)} {show(left)} and "
        f"{type_name(right)} {show(right)}",
        pos,
    )


def negate(value: Any, pos: Pos) -> Any:
    if value is None:
        return None
    if isinstance(value, (int, float, timedelta)) and not isinstance(value, bool):
        return -value
    raise CqlError(TYPE, f"`-` needs a number, got {type_name(value)} {show(value)}", pos)


def as_datetime(value: Any, what: str, pos: Pos) -> datetime | None:
    """A date as facts hold it (ISO 8601 text, or a datetime), in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise CqlError(TYPE, f"{what} needs a date, got {type_name(value)} {show(value)}", pos)

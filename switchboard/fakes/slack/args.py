"""Web API arguments as the fake receives them, and the error a handler raises.

slack_sdk sends the same argument as a query-string string, a form field or a JSON value
depending on the method (CONTRACT 3.1), so every accessor here accepts all three spellings:
`is_private=1` / `"true"` / `true`, `users=U1,U2` / `["U1", "U2"]`, `blocks` as a JSON string
or a list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SlackError(Exception):
    """An `ok: false` answer: `error` is the Slack error code, `extra` more top-level fields."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(*messages: str) -> SlackError:
    """Slack's answer to a malformed argument, with the reasons in response_metadata."""
    return SlackError("invalid_arguments", response_metadata={"messages": list(messages)})


class Args:
    """Read-only view of the merged arguments of one call."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def get(self, name: str) -> Any:
        """The raw value, with empty strings treated as absent (as Slack does)."""
        value = self.values.get(name)
        return None if value == "" else value

    def text(self, name: str, default: str = "") -> str:
        value = self.get(name)
        return default if value is None else str(value)

    def opt(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else str(value)

    def flag(self, name: str) -> bool:
        value = self.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true") if value is not None else False

    def number(self, name: str, default: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid_arguments(f"[ERROR] invalid integer: {name}") from None

    def csv(self, name: str) -> list[str]:
        value = self.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]

    def parsed(self, name: str, error: str = "invalid_arguments") -> Any:
        """A structured argument sent either as JSON text (form/query) or as a JSON value."""
        value = self.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(
                error, response_metadata={"messages": [f"invalid json: {name}"]}
            ) from None

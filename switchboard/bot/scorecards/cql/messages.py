"""A rule's failure message with what its `captures(...)` held: Cortex writes
`{{context.evaluation.captures.code-cov}}`. Only that form is replaced, by plain text: a
message is the scorecard author's text, never a template that could reach anything else."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from switchboard.bot.scorecards.cql.values import show

_CAPTURE = re.compile(r"\{\{\s*context\.evaluation\.captures\.([A-Za-z0-9_.-]+)\s*\}\}")


def fill(message: str, captures: Mapping[str, Any]) -> str:
    """The message with each capture's value ("null" for one the rule did not reach)."""
    if not message or "{{" not in message:
        return message
    return _CAPTURE.sub(lambda m: _text(captures.get(m.group(1))), message)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else show(value)

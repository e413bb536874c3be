"""Logging for operators: plain text or one JSON object a line (`LOG_FORMAT`), each record
carrying the incident and the Slack request being handled, and never a secret.

The incident and the request live in context variables, set where they become known (the
HTTP edge, the incident service and sync). asyncio copies the context into every task it
starts, so a listener or sync running after the ack still logs under the request that
started it."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

INCIDENT: ContextVar[str] = ContextVar("incident", default="")
SLACK_REQUEST: ContextVar[str] = ContextVar("slack_request", default="")

FORMATS = ("text", "json")
REDACTED = "[redacted]"
# Slack tokens whatever their source: bot, user, app-level, refresh and config tokens.
_SLACK_TOKEN = re.compile(r"\b(?:xox[abeoprs]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]+")
# Values of fields named like secrets, in JSON, reprs, headers and query strings: a
# library's DEBUG log of SQL parameters or request headers can hold a key not met yet.
_SECRET_FIELD = re.compile(
    r"(?i)((?:integration|routing|api)_?key|signing_secret|password|authorization)"
    r"""(["']?\s*[:=]\s*["']?)(?!\[redacted\])(?:(?:GenieKey|Bearer|Basic|Token)\s+)?"""
    r"""[^"'\s,;&)}\]]+"""
)
_HANDLER = "switchboard"
_SHORTEST_SECRET = 8  # a shorter value would redact ordinary words


class Redactor:
    """Takes secrets out of text: Slack tokens by their shape, everything else (signing
    secrets, pager keys, the database password) by value. Catalog keys are added as the
    catalog is read, so the set grows while the process runs."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        known = set(self._secrets)
        known.update(s for s in secrets if len(s) >= _SHORTEST_SECRET)
        # Longest first, so a secret containing another is taken out whole.
        self._secrets = sorted(known, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        # Known values first: a pattern could cut one short and leave its tail unmatched.
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _SLACK_TOKEN.sub(REDACTED, text)
        return _SECRET_FIELD.sub(rf"\1\2{REDACTED}", text)


def request_id(body: Mapping[str, Any]) -> str:
    """An id for a Slack request that Slack's own logs and retries share where there is one:
    an event's `event_id`, a command's or an interaction's `trigger_id`; else a new one."""
    for key in ("event_id", "trigger_id", "envelope_id"):
        if value := body.get(key):
            return str(value)[:64]
    return f"req-{uuid.uuid4().hex[:16]}"


def about_incident(ref: str) -> None:
    """From here on in this task (and the tasks it starts), logs name this incident."""
    INCIDENT.set(ref)


@contextmanager
def incident_scope() -> Iterator[None]:
    """Forget, on the way out, whichever incident the block said it was about: a job that
    syncs incidents one after another must not log the next under the last one's name."""
    token = INCIDENT.set(INCIDENT.get())
    try:
        yield
    finally:
        INCIDENT.reset(token)


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        context = [f"incident={v}" for v in [INCIDENT.get()] if v]
        context += [f"slack_request={v}" for v in [SLACK_REQUEST.get()] if v]
        record.context = f" [{' '.join(context)}]" if context else ""
        return self._redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "incident": INCIDENT.get(),
            "slack_request": SLACK_REQUEST.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Redacted field by field: JSON escaping could otherwise hide a secret's spelling.
        return json.dumps({k: self._redact(v) for k, v in entry.items() if v})


def configure(
    level: str, format: str, redact: Redactor, stream: TextIO | None = None
) -> logging.Handler | None:
    """One handler on the root logger for the whole process (library loggers included),
    replacing the one an earlier call added; Python's warnings go through it too. Like
    `logging.basicConfig`, it leaves alone a logging setup the host made (pytest's, say)
    and then returns None."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == _HANDLER]
    if len(ours) < len(root.handlers):
        return None
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if format == "json" else TextFormatter(redact))
    handler.set_name(_HANDLER)
    for old in ours:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)
    return handler

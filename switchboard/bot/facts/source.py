"""The one small interface every source of facts implements, and what flows through it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

JSONValue = Any  # what json.loads gives: dict, list, str, int, float, bool or None


@dataclass(frozen=True, slots=True)
class Target:
    """What to ask one source about one entity: a repository `org/name`, a schedule id..."""

    source: str  # "github", "pagerduty", "opsgenie", "slack", "sonarqube"
    entity: str  # entity ref
    kind: str  # "repository", "schedule", "escalation_policy", "service", "usergroup"...
    id: str
    paths: tuple[str, ...] = ()  # GitHub: the files whose existence is asked
    searches: tuple[str, ...] = ()  # GitHub: the code searches asked (`git.codeSearch`)


@dataclass(frozen=True, slots=True)
class Value:
    key: str
    value: JSONValue
    observed_at: datetime


class Failure(enum.Enum):
    AUTH = "auth"  # 401/403: the token is wrong or lacks a scope; stop the source
    NOT_FOUND = "not_found"  # the target is unknown there; only this entity's facts
    RATE_LIMITED = "rate_limited"  # 429, or GitHub's limits; wait `retry_after`
    TIMEOUT = "timeout"
    MALFORMED = "malformed"  # not the JSON the API documents
    UNAVAILABLE = "unavailable"  # 5xx, connection refused


# Failures of the whole source (nothing more can be fetched now): the run stops, backs off.
SOURCE_WIDE = frozenset({Failure.AUTH, Failure.RATE_LIMITED, Failure.UNAVAILABLE})


class SourceError(Exception):
    """A fetch that failed; `str()` is one line meant for people (`integrations status`)."""

    def __init__(self, kind: Failure, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Budget:
    """A source's rate-limit budget as it last told us."""

    remaining: int
    reset_at: datetime


class Source(Protocol):
    name: str
    ttl: timedelta  # how long its facts are fresh
    concurrency: int  # requests in flight at once

    async def fetch(self, target: Target) -> Sequence[Value]:
        """Every fact of `target`; raises SourceError."""
        ...

    def budget(self) -> Budget | None: ...

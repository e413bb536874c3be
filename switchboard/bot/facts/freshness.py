"""How long each kind of fact stays fresh, and a stored fact as a reader sees it: its value,
its age, whether it is stale and why. Stale facts keep their value: never blanked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from switchboard.storage.facts_store import StoredFact

# Longest prefix wins. On-call changes by the hour; repositories and analysis by the day;
# pushed facts are as fresh as the last push, and only stale after a long silence.
TTLS: dict[str, timedelta] = {
    "oncall.": timedelta(minutes=5),
    "git.": timedelta(hours=6),
    # code search is renewed as its own budget allows (10 a minute), often not every round
    "git.code_search:": timedelta(hours=24),
    "sonarqube.": timedelta(hours=6),
    "custom.": timedelta(days=30),
}
DEFAULT_TTL = timedelta(hours=6)


def ttl_for(key: str) -> timedelta:
    prefixes = [p for p in TTLS if key.startswith(p)]
    return TTLS[max(prefixes, key=len)] if prefixes else DEFAULT_TTL


@dataclass(frozen=True, slots=True)
class FactView:
    entity: str
    key: str
    source: str
    value: Any
    fetched_at: datetime
    age: timedelta  # since we last heard it from the source
    stale: bool  # past its TTL, or its source failed since
    error: str  # the source's last error for this entity, "" when none

    @property
    def age_text(self) -> str:
        """ "12 min ago", the way `/owner` and `/scorecard` say how old a value is."""
        return age_text(self.age)


def view(fact: StoredFact, now: datetime) -> FactView:
    age = max(now - fact.fetched_at, timedelta(0))
    stale = age > ttl_for(fact.key) or bool(fact.error)
    return FactView(
        fact.entity, fact.key, fact.source, fact.value, fact.fetched_at, age, stale, fact.error
    )


def views(facts: Sequence[StoredFact], now: datetime) -> list[FactView]:
    return [view(f, now) for f in facts]


def age_text(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"

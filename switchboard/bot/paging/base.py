"""What every pager shares: the page to send, the receipt a provider gives back, the one
error type callers handle, and the key that makes a retried trigger harmless."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from switchboard.bot.catalog.api import OnCall


@dataclass(frozen=True, slots=True)
class Page:
    """One incident paging one on-call target."""

    incident_ref: str  # "INC-42": the base of the dedup key / alias, stable across retries
    title: str  # user text: never log it above DEBUG
    severity: str  # the configured label, e.g. "SEV1"
    severity_rank: int  # its position in the configured severities; 0 is the most severe
    service: str  # display name of the affected service or team being paged
    target: OnCall  # its repr hides the integration key
    channel_id: str  # the incident's Slack channel
    link: str = ""  # permalink to the incident channel, if known


@dataclass(frozen=True, slots=True)
class PageReceipt:
    provider: str  # "pagerduty" | "opsgenie" | "slack"
    key: str  # PagerDuty dedup_key / Opsgenie alias / Slack message ts


class PagingError(Exception):
    """A page that did not go out. The message is plain text that is safe to show in Slack
    (once escaped: it may quote catalog ids): it never contains keys or tokens.
    `retryable` says whether sending the same request again later may work."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"PagingError({str(self)!r}, retryable={self.retryable})"


class Pager(Protocol):
    provider: str

    async def trigger(self, page: Page) -> PageReceipt: ...

    async def acknowledge(self, page: Page, receipt: PageReceipt) -> None: ...

    async def resolve(self, page: Page, receipt: PageReceipt) -> None: ...


# PagerDuty's dedup_key limit; Opsgenie allows 512 characters for an alias.
KEY_LIMIT = 255
# Keys travel in Opsgenie URL paths, where "/" or "?" in a team name would break the route.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def dedup_key(page: Page) -> str:
    """`switchboard-INC-42-pagerduty-service-PABC123`: the same incident paging the same
    target always gets the same key, so a retried trigger updates the alert it opened
    instead of opening a second one. The target type is part of it because an Opsgenie team
    and schedule may share a name."""
    target = page.target
    parts = ("switchboard", page.incident_ref, target.provider, target.target_type)
    key = "-".join(_UNSAFE.sub("_", part) for part in (*parts, target.target_id))
    if len(key) <= KEY_LIMIT:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]  # still unique once cut
    return f"{key[: KEY_LIMIT - len(digest) - 1]}-{digest}"


def by_rank(levels: Sequence[str], rank: int) -> str:
    """The provider level at a severity's rank. A configuration with more severities than the
    provider has levels puts the extra, least severe ones on its lowest level."""
    return levels[min(max(rank, 0), len(levels) - 1)]

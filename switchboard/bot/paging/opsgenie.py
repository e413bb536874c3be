"""Paging an Opsgenie team or schedule through the Alert API (`POST /v2/alerts`).

The alias is our dedup key: Opsgenie folds a create with the alias of an open alert into
that alert, and acknowledge and close address the alert by it (`identifierType=alias`)."""

from __future__ import annotations

from switchboard.bot.paging.base import Page, PageReceipt, PagingError, by_rank, dedup_key
from switchboard.bot.paging.transport import (
    DEFAULT_TIMEOUT,
    JSON,
    JsonApi,
    SessionFactory,
)
from switchboard.bot.platform.text import shorten

PRIORITIES = ("P1", "P2", "P3", "P4", "P5")  # most urgent first
MESSAGE_LIMIT = 130  # characters, Opsgenie's limit on an alert's message
DESCRIPTION_LIMIT = 15_000
# Catalog target type -> Opsgenie responder type; alerts can only be routed to these.
RESPONDER_TYPES = {"team": "team", "schedule": "schedule"}
BY_ALIAS = {"identifierType": "alias"}


class OpsgeniePager:
    provider = "opsgenie"

    def __init__(
        self,
        session: SessionFactory,
        api_key: str,
        base_url: str = "https://api.opsgenie.com",
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._api = JsonApi(
            "Opsgenie",
            session,
            base_url,
            timeout=timeout,
            detail=_detail,
            headers={"Authorization": f"GenieKey {api_key}"},
        )

    async def trigger(self, page: Page) -> PageReceipt:
        alias = dedup_key(page)
        await self._api.post("/v2/alerts", _alert(page, alias))
        return PageReceipt(self.provider, alias)

    async def acknowledge(self, page: Page, receipt: PageReceipt) -> None:
        await self._act(receipt, "acknowledge")

    async def resolve(self, page: Page, receipt: PageReceipt) -> None:
        await self._act(receipt, "close")

    async def _act(self, receipt: PageReceipt, action: str) -> None:
        # Our aliases are URL-safe by construction (see `dedup_key`).
        path = f"/v2/alerts/{receipt.key}/{action}"
        await self._api.post(path, {"source": "switchboard"}, params=BY_ALIAS)


def _alert(page: Page, alias: str) -> JSON:
    return {
        "message": shorten(f"{page.incident_ref}: {page.title}", MESSAGE_LIMIT),
        "alias": alias,
        "description": shorten(_description(page), DESCRIPTION_LIMIT),
        "responders": [_responder(page)],
        "priority": by_rank(PRIORITIES, page.severity_rank),
        "tags": ["switchboard", page.incident_ref, page.severity],
        "details": {
            "incident": page.incident_ref,
            "severity": page.severity,
            "service": page.service,
            "channel": page.channel_id,
            "link": page.link,
        },
        "entity": page.service,
        "source": "switchboard",
    }


def _description(page: Page) -> str:
    where = page.link or f"Slack channel {page.channel_id}"
    return f"{page.title}\n\nSeverity: {page.severity}\nService: {page.service}\nIncident: {where}"


def _responder(page: Page) -> JSON:
    target = page.target
    responder_type = RESPONDER_TYPES.get(target.target_type)
    if responder_type is None:
        raise PagingError(
            f"Opsgenie {target.target_type} {target.target_id} cannot be paged: "
            "Opsgenie alerts go to a team or a schedule",
            retryable=False,
        )
    return {"name": target.target_id, "type": responder_type}


def _detail(answer: JSON) -> str:
    """Opsgenie explains in `message`, and a 422 names each rejected field in `errors`."""
    message = str(answer.get("message") or "")
    errors = answer.get("errors")
    if isinstance(errors, dict) and errors:
        fields = "; ".join(f"{field}: {reason}" for field, reason in errors.items())
        return f"{message} ({fields})" if message else fields
    return message

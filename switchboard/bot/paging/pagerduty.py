"""Paging a PagerDuty service through the Events API v2 (`POST /v2/enqueue`).

The routing key is the service's Events API v2 integration key from the catalog. Our own
dedup_key means a retried trigger lands on the alert it already opened, and acknowledge and
resolve need no state but the receipt."""

from __future__ import annotations

from switchboard.bot.paging.base import Page, PageReceipt, PagingError, by_rank, dedup_key
from switchboard.bot.paging.transport import (
    DEFAULT_TIMEOUT,
    JSON,
    JsonApi,
    SessionFactory,
)
from switchboard.bot.platform.text import shorten

# Events API v2 severities, most severe first.
SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_LIMIT = 1024  # characters, PagerDuty's limit on payload.summary


class PagerDutyPager:
    provider = "pagerduty"

    def __init__(
        self,
        session: SessionFactory,
        base_url: str = "https://events.pagerduty.com",
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._api = JsonApi("PagerDuty", session, base_url, timeout=timeout, detail=_detail)

    async def trigger(self, page: Page) -> PageReceipt:
        key = dedup_key(page)
        await self._send(page, "trigger", key, _trigger_fields(page))
        return PageReceipt(self.provider, key)

    async def acknowledge(self, page: Page, receipt: PageReceipt) -> None:
        await self._send(page, "acknowledge", receipt.key, {})

    async def resolve(self, page: Page, receipt: PageReceipt) -> None:
        await self._send(page, "resolve", receipt.key, {})

    async def _send(self, page: Page, action: str, key: str, fields: JSON) -> None:
        event = {"routing_key": _routing_key(page), "event_action": action, "dedup_key": key}
        await self._api.post("/v2/enqueue", event | fields)


def _routing_key(page: Page) -> str:
    target = page.target
    if not target.integration_key:
        what = target.target_type.replace("_", " ")
        raise PagingError(
            f"PagerDuty {what} {target.target_id} has no integration key in the catalog",
            retryable=False,
        )
    return target.integration_key


def _trigger_fields(page: Page) -> JSON:
    fields: JSON = {
        "payload": {
            "summary": shorten(f"{page.incident_ref} {page.severity}: {page.title}", SUMMARY_LIMIT),
            "source": "switchboard",
            "severity": by_rank(SEVERITIES, page.severity_rank),
            "custom_details": {
                "incident": page.incident_ref,
                "channel": page.channel_id,
                "link": page.link,
                "service": page.service,
            },
        },
    }
    if page.link:
        fields["links"] = [{"href": page.link, "text": f"{page.incident_ref} in Slack"}]
    return fields


def _detail(answer: JSON) -> str:
    """PagerDuty puts the specific reasons of a 400 in `errors`, a generic one in `message`."""
    errors = answer.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(str(error) for error in errors)
    return str(answer.get("message") or "")

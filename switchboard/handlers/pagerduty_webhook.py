"""`POST /webhooks/pagerduty`: PagerDuty's v3 webhooks, so that acknowledging a page in
PagerDuty acknowledges the incident here. Signed with the subscription's secret."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints

from switchboard.bot.incidents.service import IncidentService
from switchboard.bot.incidents.sync import IncidentSync
from switchboard.bot.platform.bodies import cleaned, load_json
from switchboard.handlers.payloads import Malformed, Payload, parse

log = logging.getLogger(__name__)
PATH = "/webhooks/pagerduty"
Short = Annotated[str, StringConstraints(max_length=1000)]


class Agent(Payload):
    summary: Short | None = None


class IncidentData(Payload):
    incident_key: Short | None = None


class Event(Payload):
    """What we read of a v3 webhook's `event`: its type, our page's key, who acted."""

    event_type: Short
    data: IncidentData | None = None
    agent: Agent | None = None


class Webhook(Payload):
    event: Event


def signed(secret: str, body: bytes, header: str) -> bool:
    """PagerDuty sends `v1=<hex HMAC-SHA256 of the body>`, several comma-separated while a
    secret is being rotated; any one matching will do."""
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s.strip()) for s in header.split(",") if s.strip())


def webhook(
    secret: str, incidents: IncidentService, sync: IncidentSync
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if not secret:
            return web.json_response({"error": "PAGERDUTY_WEBHOOK_SECRET is not set"}, status=404)
        if not signed(secret, body, request.headers.get("X-PagerDuty-Signature", "")):
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            document = load_json(body)
            event = parse(Webhook, cleaned(document) if isinstance(document, dict) else None).event
        except (ValueError, Malformed) as error:  # UnicodeDecodeError is a ValueError
            log.warning("refused a PagerDuty webhook: %s", error)
            return web.json_response({"error": "not a PagerDuty v3 webhook"}, status=400)
        if event.event_type == "incident.acknowledged":
            key = (event.data.incident_key if event.data else None) or ""
            who = (event.agent.summary if event.agent else None) or ""
            incident_id = await incidents.pager_acknowledged("pagerduty", key, who)
            if incident_id is not None:
                await sync.run(incident_id)
        return web.json_response({"ok": True})

    return handle

"""`POST /webhooks/pagerduty`: PagerDuty's v3 webhooks, so that acknowledging a page in
PagerDuty acknowledges the incident here. Signed with the subscription's secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from switchboard.bot.incidents.service import IncidentService
from switchboard.bot.incidents.sync import IncidentSync

log = logging.getLogger(__name__)
PATH = "/webhooks/pagerduty"


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
            event = json.loads(body)["event"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "not a PagerDuty v3 webhook"}, status=400)
        if event.get("event_type") == "incident.acknowledged":
            key = str((event.get("data") or {}).get("incident_key") or "")
            who = str((event.get("agent") or {}).get("summary") or "")
            incident_id = await incidents.pager_acknowledged("pagerduty", key, who)
            if incident_id is not None:
                await sync.run(incident_id)
        return web.json_response({"ok": True})

    return handle

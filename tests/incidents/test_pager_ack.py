"""Acknowledging our page in PagerDuty acknowledges the incident here."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import aiohttp

from tests.incidents.conftest import PAGERDUTY_SECRET, World


def acknowledged(incident_key: str) -> bytes:
    """A PagerDuty v3 webhook body, shaped like PagerDuty's own example."""
    event = {
        "id": "01DEN3ZJ3U9DF7SK8TPBZZTJYA",
        "event_type": "incident.acknowledged",
        "resource_type": "incident",
        "occurred_at": "2026-11-29T02:40:00.000Z",
        "agent": {"id": "PXXXXX1", "type": "user_reference", "summary": "Dana On-Call"},
        "data": {
            "id": "Q1ABC",
            "type": "incident",
            "status": "acknowledged",
            "incident_key": incident_key,
            "title": "Checkout down",
        },
    }
    return json.dumps({"event": event}).encode()


async def post(world: World, body: bytes, secret: str = PAGERDUTY_SECRET) -> Any:
    signature = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    url = world.requester.app_url.replace("/slack/events", "/webhooks/pagerduty")
    headers = {"Content-Type": "application/json", "X-PagerDuty-Signature": f"v1=old,{signature}"}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def test_a_pagerduty_acknowledgement_acknowledges_the_incident(world: World) -> None:
    await world.incident("declare sev1 service:checkout Checkout down")
    row = await world.settled()
    assert row.acknowledged_at is None
    (key,) = world.pagerduty.incidents
    world.clock.advance(minutes=4)
    assert await post(world, acknowledged(key)) == 200
    row = await world.settled()
    assert row.acknowledged_at == world.clock.now
    assert "Dana On-Call acknowledged the page for *Checkout*." in world.texts(row.channel_id)


async def test_forged_or_foreign_webhooks_change_nothing(world: World) -> None:
    await world.incident("declare sev1 service:checkout Checkout down")
    row = await world.settled()
    (key,) = world.pagerduty.incidents
    assert await post(world, acknowledged(key), secret="wrong") == 401
    assert await post(world, acknowledged("someone-elses-key")) == 200
    assert (await world.settled()).acknowledged_at is None
    assert not any("acknowledged the page" in t for t in world.texts(row.channel_id))

"""In Socket Mode there is no HTTP edge: Bolt's middleware names the request instead."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from switchboard.app import Switchboard
from switchboard.bot.platform import logs
from tests.conftest import eventually


async def test_listeners_log_under_the_trigger_id(switchboard: Switchboard) -> None:
    seen: list[str] = []

    @switchboard.bolt.command("/probe")
    async def probe(ack: Any) -> None:
        await ack()
        seen.append(logs.SLACK_REQUEST.get())

    body = {
        "command": "/probe",
        "text": "",
        "user_id": "U0001ALICE",
        "channel_id": "C0GENERAL",
        "team_id": "T0SWITCH01",
        "api_app_id": "A0SWITCH01",
        "trigger_id": "555.666.socket",
    }
    request = AsyncBoltRequest(body=body, mode="socket_mode")
    # A context of its own, as the Socket Mode client gives each message its own task.
    dispatch = switchboard.bolt.async_dispatch(request)
    response = await asyncio.create_task(dispatch, context=contextvars.Context())
    assert response.status == 200
    assert await eventually(lambda: seen) == ["555.666.socket"]
    assert logs.SLACK_REQUEST.get() == ""  # nothing leaked into this task

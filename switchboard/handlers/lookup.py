"""The shape `/owner` and `/scorecard` share: a slash command answered in its ack (within
Slack's 3 s), buttons that answer for a chosen match, and a button that shares the answer
in the channel."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

log = logging.getLogger(__name__)
A = TypeVar("A")

# Slack shows an error unless a slash command is answered within 3 s.
ANSWER_WITHIN = 2.5
SLOW = "Still looking: the answer follows here in a moment."


def register_lookup(
    app: AsyncApp,
    *,
    name: str,
    answer: Callable[[str], Coroutine[Any, Any, A]],
    answer_ref: Callable[[str], Awaitable[A]],
    render: Callable[..., dict[str, Any]],
    pick_action: str,
    share_action: str,
    unavailable: str,
    answer_within: float = ANSWER_WITHIN,
) -> None:
    pending: set[asyncio.Task[None]] = set()

    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        finding = asyncio.create_task(answer(command.get("text") or ""))
        done, _ = await asyncio.wait({finding}, timeout=answer_within)
        if not done:
            # Busy: say so within Slack's 3 s, and send the answer when it is there.
            await ack(text=SLOW, response_type="ephemeral")
            later = asyncio.create_task(_answer_later(finding, respond))
            pending.add(later)  # a reference, or the task may vanish mid-way
            later.add_done_callback(pending.discard)
            return
        if finding.exception() is not None:
            log.error("%s failed", name, exc_info=finding.exception())
            await ack(text=unavailable, response_type="ephemeral")
            return
        await ack(response_type="ephemeral", **render(finding.result()))

    async def _answer_later(finding: asyncio.Task[A], respond: AsyncRespond) -> None:
        try:
            result = await finding
        except Exception:
            log.exception("%s failed", name)
            await respond(text=unavailable, response_type="ephemeral", replace_original=True)
            return
        await respond(response_type="ephemeral", replace_original=True, **render(result))

    async def pick(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        result = await answer_ref(str(action.get("value", "")))
        await respond(replace_original=True, **render(result))

    async def share(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        result = await answer_ref(str(action.get("value", "")))
        user = str(body.get("user", {}).get("id", ""))
        await respond(
            response_type="in_channel", replace_original=False, **render(result, shared_by=user)
        )

    app.command(name)(on_command)
    app.action(re.compile(f"^{re.escape(pick_action)}:"))(pick)
    app.action(share_action)(share)

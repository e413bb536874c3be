"""The shape `/owner` and `/scorecard` share: a slash command acknowledged at once and
answered through its response URL, buttons that answer for a chosen match, and a button that
shares the answer in the channel."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.handlers.payloads import (
    ButtonClick,
    Payload,
    ResponseUrl,
    Text,
    UserId,
    parse,
)

log = logging.getLogger(__name__)
A = TypeVar("A")
# Answers worked on at once after their acks. The rest wait their turn off the event loop's
# queue, so a burst of lookups cannot delay the acks of the requests behind it.
ANSWERS_AT_ONCE = 12
SHARED = "Shared in the channel."


class LookupCommand(Payload):
    """What `/owner` and `/scorecard` read of their command: the text, and where to answer."""

    text: Text = ""
    user_id: UserId
    response_url: ResponseUrl


def answer_lane() -> asyncio.Semaphore:
    return asyncio.Semaphore(ANSWERS_AT_ONCE)


def register_lookup(
    app: AsyncApp,
    *,
    name: str,
    # (text or ref, the viewer's user id) -> the answer; the viewer is "" for a shared copy,
    # which anyone in the channel reads
    answer: Callable[[str, str], Awaitable[A]],
    answer_ref: Callable[[str, str], Awaitable[A]],
    render: Callable[..., dict[str, Any]],
    pick_action: str,
    share_action: str,
    unavailable: str,
    lane: asyncio.Semaphore,
) -> None:
    async def on_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        command = parse(LookupCommand, body)
        text, viewer = command.text, command.user_id
        await ack()
        await answer_after_ack(
            respond, lambda: _rendered(answer(text, viewer), render), name, unavailable, lane
        )

    async def pick(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        click = parse(ButtonClick, body)
        await ack()
        result = await answer_ref(click.action.value, click.user.id)
        await respond(replace_original=True, **render(result))

    async def share(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """The answer, in the channel for all; the private copy, with its button, becomes a
        short note (as Slack's own "shared" messages do), so nobody shares it twice."""
        click = parse(ButtonClick, body)
        await ack()
        result = await answer_ref(click.action.value, "")  # for the channel: no viewer
        await respond(
            response_type="in_channel",
            replace_original=False,
            **render(result, shared_by=click.user.id),
        )
        await respond(text=SHARED, replace_original=True)

    app.command(name)(on_command)
    app.action(re.compile(f"^{re.escape(pick_action)}:"))(pick)
    app.action(share_action)(share)


async def _rendered(result: Awaitable[A], render: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return render(await result)


async def answer_after_ack(
    respond: AsyncRespond,
    answer: Callable[[], Awaitable[dict[str, Any]]],
    name: str,
    failed: str,
    lane: asyncio.Semaphore,
) -> None:
    """The answer to a command acked empty at once (so Slack's 3 s never wait for the
    database or the load), posted to its response URL; a failure is answered, not raised.

    Never raise after the ack: Bolt then overwrites the ack it has not sent yet, and Slack
    gets a 404 three seconds later instead of the empty 200."""
    try:
        async with lane:
            message = await answer()
    except Exception:
        log.exception("%s failed", name)
        message = {"text": failed}
    try:
        await respond(response_type="ephemeral", **message)
    except Exception:  # the response URL expired, or Slack is down: nobody left to tell
        log.warning("%s: the answer could not be sent to its response URL", name, exc_info=True)

"""Who the bot is, for Bolt, without Bolt's own `auth.test` on the first request.

Bolt 1.30's single-workspace authorization (what `AsyncApp(client=<client with a token>)`
uses) calls `auth.test` on the first request and remembers only a success. When Slack's API
fails at that moment, a `SlackApiError` (5xx, `ok: false`) is answered with HTTP 200 and the
text "... your installation with this app is no longer available. Please reinstall this app
into your workspace", which Slack shows the person; an event is answered the same way and so
dropped for good. A time-out is not caught: the request waits for the client's time-out (past
Slack's 3 s) and ends in a 500. Each later request asks again, so it mends once Slack is back.

We give Bolt an `authorize` function instead (so the app's client carries no token, see
`switchboard.app`) that reads `BotIdentity`, and a `before_authorize` middleware that decides
what a request does while the identity is unknown:

- commands and interactions go on: they need only the token, which we have, and most of what
  they do needs no Slack API at all (`/owner` reads our database);
- events wait (503, which the HTTP edge tries again, backing off): Bolt needs the bot's user
  id to drop the bot's own events, and handling them needs Slack anyway;
- a token Slack refuses (`invalid_auth`, `token_revoked`, ...) is said as it is, to commands.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse

from switchboard.bot.platform.identity import BotIdentity

TOKEN_REFUSED = (
    "I cannot act in this workspace: Slack refuses my token ({error}). An admin needs to "
    "reinstall the app, or give me its current bot token (SLACK_BOT_TOKEN)."
)


def before_authorize(
    identity: BotIdentity,
) -> Callable[..., Awaitable[BoltResponse | None]]:
    async def middleware(
        body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse | None]]
    ) -> BoltResponse | None:
        if body.get("type") in ("url_verification", "ssl_check") or "ssl_check" in body:
            return await next()  # Bolt needs no identity for these
        if await identity.current() is None:
            if body.get("type") == "event_callback":
                return BoltResponse(status=503, body="")
            if identity.refused and "command" in body:
                text = TOKEN_REFUSED.format(error=identity.refused)
                return BoltResponse(
                    status=200,
                    body=json.dumps({"response_type": "ephemeral", "text": text}),
                    headers={"content-type": "application/json"},
                )
        return await next()

    return middleware


def authorize(identity: BotIdentity, token: str) -> Callable[..., Awaitable[AuthorizeResult]]:
    async def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        known = identity.known
        return AuthorizeResult(
            enterprise_id=known.enterprise_id if known and known.enterprise_id else enterprise_id,
            team_id=known.team_id if known and known.team_id else team_id,
            bot_token=token,
            bot_id=known.bot_id if known else None,
            bot_user_id=known.user_id if known else None,
            bot_scopes=known.scopes if known else None,
            user_id=user_id,
        )

    return authorize

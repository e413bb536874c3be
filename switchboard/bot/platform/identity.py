"""Who the bot is in Slack (`auth.test`): asked once, remembered, and never waited for long.

Bolt asks `auth.test` itself on the first request and, when Slack's API fails at that moment,
answers the person "your installation with this app is no longer available. Please reinstall"
(on a time-out: nothing before Slack gives up on us). Here the question is asked at start and
again in the background, backing off, until Slack answers; a request waits for it a moment
at most, and goes on without it (see `switchboard.handlers.authorization`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from switchboard.bot.platform.slack_gateway import SlackFailure, SlackGateway

log = logging.getLogger(__name__)

# How long a request waits for a lookup under way: well inside Slack's 3 s.
REQUEST_WAIT = 1.0
# Waits between lookups while Slack fails: doubling, up to a minute.
FIRST_BACKOFF, MAX_BACKOFF = 1.0, 60.0


@dataclass(frozen=True, slots=True)
class Identity:
    team_id: str | None
    user_id: str | None  # the bot user
    bot_id: str | None
    enterprise_id: str | None = None
    scopes: str | None = None

    @classmethod
    def from_auth_test(cls, found: dict[str, Any]) -> Identity:
        def text(key: str) -> str | None:
            value = found.get(key)
            return str(value) if value else None

        return cls(
            text("team_id"), text("user_id"), text("bot_id"), text("enterprise_id"), text("scopes")
        )


class BotIdentity:
    def __init__(
        self,
        gateway: SlackGateway,
        request_wait: float = REQUEST_WAIT,
        first_backoff: float = FIRST_BACKOFF,
    ) -> None:
        self._gateway = gateway
        self._request_wait = request_wait
        self._first_backoff = first_backoff
        self.known: Identity | None = None
        # Slack's refusal of the token itself (invalid_auth, token_revoked, ...), if it did.
        self.refused: str | None = None
        self._lookup: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Ask in the background (on start), unless known or being asked."""
        if self.known is None and (self._lookup is None or self._lookup.done()):
            self._lookup = asyncio.get_running_loop().create_task(self._ask_until_answered())

    async def current(self) -> Identity | None:
        """The identity, waiting a moment for a lookup under way; None while Slack does not
        answer (or refuses the token: see `refused`)."""
        if self.known is not None:
            return self.known
        self.start()
        assert self._lookup is not None
        with contextlib.suppress(TimeoutError):  # shielded: giving up leaves it asking
            await asyncio.wait_for(asyncio.shield(self._lookup), self._request_wait)
        return self.known

    async def _ask_until_answered(self) -> None:
        wait = self._first_backoff
        while True:
            try:
                self.known = Identity.from_auth_test(await self._gateway.identity())
                self.refused = None
                log.info(
                    "Slack identity: bot user %s in team %s", self.known.user_id, self.known.team_id
                )
                return
            except SlackFailure as failure:
                if not failure.retryable:
                    # The token itself is refused: asked again on the next request, not in a
                    # loop (it will not mend by itself).
                    self.refused = failure.error
                    log.error("Slack refuses the bot token: auth.test: %s", failure.error)
                    return
                log.warning(
                    "Slack does not answer auth.test (%s); asking again in %s s",
                    failure.error,
                    wait,
                )
            except Exception:  # never let the lookup die quietly, and never for good
                log.exception("auth.test failed; asking again in %s s", wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, MAX_BACKOFF)

    async def close(self) -> None:
        if self._lookup is not None and not self._lookup.done():
            self._lookup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lookup

"""Who is on call, as every on-call source gives it (`oncall.now`, `oncall.next`), and the
match of a person to Slack by e-mail (`users.lookupByEmail`, cached)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from switchboard.bot.facts.source import Failure, SourceError

_CACHE_SECONDS = 24 * 3600.0  # people rarely change their address; a day is plenty


def person(
    *,
    user_id: str = "",
    email: str = "",
    name: str = "",
    level: int = 1,
    start: str = "",
    end: str = "",
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "email": email,
        "name": name,
        "level": level,
        "start": start,
        "end": end,
    }


class Directory(Protocol):
    async def user_id(self, email: str) -> str:
        """The Slack user id of `email`, "" when nobody in the workspace has it."""
        ...


class NoDirectory:
    async def user_id(self, email: str) -> str:
        return ""


class SlackDirectory:
    """`users.lookupByEmail`, each answer (found or not) kept for a day."""

    def __init__(self, client: AsyncWebClient, clock: Callable[[], float]) -> None:
        self._client = client
        self._clock = clock
        self._known: dict[str, tuple[str, float]] = {}

    async def user_id(self, email: str) -> str:
        email = email.strip().lower()
        if not email:
            return ""
        known = self._known.get(email)
        if known is not None and self._clock() - known[1] < _CACHE_SECONDS:
            return known[0]
        try:
            answer = await self._client.users_lookupByEmail(email=email)
            user = answer.get("user")
            found = str(user.get("id", "")) if isinstance(user, dict) else ""
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                raise slack_error(error, f"the Slack user with {email}") from error
            found = ""
        self._known[email] = (found, self._clock())
        return found


def slack_error(error: SlackApiError, what: str) -> SourceError:
    code = str(error.response.get("error", "")) if error.response is not None else ""
    if code in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope"):
        return SourceError(Failure.AUTH, f"Slack refused the bot token ({code}) for {what}")
    if code in ("ratelimited",) or error.response.status_code == 429:
        wait = float(error.response.headers.get("Retry-After", 60))
        return SourceError(
            Failure.RATE_LIMITED, f"Slack rate limit reached; retry in {wait:g} s", wait
        )
    if code in ("no_such_subteam", "subteam_not_found", "users_not_found"):
        return SourceError(Failure.NOT_FOUND, f"Slack knows no {what} ({code})")
    return SourceError(Failure.UNAVAILABLE, f"Slack failed ({code or 'no answer'}) for {what}")

"""The one typed door from the core to Slack's Web API. The core never sees `AsyncWebClient`
directly, so tests drive it through the loopback fake and later issues add methods here."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


def make_client(token: str, base_url: str, timeout: int = 10) -> AsyncWebClient:
    """The app's client: retries 429s (honouring Retry-After), 5xx and dropped connections."""
    client = AsyncWebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=2))
    return client


class SlackGateway:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def user_email(self, user_id: str) -> str:
        """The e-mail address on a user's Slack profile, or "" when Slack will not say."""
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as error:
            log.info("users.info %s failed: %s", user_id, error.response.get("error"))
            return ""
        profile = (response.get("user") or {}).get("profile") or {}
        return str(profile.get("email") or "")

    async def publish_home(self, user_id: str, view: dict[str, object]) -> None:
        await self._client.views_publish(user_id=user_id, view=view)

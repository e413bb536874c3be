"""The one typed door from the core to Slack's Web API. The core never sees `AsyncWebClient`
directly, so tests drive it through the loopback fake."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from switchboard.bot.platform.outside_calls import ATTEMPTS, CallLimits

log = logging.getLogger(__name__)

T = TypeVar("T")
Blocks = list[dict[str, Any]]
# Errors that say "not now" rather than "never": worth trying again later.
_TRANSIENT = {
    "ratelimited",
    "rate_limited",
    "fatal_error",
    "internal_error",
    "service_unavailable",
    "request_timeout",
}


class SlackFailure(Exception):
    """A Slack call that failed; `error` is Slack's code (or "timeout"/"connection").
    `in_doubt`: the request may have reached Slack and taken effect all the same (no answer
    came), so a post must not simply be sent again."""

    def __init__(self, method: str, error: str, retryable: bool, in_doubt: bool = False) -> None:
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error
        self.retryable = retryable
        self.in_doubt = in_doubt


def make_client(token: str, base_url: str, limits: CallLimits | None = None) -> AsyncWebClient:
    """The app's client: retries 429s (honouring Retry-After), 5xx and dropped connections.
    With the app's shared session (`HttpSession`), the session's timeout is the one that
    applies to each attempt; `limits.timeout` (whole seconds: slack_sdk's type) is for a
    client without it."""
    timeout = math.ceil((limits or CallLimits()).timeout)
    client = AsyncWebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=ATTEMPTS - 1))
    client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=2))
    return client


async def _call(method: str, call: Callable[[], Awaitable[T]], deadline: float) -> T:
    try:
        async with asyncio.timeout(deadline):  # the attempts and the waits between them
            return await call()
    except SlackApiError as error:
        data = error.response.data  # not JSON (a proxy's or a server's own page): a str
        code = str(
            (data.get("error") if isinstance(data, dict) else "")
            or f"http_{error.response.status_code}"
        )
        status = error.response.status_code
        raise SlackFailure(
            method, code, status == 429 or status >= 500 or code in _TRANSIENT
        ) from None
    except TimeoutError:
        raise SlackFailure(method, "timeout", True, in_doubt=True) from None
    except aiohttp.ClientConnectorError:  # never connected: Slack did not see the request
        raise SlackFailure(method, "connection", True) from None
    except aiohttp.ClientError:
        raise SlackFailure(method, "connection", True, in_doubt=True) from None


class SlackGateway:
    def __init__(self, client: AsyncWebClient, limits: CallLimits | None = None) -> None:
        self._client = client
        self._deadline = (limits or CallLimits()).deadline
        self._bot_user: str | None = None
        self._names: dict[str, str] = {}  # user and channel ids -> names; they rarely change

    async def _call(
        self, method: str, call: Callable[[], Awaitable[T]], within: float | None = None
    ) -> T:
        return await _call(method, call, min(self._deadline, within or self._deadline))

    async def identity(self) -> dict[str, Any]:
        """`auth.test`: who the token is (team_id, user_id, bot_id, enterprise_id) and, as
        `scopes`, the scopes Slack says it has."""
        response = await self._call("auth.test", self._client.auth_test)
        found = dict(response.data) if isinstance(response.data, dict) else {}
        found["scopes"] = response.headers.get("x-oauth-scopes")
        self._bot_user = str(found.get("user_id") or "") or self._bot_user
        return found

    async def bot_user_id(self) -> str:
        if self._bot_user is None:
            self._bot_user = str((await self.identity())["user_id"])
        return self._bot_user

    async def user_email(self, user_id: str) -> str:
        """The e-mail address on a user's Slack profile, or "" when Slack will not say."""
        try:
            response = await self._call("users.info", lambda: self._client.users_info(user=user_id))
        except SlackFailure as failure:
            log.info("users.info %s failed: %s", user_id, failure.error)
            return ""
        profile = (response.get("user") or {}).get("profile") or {}
        return str(profile.get("email") or "")

    async def usergroup_members(self, usergroup: str) -> list[str]:
        response = await self._call(
            "usergroups.users.list",
            lambda: self._client.usergroups_users_list(usergroup=usergroup),
        )
        return [str(u) for u in response.get("users") or []]

    async def create_channel(self, name: str, private: bool) -> str:
        response = await self._call(
            "conversations.create",
            lambda: self._client.conversations_create(name=name, is_private=private),
        )
        return str(response["channel"]["id"])

    async def find_channel(self, name: str) -> dict[str, Any] | None:
        """A channel the bot can see, by name (public, and private ones it is in)."""
        cursor = ""
        while True:
            response = await self._call(
                "conversations.list",
                lambda after=cursor: self._client.conversations_list(  # type: ignore[misc]
                    types="public_channel,private_channel", limit=1000, cursor=after or None
                ),
            )
            for channel in response.get("channels") or []:
                if channel.get("name") == name:
                    return dict(channel)
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return None

    async def join(self, channel: str) -> None:
        await self._call(
            "conversations.join", lambda: self._client.conversations_join(channel=channel)
        )

    async def set_topic(self, channel: str, topic: str) -> None:
        await self._call(
            "conversations.setTopic",
            lambda: self._client.conversations_setTopic(channel=channel, topic=topic),
        )

    async def set_purpose(self, channel: str, purpose: str) -> None:
        await self._call(
            "conversations.setPurpose",
            lambda: self._client.conversations_setPurpose(channel=channel, purpose=purpose),
        )

    async def invite(self, channel: str, users: Sequence[str]) -> None:
        """Invite whoever can be invited; people already there or unknown are skipped."""
        await self._call(
            "conversations.invite",
            lambda: self._client.conversations_invite(
                channel=channel, users=list(users), force=True
            ),
        )

    async def post(
        self,
        channel: str,
        text: str,
        blocks: Blocks | None = None,
        metadata: dict[str, Any] | None = None,
        attachments: Blocks | None = None,
        *,
        within: float | None = None,
    ) -> str:
        """`within`: seconds the post may take at most, when less than any call's deadline
        (a post made under a lease must end before it)."""
        response = await self._call(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                metadata=metadata,
                attachments=attachments,
            ),
            within,
        )
        return str(response["ts"])

    async def find_posted(self, channel: str, oldest: float, metadata: dict[str, Any]) -> str:
        """The ts of a message the bot posted in `channel` since `oldest` (epoch seconds)
        carrying exactly this `metadata`; "" when there is none."""
        cursor = ""
        while True:
            history = await self._call(
                "conversations.history",
                lambda after=cursor: self._client.conversations_history(  # type: ignore[misc]
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=after or None,
                ),
            )
            for message in history.get("messages") or []:
                if message.get("metadata") == metadata:
                    return str(message["ts"])
            cursor = (history.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return ""

    async def update(
        self,
        channel: str,
        ts: str,
        text: str,
        blocks: Blocks | None = None,
        attachments: Blocks | None = None,
    ) -> None:
        """Replace a message's text and blocks, and its attachments when given (Slack keeps
        the ones it has when `attachments` is left out)."""
        await self._call(
            "chat.update",
            lambda: self._client.chat_update(
                channel=channel, ts=ts, text=text, blocks=blocks, attachments=attachments
            ),
        )

    async def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        await self._call(
            "chat.postEphemeral",
            lambda: self._client.chat_postEphemeral(channel=channel, user=user, text=text),
        )

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self._call(
            "views.open", lambda: self._client.views_open(trigger_id=trigger_id, view=view)
        )

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        await self._call(
            "views.publish", lambda: self._client.views_publish(user_id=user_id, view=view)
        )

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message by its ts, a thread reply included (history holds no replies)."""
        history = await self._call(
            "conversations.history",
            lambda: self._client.conversations_history(
                channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
            ),
        )
        for message in history.get("messages") or []:
            if message.get("ts") == ts:
                return dict(message)
        try:
            replies = await self._call(
                "conversations.replies",
                lambda: self._client.conversations_replies(channel=channel, ts=ts),
            )
        except SlackFailure as failure:
            if failure.error == "thread_not_found":
                return None
            raise
        return next((dict(m) for m in replies.get("messages") or [] if m.get("ts") == ts), None)

    async def permalink(self, channel: str, ts: str) -> str:
        response = await self._call(
            "chat.getPermalink",
            lambda: self._client.chat_getPermalink(channel=channel, message_ts=ts),
        )
        return str(response.get("permalink") or "")

    async def react(self, channel: str, ts: str, name: str) -> None:
        try:
            await self._call(
                "reactions.add",
                lambda: self._client.reactions_add(channel=channel, timestamp=ts, name=name),
            )
        except SlackFailure as failure:
            if failure.error != "already_reacted":
                raise

    async def unreact(self, channel: str, ts: str, name: str) -> None:
        """Take the bot's own reaction off a message; one already gone is no failure."""
        try:
            await self._call(
                "reactions.remove",
                lambda: self._client.reactions_remove(channel=channel, timestamp=ts, name=name),
            )
        except SlackFailure as failure:
            if failure.error not in ("no_reaction", "message_not_found"):
                raise

    async def user_name(self, user_id: str) -> str:
        """A person's display name, for turning mentions into text; the id if unknown."""
        if user_id not in self._names:
            try:
                response = await self._call(
                    "users.info", lambda: self._client.users_info(user=user_id)
                )
            except SlackFailure:
                return user_id
            user = response.get("user") or {}
            profile = user.get("profile") or {}
            name = profile.get("display_name") or user.get("real_name") or user.get("name")
            self._names[user_id] = str(name or user_id)
        return self._names[user_id]

    async def channel_name(self, channel_id: str) -> str:
        if channel_id not in self._names:
            try:
                response = await self._call(
                    "conversations.info",
                    lambda: self._client.conversations_info(channel=channel_id),
                )
            except SlackFailure:
                return channel_id
            self._names[channel_id] = str((response.get("channel") or {}).get("name") or channel_id)
        return self._names[channel_id]

    async def upload_file(
        self, channel: str, filename: str, content: str, title: str, comment: str
    ) -> str:
        """Share a text file in `channel` with a comment (mrkdwn); returns the file's id.
        Slack's external upload: files.getUploadURLExternal, the bytes to the URL it gives,
        then files.completeUploadExternal."""

        async def upload() -> Any:
            try:
                return await self._client.files_upload_v2(
                    channel=channel,
                    filename=filename,
                    content=content,
                    title=title,
                    initial_comment=comment,
                )
            except SlackRequestError:  # the upload URL did not take the bytes
                raise SlackFailure("files_upload_v2", "upload_failed", True) from None

        response = await self._call("files_upload_v2", upload)
        return str(response["file"]["id"])

    async def upload_image(
        self, channel: str, filename: str, data: bytes, title: str, comment: str, alt_text: str
    ) -> str:
        """Share an image (a chart's PNG) in `channel`, with alt text carrying what it shows
        (at most Slack's 1000 characters); returns the file's id. The same external upload."""

        async def upload() -> Any:
            try:
                return await self._client.files_upload_v2(
                    channel=channel,
                    filename=filename,
                    file=data,
                    title=title,
                    alt_txt=alt_text[:1000],
                    initial_comment=comment,
                )
            except SlackRequestError:
                raise SlackFailure("files_upload_v2", "upload_failed", True) from None

        response = await self._call("files_upload_v2", upload)
        return str(response["file"]["id"])

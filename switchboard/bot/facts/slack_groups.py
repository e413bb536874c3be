"""Who is on call, for a team that names a Slack user group as its on-call: its members
(`usergroups.users.list`; a handle such as `@payments-oncall` is found with
`usergroups.list` first). Slack knows no shifts: `start`, `end` and `oncall.next` are empty."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from switchboard.bot.facts.http import Clock
from switchboard.bot.facts.people import person, slack_error
from switchboard.bot.facts.source import Budget, Failure, SourceError, Target, Value


class SlackGroups:
    name = "slack"
    ttl = timedelta(minutes=5)
    concurrency = 2  # usergroups.* are Tier 2: about 20 a minute

    def __init__(self, client: AsyncWebClient, clock: Clock, timeout: float) -> None:
        self._client = client
        self._clock = clock
        self._timeout = timeout
        self._handles: dict[str, str] = {}

    def budget(self) -> Budget | None:
        return None

    async def fetch(self, target: Target) -> Sequence[Value]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        group = await self._group_id(target.id)
        answer = await self._call(f"user group {target.id}", usergroup=group)
        users = answer.get("users")
        if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
            raise SourceError(Failure.MALFORMED, f"Slack answered user group {target.id} oddly")
        return [
            Value("oncall.now", [person(user_id=u) for u in users], now),
            Value("oncall.next", [], now),
        ]

    async def _group_id(self, handle: str) -> str:
        if not handle.startswith("@"):
            return handle
        if not self._handles:
            answer = await self._call("the user groups", method="usergroups.list")
            groups = answer.get("usergroups")
            for group in groups if isinstance(groups, list) else []:
                if isinstance(group, dict):
                    self._handles[f"@{group.get('handle', '')}"] = str(group.get("id", ""))
        if handle not in self._handles:
            raise SourceError(Failure.NOT_FOUND, f"Slack knows no user group {handle}")
        return self._handles[handle]

    async def _call(
        self, what: str, method: str = "usergroups.users.list", **args: str
    ) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._client.api_call(method, http_verb="GET", params=args)
        except TimeoutError as error:
            raise SourceError(
                Failure.TIMEOUT, f"Slack did not answer within {self._timeout:g} s"
            ) from error
        except SlackApiError as error:
            raise slack_error(error, what) from error
        data = answer.data
        if not isinstance(data, dict):
            raise SourceError(Failure.MALFORMED, f"Slack answered {what} oddly")
        return data

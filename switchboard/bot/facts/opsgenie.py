"""Who is on call now and next, from Opsgenie's schedule API (`/v2/schedules/{id}/on-calls`
and `/next-on-calls`, flat: the usernames, which are e-mail addresses). A team is read
through the schedule Opsgenie makes with it, `<team>_schedule`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.bot.facts.http import (
    Answer,
    Clock,
    JsonClient,
    http_error,
    retry_after,
    shape_error,
)
from switchboard.bot.facts.people import Directory, person
from switchboard.bot.facts.source import Budget, Failure, SourceError, Target, Value

DEFAULT_URL = "https://api.opsgenie.com"  # the EU instance: https://api.eu.opsgenie.com
RATE_PER_SECOND = 5.0  # well under the configuration API's limits on every plan
NAME = "Opsgenie"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


class Opsgenie:
    name = "opsgenie"
    ttl = timedelta(minutes=5)
    concurrency = 2

    def __init__(self, client: JsonClient, directory: Directory, clock: Clock) -> None:
        self._client = client
        self._directory = directory
        self._clock = clock

    @staticmethod
    def headers(key: str) -> dict[str, str]:
        return {"Authorization": f"GenieKey {key}"}

    def budget(self) -> Budget | None:
        return None

    async def fetch(self, target: Target) -> Sequence[Value]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        if target.kind == "schedule":
            identifier = target.id
        elif target.kind == "team":
            identifier = f"{target.id}_schedule"
        else:
            raise SourceError(Failure.NOT_FOUND, f"Opsgenie has no on-call for a {target.kind}")
        by = "id" if _UUID.fullmatch(identifier) else "name"
        current = await self._names(identifier, by, "on-calls", "onCallRecipients")
        upcoming = await self._names(identifier, by, "next-on-calls", "nextOnCallRecipients")
        return [
            Value("oncall.now", [await self._person(n) for n in current], now),
            Value("oncall.next", [await self._person(n) for n in upcoming], now),
        ]

    async def _names(self, identifier: str, by: str, path: str, field: str) -> list[str]:
        answer = await self._client.get(
            f"/v2/schedules/{identifier}/{path}",
            {"scheduleIdentifierType": by, "flat": "true"},
        )
        what = f"the {path} of schedule {identifier}"
        if answer.status != 200:
            raise self._error(answer, what)
        body = answer.body
        data = body.get("data") if isinstance(body, dict) else None
        names = data.get(field, []) if isinstance(data, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise shape_error(NAME, what)
        return names

    async def _person(self, username: str) -> dict[str, Any]:
        email = username if "@" in username else ""
        return person(user_id=await self._directory.user_id(email), email=email, name=username)

    def _error(self, answer: Answer, what: str) -> SourceError:
        body = answer.body
        message = str(body.get("message", ""))[:120] if isinstance(body, dict) else ""
        if answer.status in (401, 403):
            return SourceError(
                Failure.AUTH,
                f"Opsgenie refused OPSGENIE_API_KEY ({answer.status} {message or 'Unauthorized'})",
            )
        if answer.status == 404:
            return SourceError(Failure.NOT_FOUND, f"Opsgenie: {message or 'not found'} (404)")
        if answer.status == 429:
            period = answer.headers.get("x-ratelimit-period-in-sec", "60")
            wait = retry_after(answer.headers, float(period) if period.isdigit() else 60.0)
            return SourceError(
                Failure.RATE_LIMITED,
                f"Opsgenie rate limit reached (429); retry in {wait:g} s",
                wait,
            )
        return http_error(NAME, answer, what)

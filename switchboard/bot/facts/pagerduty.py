"""Who is on call now and next, from PagerDuty's REST API v2 (`GET /oncalls`, with the
users included), for a schedule, an escalation policy, or a service (its policy)."""

from __future__ import annotations

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

DEFAULT_URL = "https://api.pagerduty.com"
RATE_PER_SECOND = 16.0  # PagerDuty allows 960 REST requests a minute per user token
NAME = "PagerDuty"
_PAGES = 10  # of 100 on-call entries: more is a misconfiguration, not a rotation


class PagerDuty:
    name = "pagerduty"
    ttl = timedelta(minutes=5)
    concurrency = 4

    def __init__(self, client: JsonClient, directory: Directory, clock: Clock) -> None:
        self._client = client
        self._directory = directory
        self._clock = clock
        self._policies: dict[str, str] = {}  # service id -> escalation policy id

    @staticmethod
    def headers(token: str) -> dict[str, str]:
        return {
            "Authorization": f"Token token={token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        }

    def budget(self) -> Budget | None:
        return None  # a steady rate, paced by the client; no window to report

    async def fetch(self, target: Target) -> Sequence[Value]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        selector = await self._selector(target)
        current = await self._oncalls(selector, now)
        ends = [_when(e["end"]) for e in current if e["end"]]
        upcoming: list[dict[str, Any]] = []
        if ends:
            handover = min(e for e in ends if e is not None)
            upcoming = await self._oncalls(selector, handover + timedelta(seconds=1))
        return [
            Value("oncall.now", await self._people(current), now),
            Value("oncall.next", await self._people(upcoming), now),
        ]

    async def _selector(self, target: Target) -> tuple[str, str]:
        if target.kind == "schedule":
            return "schedule_ids[]", target.id
        if target.kind == "escalation_policy":
            return "escalation_policy_ids[]", target.id
        if target.kind == "service":
            return "escalation_policy_ids[]", await self._policy(target.id)
        raise SourceError(Failure.NOT_FOUND, f"PagerDuty has no on-call for a {target.kind}")

    async def _policy(self, service: str) -> str:
        if service in self._policies:
            return self._policies[service]
        answer = await self._client.get(f"/services/{service}")
        if answer.status != 200:
            raise self._error(answer, f"service {service}")
        body = answer.body
        service_body = body.get("service") if isinstance(body, dict) else None
        policy = service_body.get("escalation_policy") if isinstance(service_body, dict) else None
        policy_id = policy.get("id") if isinstance(policy, dict) else None
        if not isinstance(policy_id, str):
            raise shape_error(NAME, f"service {service}")
        self._policies[service] = policy_id
        return policy_id

    async def _oncalls(self, selector: tuple[str, str], at: datetime) -> list[dict[str, Any]]:
        moment = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        entries: list[dict[str, Any]] = []
        for page in range(_PAGES):
            params = [
                selector,
                ("include[]", "users"),
                ("since", moment),
                ("until", moment),
                ("time_zone", "UTC"),
                ("limit", "100"),
                ("offset", str(page * 100)),
            ]
            answer = await self._client.get("/oncalls", params)
            if answer.status != 200:
                raise self._error(answer, f"the on-calls of {selector[1]}")
            body = answer.body
            oncalls = body.get("oncalls") if isinstance(body, dict) else None
            if not isinstance(oncalls, list):
                raise shape_error(NAME, f"the on-calls of {selector[1]}")
            entries += [_entry(item, selector[1]) for item in oncalls]
            if body.get("more") is not True:
                break
        return _dedupe(entries)

    async def _people(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            person(
                user_id=await self._directory.user_id(e["email"]),
                email=e["email"],
                name=e["name"],
                level=e["level"],
                start=e["start"],
                end=e["end"],
            )
            for e in entries
        ]

    def _error(self, answer: Answer, what: str) -> SourceError:
        body = answer.body
        error = body.get("error") if isinstance(body, dict) else None
        message = str(error.get("message", ""))[:120] if isinstance(error, dict) else ""
        if answer.status == 401:
            return SourceError(
                Failure.AUTH,
                f"PagerDuty refused PAGERDUTY_API_TOKEN (401 {message or 'Unauthorized'})",
            )
        if answer.status == 429:
            wait = retry_after(answer.headers, _float(answer.headers.get("ratelimit-reset"), 60.0))
            return SourceError(
                Failure.RATE_LIMITED,
                f"PagerDuty rate limit reached (429); retry in {wait:g} s",
                wait,
            )
        return http_error(NAME, answer, what)


def _entry(item: Any, what: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise shape_error(NAME, f"the on-calls of {what}")
    user, level = item.get("user"), item.get("escalation_level")
    if not isinstance(user, dict) or not isinstance(level, int) or isinstance(level, bool):
        raise shape_error(NAME, f"the on-calls of {what}")
    start, end = item.get("start"), item.get("end")
    return {
        "id": str(user.get("id", "")),
        "email": str(user.get("email") or ""),
        "name": str(user.get("name") or user.get("summary") or ""),
        "level": level,
        "start": start if isinstance(start, str) else "",
        "end": end if isinstance(end, str) else "",
    }


def _dedupe(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per person: at their highest (lowest-numbered) level, levels in order. A
    schedule used by several escalation policies lists its person once per policy."""
    best: dict[str, dict[str, Any]] = {}
    for entry in entries:
        key = entry["id"] or entry["email"]
        if key not in best or entry["level"] < best[key]["level"]:
            best[key] = entry
    return sorted(best.values(), key=lambda e: (e["level"], e["name"]))


def _when(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default

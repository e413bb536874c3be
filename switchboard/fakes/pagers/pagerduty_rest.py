"""PagerDuty's REST API v2 on loopback, the part the facts read: `GET /oncalls` (filtered by
schedule or escalation policy, at a moment, with `include[]=users`, paged by offset) and
`GET /services/{id}` (a service's escalation policy), in PagerDuty's shapes and errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from switchboard.fakes.loopback import LoopbackServer, json_response

_ERRORS = {
    400: (2001, "Invalid Input Provided"),
    401: (2006, "Authentication failed"),  # sic: PagerDuty answers 401 with this
    403: (2010, "Access Denied"),
    404: (2100, "Not Found"),
    429: (2020, "Rate Limit Exceeded"),
    500: (2000, "Internal Error"),
}


@dataclass
class Shift:
    """One person on call for an escalation policy's level, from one schedule or directly."""

    user_id: str
    name: str
    email: str
    policy: str  # escalation policy id
    level: int
    start: datetime | None  # None: always on call (no schedule)
    end: datetime | None
    schedule: str = ""  # schedule id, "" for a direct assignment


class FakePagerDutyRest(LoopbackServer):
    def __init__(self, token: str = "pd-test-token") -> None:
        super().__init__()
        self.token = token
        self.shifts: list[Shift] = []
        self.services: dict[str, str] = {}  # service id -> escalation policy id

    def error_body(self, status: int) -> dict[str, Any]:
        code, message = _ERRORS.get(status, (2000, "Internal Error"))
        return {"error": {"message": message, "code": code}}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/oncalls", self._oncalls), web.get("/services/{id}", self._service)]

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Token token={self.token}"

    async def _service(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return json_response(self.error_body(401), 401)
        service = request.match_info["id"]
        policy = self.services.get(service)
        if policy is None:
            return json_response(self.error_body(404), 404)
        return json_response(
            {
                "service": {
                    "id": service,
                    "type": "service",
                    "summary": service,
                    "escalation_policy": {
                        "id": policy,
                        "type": "escalation_policy_reference",
                        "summary": policy,
                    },
                }
            }
        )

    async def _oncalls(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return json_response(self.error_body(401), 401)
        query = request.query
        try:
            at = _time(query.get("since")) or datetime.now(UTC)
            limit = min(int(query.get("limit", "25")), 100)
            offset = int(query.get("offset", "0"))
        except ValueError:
            body = self.error_body(400)
            body["error"]["errors"] = ["Invalid 'since' or limit/offset"]
            return json_response(body, 400)
        schedules = set(query.getall("schedule_ids[]", []))
        policies = set(query.getall("escalation_policy_ids[]", []))
        users = "users" in query.getall("include[]", [])
        matching = [
            s
            for s in self.shifts
            if (not schedules or s.schedule in schedules)
            and (not policies or s.policy in policies)
            and (s.start is None or s.start <= at)
            and (s.end is None or at < s.end)
        ]
        page = matching[offset : offset + limit]
        return json_response(
            {
                "oncalls": [self._entry(s, users) for s in page],
                "limit": limit,
                "offset": offset,
                "more": offset + limit < len(matching),
                "total": None,
            }
        )

    def _entry(self, shift: Shift, users: bool) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": shift.user_id,
            "type": "user_reference",
            "summary": shift.name,
        }
        if users:
            user = {**user, "type": "user", "name": shift.name, "email": shift.email}
        schedule = (
            {"id": shift.schedule, "type": "schedule_reference", "summary": shift.schedule}
            if shift.schedule
            else None
        )
        return {
            "escalation_policy": {
                "id": shift.policy,
                "type": "escalation_policy_reference",
                "summary": shift.policy,
            },
            "escalation_level": shift.level,
            "schedule": schedule,
            "user": user,
            "start": _iso(shift.start),
            "end": _iso(shift.end),
        }


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

"""Opsgenie's schedule on-calls on loopback: `GET /v2/schedules/{identifier}/on-calls` and
`/next-on-calls` (by id or name, `flat=true` for a plain list of usernames), in Opsgenie's
shapes and errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from switchboard.fakes.loopback import LoopbackServer, json_response

_MESSAGES = {
    401: "Could not authenticate",
    403: "You are not authorized for this operation",
    404: "Schedule not found",
    422: "Request is not processable",
    429: "Too many requests",
}


@dataclass
class Schedule:
    id: str
    name: str
    on_call: list[str] = field(default_factory=list)  # usernames (e-mail addresses)
    next_on_call: list[str] = field(default_factory=list)


class FakeOpsgenieOnCall(LoopbackServer):
    def __init__(self, key: str = "og-test-key") -> None:
        super().__init__()
        self.key = key
        self.schedules: list[Schedule] = []

    def error_body(self, status: int) -> dict[str, Any]:
        return {
            "message": _MESSAGES.get(status, "Internal Server Error"),
            "took": 0.001,
            "requestId": str(uuid.uuid4()),
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v2/schedules/{identifier}/on-calls", self._on_calls),
            web.get("/v2/schedules/{identifier}/next-on-calls", self._next),
        ]

    def _find(self, request: web.Request) -> Schedule | web.Response:
        if request.headers.get("Authorization") != f"GenieKey {self.key}":
            return json_response(self.error_body(401), 401)
        identifier = request.match_info["identifier"]
        by = request.query.get("scheduleIdentifierType", "id")
        for schedule in self.schedules:
            if (schedule.id if by == "id" else schedule.name) == identifier:
                return schedule
        body = self.error_body(404)
        body["message"] = f"No schedule exists with {by} [{identifier}]"
        return json_response(body, 404)

    def _parent(self, schedule: Schedule) -> dict[str, Any]:
        return {"id": schedule.id, "name": schedule.name, "enabled": True}

    async def _on_calls(self, request: web.Request) -> web.StreamResponse:
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        data: dict[str, Any] = {"_parent": self._parent(found)}
        if request.query.get("flat") == "true":
            data["onCallRecipients"] = list(found.on_call)
        else:
            data["onCallParticipants"] = [
                {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, u)), "name": u, "type": "user"}
                for u in found.on_call
            ]
        return json_response({"data": data, "took": 0.01, "requestId": str(uuid.uuid4())})

    async def _next(self, request: web.Request) -> web.StreamResponse:
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        data: dict[str, Any] = {"_parent": self._parent(found)}
        if request.query.get("flat") == "true":
            data["nextOnCallRecipients"] = list(found.next_on_call)
        else:
            data["exactNextOnCallRecipients"] = {
                "type": "user",
                "recipients": [{"name": u, "type": "user"} for u in found.next_on_call],
            }
        return json_response({"data": data, "took": 0.01, "requestId": str(uuid.uuid4())})

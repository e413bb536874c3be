"""`FakePagerDuty`: the Events API v2 (`POST /v2/enqueue`) on a loopback port.

It validates events as PagerDuty does, answers 202 or 400 in PagerDuty's shapes, and keeps
what PagerDuty would: an incident per dedup_key, triggered, acknowledged or resolved. Like
PagerDuty it accepts a well-formed event for a routing key no integration owns, and drops
it (see `dropped`), as it drops an acknowledge or resolve with no open incident."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from http import HTTPStatus

from aiohttp import web

from switchboard.fakes.pagers.server import JSON, Answer, LoopbackFake, Received, read_json
from switchboard.fakes.slack.limits import Faults

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
ROUTING_KEY_LENGTH = 32
DEDUP_KEY_LIMIT = 255
SUMMARY_LIMIT = 1024
STATUS_AFTER = {"acknowledge": "acknowledged", "resolve": "resolved"}
INVALID = {"status": "invalid event", "message": "Event object is invalid"}
UNRECOGNIZED = {
    "status": "Unrecognized object",
    "message": "Event object format is unrecognized",
    "errors": ["JSON parse error"],
}


@dataclass
class Incident:
    """The alert PagerDuty keeps for one dedup_key, with every event applied to it."""

    dedup_key: str
    routing_key: str
    summary: str
    severity: str
    status: str = "triggered"  # then "acknowledged", "resolved"
    events: list[JSON] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status != "resolved"


class FakePagerDuty(LoopbackFake):
    ACTIONS = ACTIONS
    PATHS = {"/v2/enqueue": Faults.ANY}

    def __init__(self) -> None:
        super().__init__()
        self.services: set[str] = set()  # routing keys of the Events API v2 integrations
        # The latest incident per dedup_key (a trigger after a resolve replaces it), keyed by
        # dedup_key alone: two services sending the same key would overwrite each other.
        self.incidents: dict[str, Incident] = {}
        self.dropped: list[JSON] = []  # accepted events that reached no open incident

    def add_service(self, routing_key: str = "") -> str:
        """Register an integration; returns its routing key (by default a random one)."""
        routing_key = routing_key or uuid.uuid4().hex
        self.services.add(routing_key)
        return routing_key

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v2/enqueue", self._enqueue)]

    def error_body(self, status: int) -> JSON:
        return {"status": "error", "message": HTTPStatus(status).phrase}

    async def _enqueue(self, request: web.Request) -> web.Response:
        event = await read_json(request)
        action = str((event or {}).get("event_action") or "")
        record = Received(action, request.path, dict(request.query), event or {})
        return await self.respond(record, lambda: self._answer(event))

    def _answer(self, event: JSON | None) -> Answer:
        if event is None:
            return 400, UNRECOGNIZED
        if errors := problems(event):
            return 400, INVALID | {"errors": errors}
        dedup_key = str(event.get("dedup_key") or uuid.uuid4().hex)
        self._apply(event, dedup_key)
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}

    def _apply(self, event: JSON, dedup_key: str) -> None:
        routing_key, action = event["routing_key"], event["event_action"]
        incident = self.incidents.get(dedup_key)
        # Follow-up events only reach an open incident through the routing key that opened it.
        if incident and not (incident.open and incident.routing_key == routing_key):
            incident = None
        if routing_key not in self.services or (incident is None and action != "trigger"):
            self.dropped.append(event)
            return
        if incident is None:
            payload = event["payload"]
            incident = Incident(dedup_key, routing_key, payload["summary"], payload["severity"])
            self.incidents[dedup_key] = incident
        incident.status = STATUS_AFTER.get(action, incident.status)
        incident.events.append(event)


def problems(event: JSON) -> list[str]:
    """What PagerDuty would list in `errors` for this event."""
    errors = []
    routing_key = event.get("routing_key")
    if not isinstance(routing_key, str) or len(routing_key) != ROUTING_KEY_LENGTH:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    dedup_key = event.get("dedup_key")
    if dedup_key is None and action in STATUS_AFTER:
        errors.append(f"'dedup_key' is required for {action} events")
    elif dedup_key is not None and not (
        isinstance(dedup_key, str) and 0 < len(dedup_key) <= DEDUP_KEY_LIMIT
    ):
        errors.append(f"'dedup_key' must be a string of 1 to {DEDUP_KEY_LIMIT} characters")
    if action == "trigger":
        errors += _payload_problems(event.get("payload"))
    return errors


def _payload_problems(payload: object) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = [
        f"'payload.{name}' is missing or blank"
        for name in ("summary", "source")
        if not (isinstance(payload.get(name), str) and payload[name].strip())
    ]
    if len(str(payload.get("summary") or "")) > SUMMARY_LIMIT:
        errors.append(f"'payload.summary' is longer than {SUMMARY_LIMIT} characters")
    if payload.get("severity") not in SEVERITIES:
        errors.append(
            "'payload.severity' is invalid (must be one of: " + ", ".join(SEVERITIES) + ")"
        )
    return errors

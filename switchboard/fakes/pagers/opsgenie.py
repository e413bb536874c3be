"""`FakeOpsgenie`: the Alert API on a loopback port.

`POST /v2/alerts` creates an alert (or, for the alias of an alert that is not closed, counts
one more occurrence of it, as Opsgenie de-duplicates), and
`POST /v2/alerts/{identifier}/acknowledge|close?identifierType=id|alias|tiny` act on it.
Every request needs `Authorization: GenieKey <api_key>` (else 401). Like Opsgenie, valid
requests are answered 202 and processed after: an action on an unknown alert is accepted
and changes nothing."""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

from aiohttp import web

from switchboard.fakes.pagers.server import JSON, Answer, LoopbackFake, Received, read_json

ACTIONS = ("create", "acknowledge", "close")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
RESPONDER_TYPES = ("team", "user", "escalation", "schedule")
IDENTIFIER_TYPES = ("id", "alias", "tiny")
# Opsgenie's documented limits. It may cut a longer value; the fake refuses it instead, so
# a client that forgets to cut is caught.
LIMITS = {"message": 130, "alias": 512, "description": 15_000}
TAGS_LIMIT = 20
STATUS_AFTER = {"acknowledge": "acked", "close": "closed"}


@dataclass
class Alert:
    """One alert as Opsgenie keeps it."""

    id: str
    tiny_id: str
    alias: str
    message: str
    priority: str
    responders: list[JSON]
    body: JSON  # the create request
    status: str = "open"  # then "acked", "closed"
    count: int = 1  # occurrences folded into it by alias
    actions: list[JSON] = field(default_factory=list)  # acknowledge/close request bodies


class FakeOpsgenie(LoopbackFake):
    ACTIONS = ACTIONS
    PATHS = {
        "/v2/alerts": "create",
        "/v2/alerts/{identifier}/acknowledge": "acknowledge",
        "/v2/alerts/{identifier}/close": "close",
    }

    def __init__(self, api_key: str = "") -> None:
        super().__init__()
        self.api_key = api_key or str(uuid.uuid4())
        # The latest alert per alias; a create after a close replaces it.
        self.alerts: dict[str, Alert] = {}
        self._tiny_ids = itertools.count(1)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v2/alerts", self._create),
            web.post("/v2/alerts/{identifier}/{action:acknowledge|close}", self._act),
        ]

    def error_body(self, status: int) -> JSON:
        return _reply(message=HTTPStatus(status).phrase)

    async def _create(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        record = Received("create", request.path, dict(request.query), body or {})
        return await self.respond(record, lambda: self._authorized(request, body, self._open))

    async def _act(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        action = request.match_info["action"]
        record = Received(action, request.path, dict(request.query), body or {})
        change = functools.partial(self._change, request, action)
        return await self.respond(record, lambda: self._authorized(request, body, change))

    def _authorized(
        self, request: web.Request, body: JSON | None, answer: Callable[[JSON], Answer]
    ) -> Answer:
        """401 without the right GenieKey, 400 for a body that is not JSON, else `answer`."""
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme != "GenieKey" or key.strip() != self.api_key:
            return 401, _reply(message="Could not authenticate")
        if body is None:
            return 400, _reply(message="Invalid JSON body")
        return answer(body)

    def _open(self, body: JSON) -> Answer:
        if errors := problems(body):
            return 422, _unprocessable(errors)
        alias = str(body.get("alias") or uuid.uuid4())
        alert = self.alerts.get(alias)
        if alert and alert.status != "closed":
            alert.count += 1
        else:
            self.alerts[alias] = Alert(
                id=str(uuid.uuid4()),
                tiny_id=str(next(self._tiny_ids)),
                alias=alias,
                message=body["message"],
                priority=str(body.get("priority") or "P3"),  # Opsgenie's default
                responders=list(body.get("responders") or []),
                body=body,
            )
        return 202, _accepted()

    def _change(self, request: web.Request, action: str, body: JSON) -> Answer:
        identifier_type = request.query.get("identifierType", "id")
        if identifier_type not in IDENTIFIER_TYPES:
            return 422, _unprocessable({"identifierType": f"Invalid value [{identifier_type}]"})
        alert = self.find(request.match_info["identifier"], identifier_type)
        if alert and alert.status != "closed":
            if action == "close" or alert.status == "open":  # acknowledging twice changes nothing
                alert.status = STATUS_AFTER[action]
            alert.actions.append({"action": action} | body)
        return 202, _accepted()

    def find(self, identifier: str, identifier_type: str = "alias") -> Alert | None:
        """The latest alert with this id, alias or tiny id."""
        if identifier_type == "alias":
            return self.alerts.get(identifier)
        attribute = "id" if identifier_type == "id" else "tiny_id"
        return next((a for a in self.alerts.values() if getattr(a, attribute) == identifier), None)


def problems(body: JSON) -> dict[str, str]:
    """What Opsgenie would list, field by field, in a 422's `errors`."""
    errors = {}
    if not str(body.get("message") or "").strip():
        errors["message"] = "Message can not be empty."
    for name, limit in LIMITS.items():
        if len(str(body.get(name) or "")) > limit:
            errors[name] = f"{name.capitalize()} can not be longer than {limit} characters."
    if body.get("priority", "P3") not in PRIORITIES:
        errors["priority"] = f"Invalid priority [{body.get('priority')}]"
    for responder in body.get("responders") or []:
        responder = responder if isinstance(responder, dict) else {}
        if responder.get("type") not in RESPONDER_TYPES:
            errors["responders#type"] = f"Invalid recipient type '{responder.get('type')}'"
        elif not any(responder.get(key) for key in ("id", "name", "username")):
            errors["responders"] = "A responder needs an id, name or username."
    if len(body.get("tags") or []) > TAGS_LIMIT:
        errors["tags"] = f"Tags can not be more than {TAGS_LIMIT}."
    return errors


def _reply(**fields: object) -> JSON:
    return fields | {"took": 0.1, "requestId": str(uuid.uuid4())}


def _accepted() -> JSON:
    return _reply(result="Request will be processed")


def _unprocessable(errors: dict[str, str]) -> JSON:
    return _reply(
        message="Request body is not processable. Please check the errors.", errors=errors
    )

"""What the PagerDuty and Opsgenie fakes share: a real aiohttp server on 127.0.0.1 with an
ephemeral port, `async with`, a record of every request, and injected faults."""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self

from aiohttp import web

from switchboard.fakes.slack.limits import Fault, Faults

JSON = dict[str, Any]
Answer = tuple[int, JSON]


@dataclass
class Received:
    """One request as a fake saw it. `status` stays 0 when the client gave up waiting."""

    action: str  # "trigger", "create", "acknowledge"...; "" when the body was unreadable
    path: str
    params: dict[str, str]
    body: JSON  # {} when the body was not a JSON object
    status: int = 0
    response: JSON = field(default_factory=dict)


class LoopbackFake(ABC):
    """Subclasses list their `routes()`, the `ACTIONS` a fault can target, the `PATHS` that
    stand for actions (`"*"` for all of them), and how a provider words an HTTP error."""

    ACTIONS: ClassVar[tuple[str, ...]] = ()
    PATHS: ClassVar[Mapping[str, str]] = {}

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.root_url = ""
        self._faults = Faults()
        self._runner: web.AppRunner | None = None

    @abstractmethod
    def routes(self) -> list[web.RouteDef]: ...

    @abstractmethod
    def error_body(self, status: int) -> JSON:
        """The provider's JSON for an injected `status`."""

    # lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.add_routes(self.routes())
        # handler_cancellation: a client that timed out must not keep a delayed handler (and
        # so `stop`) waiting.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.root_url = f"http://{host}:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What the pagers take as `base_url`: `http://127.0.0.1:PORT`."""
        return self.root_url

    # test controls

    def fail(
        self,
        path_or_action: str,
        *,
        status: int | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Make the next `times` requests for an action (or path, or `"*"`) wait `delay`
        seconds, then answer `status` (500, 429...) or, without one, as usual."""
        key = self.PATHS.get(path_or_action, path_or_action)
        if key != Faults.ANY and key not in self.ACTIONS:
            known = ", ".join((*self.ACTIONS, *self.PATHS, Faults.ANY))
            raise ValueError(f"unknown path or action {path_or_action!r}; one of {known}")
        if status is None and not delay:
            raise ValueError("give status, delay or both")
        self._faults.add(key, Fault(status=status, delay=delay, times=times))

    # serving

    async def respond(self, record: Received, answer: Callable[[], Answer]) -> web.Response:
        """Record the request, apply any fault for its action, else `answer()` it."""
        self.requests.append(record)
        fault = self._faults.take(record.action)
        if fault and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault and fault.status:
            status, body = fault.status, self.error_body(fault.status)
        else:
            status, body = answer()
        record.status, record.response = status, body
        return web.json_response(body, status=status)


async def read_json(request: web.Request) -> JSON | None:
    """The body as a JSON object: {} when there is none, None when it is not an object."""
    text = await request.text()
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None

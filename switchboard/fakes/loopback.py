"""What the GitHub, SonarQube, PagerDuty REST and Opsgenie on-call fakes share: a real
aiohttp server on 127.0.0.1 (an ephemeral port), `async with`, a log of every request, and
faults injected by path prefix: a status with the service's own error body, a raw body
(malformed JSON, a huge answer), extra headers (`Retry-After`), a delay (timeouts)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Fault:
    prefix: str  # the request path starts with it; "" for any
    status: int | None = None
    body: str | None = None  # sent as is instead of the usual answer
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1


@dataclass(frozen=True, slots=True)
class Seen:
    method: str
    path: str
    query: str
    status: int
    headers: dict[str, str]


class LoopbackServer:
    """Subclasses add their routes in `routes()` and word errors in `error_body()`."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.base_url = ""
        self._faults: list[Fault] = []
        self._runner: web.AppRunner | None = None

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def error_body(self, status: int) -> dict[str, Any]:
        return {"message": f"error {status}"}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}"

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

    def fail(
        self,
        prefix: str = "",
        *,
        status: int | None = None,
        body: str | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """The next `times` requests whose path starts with `prefix` wait `delay` seconds,
        then answer `status` (with the service's error body, or `body`) and `headers`."""
        if status is None and body is None and not delay:
            raise ValueError("give status, body, delay or a mix")
        self._faults.append(Fault(prefix, status, body, dict(headers or {}), delay, times))

    def heal(self) -> None:
        """Forget every fault not yet served."""
        self._faults.clear()

    def _take(self, path: str) -> Fault | None:
        for fault in self._faults:
            if path.startswith(fault.prefix):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = self._take(request.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None or fault.body is not None:
                status = fault.status or 200
                text = fault.body if fault.body is not None else json.dumps(self.error_body(status))
                response: web.StreamResponse = web.Response(
                    status=status,
                    text=text,
                    content_type="application/json",
                    headers=fault.headers,
                )
                self._log(request, response)
                return response
        try:
            response = await handler(request)
        except web.HTTPException as error:
            response = error
        self._log(request, response)
        return response

    def _log(self, request: web.Request, response: web.StreamResponse) -> None:
        self.seen.append(
            Seen(
                request.method,
                request.path,
                request.query_string,
                response.status,
                dict(request.headers),
            )
        )


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", headers=headers
    )

"""The demo page's server: the Slack-like page (static files shipped in the package), a JSON
API for what people do in it, and server-sent events that tell the page to look again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

from aiohttp import web

from switchboard.demo.emulator import Emulator, Refusal, dumps
from switchboard.fakes.slack import SlackError

STATIC = files("switchboard.demo") / "static"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
HEARTBEAT = 15.0  # seconds between SSE comments, so proxies keep the stream open

Action = Callable[[Emulator, dict[str, Any]], Awaitable[Any]]


class Changes:
    """A version number bumped on every change, and the streams waiting for it."""

    def __init__(self) -> None:
        self.version = 0
        self._waiters: set[asyncio.Event] = set()

    def bump(self) -> None:
        self.version += 1
        for waiter in self._waiters:
            waiter.set()

    async def wait(self, seen: int, heartbeat: float) -> int:
        if self.version != seen:
            return self.version
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter.wait(), heartbeat)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)
        return self.version


def build_page(emulator: Emulator) -> web.Application:
    changes = Changes()
    emulator.fake.on_change.append(changes.bump)
    app = web.Application()
    app.router.add_get("/", _static("index.html"))
    for name in ("demo.js", "demo.css"):
        app.router.add_get(f"/static/{name}", _static(name))
    app.router.add_get("/api/state", _state(emulator))
    app.router.add_get("/api/events", _events(changes))
    app.router.add_get("/api/files/{file_id}", _file(emulator))
    actions: dict[str, Action] = {
        "command": lambda e, b: e.command(b["user"], b["channel"], b["text"]),
        "message": lambda e, b: e.post(b["user"], b["channel"], b["text"], b.get("thread_ts", "")),
        "reaction": lambda e, b: e.react(b["user"], b["channel"], b["ts"], b["name"], b["add"]),
        "action": lambda e, b: e.act(b["user"], b["source"], b["action"], b.get("values", {})),
        "submit": lambda e, b: e.submit(b["user"], b["view_id"], b.get("values", {})),
        "close": lambda e, b: e.close(b["user"], b["view_id"]),
        "suggest": lambda e, b: e.suggest(b["user"], b["view_id"], b["action"], b["values"]),
        "home": lambda e, b: e.open_home(b["user"]),
    }
    for name, action in actions.items():
        app.router.add_post(f"/api/{name}", _do(emulator, action))
    return app


def _static(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        body = (STATIC / name).read_bytes()
        suffix = name[name.rfind(".") :]
        return web.Response(body=body, content_type=CONTENT_TYPES[suffix], charset="utf-8")

    return handler


def _state(emulator: Emulator) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        user, channel = request.query.get("user", ""), request.query.get("channel", "")
        return web.json_response(emulator.snapshot(user, channel), dumps=dumps)

    return handler


def _events(changes: Changes) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        seen = -1
        try:
            while True:
                version = await changes.wait(seen, HEARTBEAT)
                note = b": still here\n\n" if version == seen else f"data: {version}\n\n".encode()
                seen = version
                await response.write(note)
        except ConnectionResetError:  # the page was closed or reloaded
            return response

    return handler


def _file(emulator: Emulator) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        found = emulator.fake.files.get(request.match_info["file_id"])
        if found is None or found.content is None:
            raise web.HTTPNotFound(text="no such file")
        return web.Response(body=found.content, content_type="text/plain", charset="utf-8")

    return handler


def _do(emulator: Emulator, action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Run one thing a person did; a refusal (as Slack's client would say it) is a 400."""

    async def handler(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            result = await action(emulator, body)
        except (Refusal, SlackError, KeyError, ValueError) as error:
            reason = error.body().get("error") if isinstance(error, SlackError) else str(error)
            return web.json_response({"ok": False, "error": reason}, status=400)
        return web.json_response({"ok": True, "result": result}, dumps=dumps)

    return handler

"""`FakeSlack`: the workspace state served as a Slack Web API on a loopback port.

Point `AsyncWebClient(base_url=fake.base_url)` at it. Routes:

* `/api/<method>` (GET and POST): arguments merged from query string, form and JSON body
  (slack_sdk uses all three, CONTRACT 3.1); bearer or `token` auth; HTTP 200 with `ok`, except
  429 rate limits and injected 5xx.
* `/upload/v1/<token>`: the `upload_url` of files.getUploadURLExternal (no auth, raw bytes).
* `/commands/<team>/<id>`, `/actions/<team>/<id>`: response_url hooks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from switchboard.fakes.slack.args import Args, SlackError
from switchboard.fakes.slack.limits import GENEROUS_TIERS, Fault, Faults, Hold, RateLimiter
from switchboard.fakes.slack.methods import METHODS
from switchboard.fakes.slack.spec import method_specs
from switchboard.fakes.slack.state import JSON, TeamInfo, Workspace

MAX_BODY = 64 * 1024 * 1024  # uploads and canvases; aiohttp's default is 1 MiB
RATELIMITED: JSON = {"ok": False, "error": "ratelimited"}


@dataclass
class Call:
    """One Web API request as the fake saw it (`token` removed from `args`)."""

    method: str
    http_method: str
    args: JSON = field(default_factory=dict)
    status: int = 0
    response: JSON = field(default_factory=dict)


@dataclass
class _Reply:
    status: int
    body: JSON
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack(Workspace):
    """A Slack workspace with a real HTTP face; seed it, drive the bot at it, inspect it.

    `clock` (epoch seconds) drives message ts, trigger expiry, response_url expiry and rate
    limits, so tests can move time instead of sleeping. `tiers` are requests per minute per
    rate-limit tier (`limits.SLACK_TIERS` for Slack's numbers; the default never limits).
    """

    def __init__(
        self,
        *,
        team: TeamInfo | None = None,
        clock: Callable[[], float] = time.time,
        tiers: Mapping[str, float] = GENEROUS_TIERS,
        home_tab_enabled: bool = True,
    ) -> None:
        super().__init__(team or TeamInfo(), clock)
        self.home_tab_enabled = home_tab_enabled
        self.rate_limits = RateLimiter(clock, tiers)
        self._faults = Faults()
        self._calls: list[Call] = []
        self._runner: web.AppRunner | None = None

    # lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/api/{method}", self._api, allow_head=False)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/upload/v1/{token}", self._upload)
        app.router.add_post("/{kind:commands|actions}/{team}/{hook_id}", self._response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_port = self._runner.addresses[0][1]
        self.root_url = f"http://{host}:{bound_port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
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
        """The `base_url` for slack_sdk clients: `http://127.0.0.1:PORT/api/`."""
        return self.url("api/")

    # test controls

    def fail(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        ratelimit_retry_after: int | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` (`"*"` for any) fail: with an HTTP
        `status` (5xx), an `ok: false` `error`, a 429 with `Retry-After`, or only `delay`."""
        if ratelimit_retry_after is not None and (status is not None or error is not None):
            raise ValueError("a rate-limit fault has no status or error of its own")
        if status is None and error is None and ratelimit_retry_after is None and not delay:
            raise ValueError("give status, error, ratelimit_retry_after or delay")
        self._faults.add(method, Fault(status, error, ratelimit_retry_after, delay, times))

    def hold(self, method: str, *, times: int = 1) -> Hold:
        """Keep the next `times` calls of `method` (`"*"` for any) unanswered until the
        returned hold is released: a Slack that hangs, for as long as a test wants."""
        hold = Hold()
        self._faults.add(method, Fault(times=times, hold=hold))
        return hold

    def heal(self, method: str | None = None) -> None:
        """Slack is back: the faults still queued for `method` (None: all) are dropped."""
        self._faults.clear(method)

    def limit(self, method: str, per_minute: float, burst: float | None = None) -> None:
        """Override one method's rate limit (burst defaults to a minute's worth)."""
        self.rate_limits.limit_method(method, per_minute, burst)

    def limit_channel_posts(self, per_second: float | None = 1.0, burst: float = 1) -> None:
        """Slack's ~1 message/second/channel limit on chat.postMessage (None turns it off)."""
        self.rate_limits.limit_channel_posts(per_second, burst)

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self._calls if method is None or c.method == method]

    # HTTP handlers

    async def _api(self, request: web.Request) -> web.Response:
        call = Call(request.match_info["method"], request.method)
        self._calls.append(call)
        reply = await self._answer(call, request)
        call.status, call.response = reply.status, reply.body
        self.changed()
        headers = {"x-oauth-scopes": self.team.scopes} | reply.headers
        return web.json_response(reply.body, status=reply.status, headers=headers)

    async def _answer(self, call: Call, request: web.Request) -> _Reply:
        fault = self._faults.take(call.method)
        # The request is read before any delay: a call whose caller dies while it is slow
        # still takes effect, as at Slack.
        try:
            args: JSON | SlackError = await _read_args(request)
        except SlackError as error:
            args = error
        if fault and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault and fault.hold:
            await fault.hold.keep()
            fault.hold.through += 1  # counted before it takes effect, nothing runs between
        if fault and fault.retry_after is not None:
            return _Reply(429, RATELIMITED, {"Retry-After": str(fault.retry_after)})
        if fault and (fault.status or fault.error):
            return _Reply(fault.status or 200, {"ok": False, "error": fault.error or "fatal_error"})
        try:
            if isinstance(args, SlackError):
                raise args
            call.args = args
            return self._dispatch(call.method, call.args, _token(request, call.args))
        except SlackError as error:
            return _Reply(200, error.body())

    def _dispatch(self, method: str, values: JSON, token: str | None) -> _Reply:
        if token is None:
            raise SlackError("not_authed")
        if not token.startswith("xox"):
            raise SlackError("invalid_auth")
        spec, handler = method_specs().get(method), METHODS.get(method)
        if spec is None or handler is None:
            raise SlackError("unknown_method")
        posting_to = self._posting_to(values) if method == "chat.postMessage" else None
        retry_after = self.rate_limits.retry_after(method, spec.tier, posting_to)
        if retry_after is not None:
            return _Reply(429, RATELIMITED, {"Retry-After": str(retry_after)})
        args = Args(values)
        spec.check_required(args)
        return _Reply(200, {"ok": True} | handler(self, args))

    def _posting_to(self, values: JSON) -> str:
        """The channel a chat.postMessage call targets, for its per-channel bucket."""
        ref = str(values.get("channel") or "")
        channel = self.find_channel(ref)
        return channel.id if channel else ref

    async def _upload(self, request: web.Request) -> web.Response:
        file = self.files.get(self.uploads.get(request.match_info["token"], ""))
        if file is None:
            return web.Response(status=404, text="upload_url not found")
        file.content = await request.read()
        return web.Response(text=f"OK - {len(file.content)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        try:
            payload: Any = json.loads(await request.text())
        except ValueError:
            payload = None
        status, body = self.deliver_response(request.match_info["hook_id"], payload)
        self.changed()
        return web.json_response(body, status=status)


def _token(request: web.Request, args: JSON) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    token = args.pop("token", None)
    return (credentials.strip() if scheme.lower() == "bearer" else token) or None


async def _read_args(request: web.Request) -> JSON:
    args: JSON = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise SlackError("invalid_json") from None
        return args | (body if isinstance(body, dict) else {})
    form = await request.post()
    return args | {k: v for k, v in form.items() if isinstance(v, str)}

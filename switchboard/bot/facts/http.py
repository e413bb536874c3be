"""GET JSON from a source over the app's shared aiohttp session: a total timeout on every
call, a bounded body, conditional requests (ETag / If-None-Match) and pacing under the
source's rate limit. Every way a call can go wrong becomes one `SourceError`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from switchboard.bot.facts.source import Failure, SourceError
from switchboard.bot.platform.outside_calls import SessionFactory

Clock = Callable[[], float]  # epoch seconds
Sleep = Callable[[float], Awaitable[None]]
MAX_BODY = 4 * 1024 * 1024  # bytes of one answer; more is refused, not read
_ETAGS = 100_000  # answers remembered for conditional requests, oldest dropped first


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # a 304 to a conditional request is the remembered 200
    headers: Mapping[str, str]
    body: Any  # the parsed JSON; None for an empty body
    not_modified: bool = False  # a 304: `body` is the answer remembered with its ETag


class Pacer:
    """Spaces requests under a source's limit: at most `per_second` (when the source has a
    steady limit), none while the source has said to wait (`Retry-After`) or while the
    budget of its window is spent (until the window resets)."""

    def __init__(
        self,
        clock: Clock,
        sleep: Sleep,
        per_second: float | None = None,
        *,
        margin: float = 1.0,
    ) -> None:
        self._clock = clock
        # Seconds past a window's reset before spending the new budget: our clock and the
        # source's differ, and a request early by a hair is refused.
        self._margin = margin
        self._rolled = 0.0  # the reset of the last window we moved past
        self._sleep = sleep
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0  # when the next request may leave
        self._blocked_until = 0.0
        self.remaining: int | None = None  # budget left in this window, as we count it
        self.limit: int | None = None
        self.reset_at: float | None = None
        self.in_flight = 0  # sent, not answered yet

    async def wait(self) -> None:
        while True:
            now = self._clock()
            if self.remaining is not None and self.remaining <= 0 and self.reset_at:
                if now < self.reset_at + self._margin:
                    await self._sleep(self.reset_at + self._margin - now)
                    continue
                self._rolled = self.reset_at
                self.remaining = self.limit  # a new window
            until = max(self._next, self._blocked_until)
            if now >= until:
                break
            await self._sleep(until - now)
        self._next = max(now, self._next) + self._interval
        self.in_flight += 1
        if self.remaining is not None:
            self.remaining -= 1  # reserved; `refund` gives it back for a free answer

    def done(self) -> None:
        self.in_flight -= 1

    def refund(self) -> None:
        if self.remaining is not None:
            self.remaining += 1

    def observe(self, limit: int, remaining: int, reset_at: float) -> None:
        """What the source said of its budget (GitHub's X-RateLimit-* headers)."""
        if reset_at <= self._rolled:
            return  # a late answer from a window already past
        self.limit = limit
        moved_on = self.reset_at is not None and reset_at > self.reset_at > self._rolled
        if self.remaining is None or moved_on:
            # First word, or the source reset before we expected: its count, less what is
            # on its way to it.
            self.remaining = remaining - self.in_flight
        else:
            # Our own count includes requests still in flight, which the source's count
            # does not: the lower of the two is the one that never overruns.
            self.remaining = min(self.remaining, remaining)
        self.reset_at = reset_at if self.reset_at is None else max(self.reset_at, reset_at)

    def block(self, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)


class JsonClient:
    def __init__(
        self,
        session: SessionFactory,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: float,
        pacer: Pacer,
        name: str,
        max_body: int = MAX_BODY,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = dict(headers)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._limit_seconds = timeout
        self.pacer = pacer
        self._name = name
        self._max_body = max_body
        self._etags: dict[str, tuple[str, Any, str]] = {}  # etag, body, Link header
        self.requests = 0  # sent, 304s included

    async def get(
        self, path: str, params: Mapping[str, str] | list[tuple[str, str]] | None = None
    ) -> Answer:
        """One GET; answers of any status come back (the adapter says what they mean),
        except when nothing usable came back at all: then SourceError."""
        url = path if "://" in path else f"{self._base}{path}"
        query = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        cache_key = url + "?" + "&".join(f"{k}={v}" for k, v in query)
        headers = dict(self._headers)
        remembered = self._etags.get(cache_key)
        if remembered is not None:
            headers["If-None-Match"] = remembered[0]
        await self.pacer.wait()
        self.requests += 1
        try:
            return await self._send(url, query, headers, remembered, cache_key, path)
        finally:
            self.pacer.done()

    async def _send(
        self,
        url: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        remembered: tuple[str, Any, str] | None,
        cache_key: str,
        path: str,
    ) -> Answer:
        try:
            async with self._session().get(
                url, params=query, headers=headers, timeout=self._timeout
            ) as response:
                raw = await _read(response, self._max_body)
                status, answer_headers = response.status, response.headers
        except TimeoutError as error:
            raise SourceError(
                Failure.TIMEOUT, f"{self._name} did not answer within {self._limit_seconds:g} s"
            ) from error
        except aiohttp.ClientError as error:
            raise SourceError(
                Failure.UNAVAILABLE, f"{self._name} could not be reached: {error}"
            ) from error
        if status == 304 and remembered is not None:
            self.pacer.refund()  # conditional answers do not count against the budget
            headers = _plain(answer_headers)
            if remembered[2]:  # pages are counted from the Link header: keep it with the body
                headers["link"] = remembered[2]
            return Answer(200, headers, remembered[1], not_modified=True)
        if len(raw) > self._max_body:
            raise SourceError(
                Failure.MALFORMED,
                f"{self._name} answered more than {self._max_body} bytes for {path}",
            )
        body = _parse(raw, self._name, path, status)
        if status == 200 and (etag := answer_headers.get("ETag")):
            if len(self._etags) >= _ETAGS:
                self._etags.pop(next(iter(self._etags)))
            self._etags[cache_key] = (etag, body, answer_headers.get("Link", ""))
        return Answer(status, _plain(answer_headers), body)


async def _read(response: aiohttp.ClientResponse, most: int) -> bytes:
    """The body, or its first `most + 1` bytes when it is longer (then refused)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > most:
            break
    return b"".join(chunks)


def _parse(raw: bytes, name: str, path: str, status: int) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as error:
        if status >= 400:
            return None  # an error page in HTML: the status says enough
        raise SourceError(
            Failure.MALFORMED, f"{name} answered {path} with something that is not JSON"
        ) from error


def _plain(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def retry_after(headers: Mapping[str, str], default: float) -> float:
    """Seconds from a `Retry-After` header (seconds form), else `default`."""
    try:
        return max(0.0, float(headers.get("retry-after", "")))
    except ValueError:
        return default


def http_error(name: str, answer: Answer, what: str) -> SourceError:
    """The usual meaning of an error status, worded for people."""
    status = answer.status
    if status in (401, 403):
        return SourceError(
            Failure.AUTH,
            f"{name} refused the credentials ({status}) for {what}: check the token and "
            "its permissions",
        )
    if status == 404:
        return SourceError(Failure.NOT_FOUND, f"{name} knows no {what} (404)")
    if status == 429:
        wait = retry_after(answer.headers, 60.0)
        return SourceError(
            Failure.RATE_LIMITED, f"{name} rate limit reached (429); retry in {wait:g} s", wait
        )
    if status >= 500:
        return SourceError(Failure.UNAVAILABLE, f"{name} failed ({status}) for {what}")
    return SourceError(Failure.MALFORMED, f"{name} answered {status} for {what}")


def shape_error(name: str, what: str) -> SourceError:
    return SourceError(Failure.MALFORMED, f"{name} answered {what} in an unexpected shape")

"""Rate limits (token buckets per method and per channel) and injected faults."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Requests per minute per tier as Slack documents them (CONTRACT 4). "t5" is "special":
# chat.postMessage's workspace-wide cap is unpublished, so Tier 4 stands in for it.
SLACK_TIERS: Mapping[str, float] = {"t1": 1, "t2": 20, "t3": 50, "t4": 100, "t5": 100}
# The default: high enough that no test or demo is ever slowed down by accident.
GENEROUS_TIERS: Mapping[str, float] = dict.fromkeys(SLACK_TIERS, 60_000.0)


class TokenBucket:
    """`burst` tokens, refilled at `rate` tokens per second."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = burst, now

    def take(self, now: float) -> float:
        """Take one token; return 0.0 on success, else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimiter:
    """Per-method buckets sized by tier, plus an optional per-channel bucket for posting."""

    def __init__(self, clock: Callable[[], float], tiers: Mapping[str, float]) -> None:
        self._clock = clock
        self._tiers = dict(tiers)
        self._overrides: dict[str, tuple[float, float]] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._channel_limit: tuple[float, float] | None = None

    def limit_method(self, method: str, per_minute: float, burst: float | None = None) -> None:
        self._overrides[method] = (per_minute / 60, burst if burst is not None else per_minute)
        self._buckets.pop(method, None)

    def limit_channel_posts(self, per_second: float | None, burst: float = 1) -> None:
        """Turn the chat.postMessage per-channel bucket on (or off with None)."""
        self._channel_limit = None if per_second is None else (per_second, burst)
        self._buckets = {k: v for k, v in self._buckets.items() if not k.startswith("#")}

    def retry_after(self, method: str, tier: str, channel: str | None = None) -> int | None:
        """Whole seconds to wait if this call is over a limit (Slack sends integers), else None.
        `channel` is given for posts, which also draw on that channel's bucket when it is on."""
        now = self._clock()
        rate, burst = self._overrides.get(method) or (self._tiers[tier] / 60, self._tiers[tier])
        wait = self._bucket(method, rate, burst, now).take(now)
        if not wait and channel and self._channel_limit:
            wait = self._bucket(f"#{channel}", *self._channel_limit, now).take(now)
        return math.ceil(wait) if wait else None

    def _bucket(self, key: str, rate: float, burst: float, now: float) -> TokenBucket:
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(rate, burst, now)
        return self._buckets[key]


@dataclass
class Hold:
    """Calls kept waiting, unanswered, until `release()`; they then go on as usual and take
    effect, even when their caller gave up on them meanwhile (as at Slack)."""

    waiting: int = 0  # calls held now
    through: int = 0  # calls that went on after the release
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self._released.set()

    async def keep(self) -> None:
        self.waiting += 1
        try:
            await self._released.wait()
        finally:
            self.waiting -= 1


@dataclass
class Fault:
    """What the next call of a method suffers. With only `delay` (or `hold`), the call then
    succeeds."""

    status: int | None = None
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1
    hold: Hold | None = None


class Faults:
    """FIFO of faults per method; the method `"*"` matches every method."""

    ANY = "*"

    def __init__(self) -> None:
        self._queues: dict[str, deque[Fault]] = {}

    def add(self, method: str, fault: Fault) -> None:
        self._queues.setdefault(method, deque()).append(fault)

    def clear(self, method: str | None = None) -> None:
        """Forget the faults still queued for `method` (None: for every method)."""
        if method is None:
            self._queues.clear()
        else:
            self._queues.pop(method, None)

    def take(self, method: str) -> Fault | None:
        for key in (method, self.ANY):
            queue = self._queues.get(key)
            if queue:
                fault = queue[0]
                fault.times -= 1
                if fault.times <= 0:
                    queue.popleft()
                return fault
        return None

"""How long any call to an outside service (Slack, PagerDuty, Opsgenie, and whatever comes
next) may take, and the one HTTP session they all share, which enforces it.

Why it matters: a lease guards each side effect that must happen once (an incident's sync,
a nag's delivery). A call that outlives the lease it was made under lets a second process
take over and do the same thing again: a card or a page posted twice. So every call has a
total timeout, every client gets it from the shared session (aiohttp applies a session's
timeout to each request that does not bring its own), and a call made under a lease is cut
short well before the lease ends (`under_lease`), whatever the two are configured to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

DEFAULT_TIMEOUT = 10.0  # seconds for one attempt of one call, connecting to the last byte
# Attempts of one Slack call: the first, and up to 3 more from slack_sdk's retry handlers
# (they share one count; the rate-limit handler allows the most, 3).
ATTEMPTS = 4
# A call made under a lease has at most this share of it: the rest is for the service to
# finish a call we gave up on, before another run (after the lease) looks for what it did.
LEASE_SHARE = 0.5

# Returns the app's shared session (never closed by a client). A factory, not a session,
# because the composition root is synchronous and aiohttp only builds sessions in a loop.
SessionFactory = Callable[[], aiohttp.ClientSession]


@dataclass(frozen=True)
class CallLimits:
    timeout: float = DEFAULT_TIMEOUT
    attempts: int = ATTEMPTS

    @property
    def deadline(self) -> float:
        """The longest one call may take, its retries and their waits included."""
        return self.timeout * self.attempts


def under_lease(lease_seconds: float) -> float:
    """The most a call made with a whole lease of `lease_seconds` ahead may take."""
    return lease_seconds * LEASE_SHARE


class HttpSession:
    """One aiohttp session for every outside call, made on first use inside the event loop;
    each request on it has `timeout` seconds in all, unless it brings a timeout of its own."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def __call__(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

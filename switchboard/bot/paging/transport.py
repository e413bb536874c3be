"""The HTTP door shared by the PagerDuty and Opsgenie pagers: one JSON POST with a timeout
(the app's `CallLimits.timeout`, see `switchboard.bot.platform.outside_calls`), and one mapping of
every way it can fail to a PagingError."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from switchboard.bot.paging.base import PagingError
from switchboard.bot.platform.outside_calls import DEFAULT_TIMEOUT, SessionFactory
from switchboard.bot.platform.text import shorten

log = logging.getLogger(__name__)

JSON = dict[str, Any]
__all__ = ["DEFAULT_TIMEOUT", "JSON", "JsonApi", "SessionFactory"]
DETAIL_LIMIT = 300  # characters of the provider's own explanation kept in a PagingError


class JsonApi:
    """POSTs JSON to one provider. `detail` pulls the provider's explanation out of an error
    body; `headers` may carry a secret and are never logged or put in an error."""

    def __init__(
        self,
        name: str,
        session: SessionFactory,
        base_url: str,
        *,
        timeout: float,
        detail: Callable[[JSON], str],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._detail = detail
        self._headers = dict(headers or {})

    async def post(self, path: str, body: JSON, params: Mapping[str, str] | None = None) -> JSON:
        """The answer's JSON object on any 2xx, else a PagingError."""
        try:
            async with self._session().post(
                self._base_url + path,
                json=body,
                params=params,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                status, answer = response.status, await _json(response)
        except TimeoutError:
            message = f"{self.name} did not answer within {self._timeout.total:g} s"
            raise PagingError(message, retryable=True) from None
        except aiohttp.ClientError as error:
            message = f"Could not reach {self.name} ({type(error).__name__})"
            raise PagingError(message, retryable=True) from error
        if 200 <= status < 300:
            return answer
        log.warning("%s answered %d to POST %s", self.name, status, path)
        raise _status_error(self.name, status, shorten(self._detail(answer), DETAIL_LIMIT))


def _status_error(name: str, status: int, detail: str) -> PagingError:
    """PagerDuty and Opsgenie agree: 429 and 5xx may work later, any other 4xx never will."""
    reason = f": {detail}" if detail else ""
    if status == 429:
        return PagingError(f"{name} is rate limiting Switchboard (429)", retryable=True)
    if status >= 500:
        return PagingError(f"{name} had a server error ({status})", retryable=True)
    if status in (401, 403):
        return PagingError(f"{name} rejected Switchboard's key ({status}){reason}", retryable=False)
    return PagingError(f"{name} refused the page ({status}){reason}", retryable=False)


async def _json(response: aiohttp.ClientResponse) -> JSON:
    """The body as a JSON object; {} for an empty or non-JSON body (a proxy's HTML page)."""
    try:
        data = await response.json(content_type=None)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}

"""What `GET /metrics` says, in the Prometheus text format. One `Metrics` per app, with its
own registry (never prometheus_client's global one), so that the several apps a test
process builds count separately."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Slack wants an answer within 3 s: the buckets are finest well under that.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
_METHOD = re.compile(r"[a-z]+(?:\.[A-Za-z]+)+")  # chat.postMessage, usergroups.users.list


class _OpenIncidents(Collector):
    """A gauge read from the database at scrape time; left out when the read failed, rather
    than reporting a stale or made-up number."""

    def __init__(self) -> None:
        self.value: int | None = None

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        if self.value is None:
            return []
        family = self._family()
        family.add_metric([], self.value)
        return [family]

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "switchboard_incidents_open", "Incidents declared and not resolved yet."
        )


_OUTCOMES = {400: "malformed", 401: "unsigned", 404: "unhandled", 503: "refused"}


def outcome(status: int) -> str:
    """A request's outcome label, from the HTTP status it was answered with."""
    if 200 <= status < 300:
        return "ok"
    return _OUTCOMES.get(status, "error" if status >= 500 else f"http_{status}")


class RequestMetrics:
    """Requests from Slack and how long their answers took: counted by the bot's edge as
    `switchboard_*`, and by the front of `serve --front` as `switchboard_front_*`."""

    def __init__(self, registry: CollectorRegistry, prefix: str = "switchboard") -> None:
        self.registry = registry
        self.requests = Counter(
            f"{prefix}_slack_requests",
            "Requests from Slack, by kind (command, event, interaction, options) and outcome.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.ack_seconds = Histogram(
            f"{prefix}_ack_seconds",
            "Time from receiving a Slack request to answering it, by kind.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )

    def request(self, kind: str, outcome: str, seconds: float) -> None:
        self.requests.labels(kind, outcome).inc()
        self.ack_seconds.labels(kind).observe(seconds)


class Metrics(RequestMetrics):
    def __init__(self) -> None:
        super().__init__(CollectorRegistry(auto_describe=True))
        r = self.registry
        self.slack_calls = Counter(
            "switchboard_slack_api_calls",
            "Slack Web API calls by method (each HTTP attempt, retries included).",
            ["method"],
            registry=r,
        )
        self.slack_errors = Counter(
            "switchboard_slack_api_errors",
            "Slack Web API calls that failed, by method and Slack's error code.",
            ["method", "error"],
            registry=r,
        )
        self.jobs_run = Counter(
            "switchboard_jobs_run", "Scheduled job runs, by job.", ["job"], registry=r
        )
        self.jobs_failed = Counter(
            "switchboard_jobs_failed",
            "Scheduled job runs that raised an error, by job.",
            ["job"],
            registry=r,
        )
        self._open = _OpenIncidents()
        r.register(self._open)

    def slack_call(self, method: str, error: str = "") -> None:
        self.slack_calls.labels(method).inc()
        if error:
            self.slack_errors.labels(method, error).inc()

    def job(self, name: str, failed: bool) -> None:
        self.jobs_run.labels(name).inc()
        if failed:
            self.jobs_failed.labels(name).inc()

    def exposition(self, incidents_open: int | None) -> bytes:
        self._open.value = incidents_open
        return generate_latest(self.registry)


class SlackCallMeter(AsyncRetryHandler):
    """Counts every Slack Web API call and its errors. slack_sdk shows each HTTP attempt's
    outcome to the client's retry handlers, and Bolt copies the app client's handlers into
    the client it builds for each request: so this one seam sees the gateway's calls and
    Bolt's own alike. It never asks for a retry; the handlers after it decide that."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        self._metrics.slack_call(_method(request.url), _error(response, error))
        return False


def _method(url: str) -> str:
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    # Anything else (an upload URL, say) would make a label per call.
    return name if _METHOD.fullmatch(name) else "other"


def _error(response: HttpResponse | None, error: Exception | None) -> str:
    if error is not None:
        return "timeout" if isinstance(error, TimeoutError) else "connection"
    if response is None:
        return ""
    body: Any = response.body
    if isinstance(body, dict) and body.get("ok") is False:
        return str(body.get("error") or "unknown")[:64]
    if response.status_code == 429:
        return "ratelimited"
    return f"http_{response.status_code}" if response.status_code >= 400 else ""

"""Code analysis from SonarQube (or SonarCloud): `GET /api/measures/component` for a
project key, one request for every metric. Values come as strings; facts hold numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from switchboard.bot.facts.http import Answer, Clock, JsonClient, http_error, shape_error
from switchboard.bot.facts.source import Budget, Failure, SourceError, Target, Value

METRICS = (
    "coverage",
    "duplicated_lines_density",
    "bugs",
    "vulnerabilities",
    "code_smells",
    "sqale_rating",
    "reliability_rating",
    "security_rating",
    "complexity",
)
RATE_PER_SECOND = 5.0  # SonarQube has no published limit; stay polite with a server of one
NAME = "SonarQube"


class SonarQube:
    name = "sonarqube"
    ttl = timedelta(hours=6)
    concurrency = 2

    def __init__(self, client: JsonClient, clock: Clock) -> None:
        self._client = client
        self._clock = clock

    @staticmethod
    def headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}  # a user token (SonarQube 10+)

    def budget(self) -> Budget | None:
        return None

    async def fetch(self, target: Target) -> Sequence[Value]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        answer = await self._client.get(
            "/api/measures/component",
            {"component": target.id, "metricKeys": ",".join(METRICS)},
        )
        what = f"project {target.id}"
        if answer.status != 200:
            raise self._error(answer, what)
        body = answer.body
        component = body.get("component") if isinstance(body, dict) else None
        measures = component.get("measures") if isinstance(component, dict) else None
        if not isinstance(measures, list):
            raise shape_error(NAME, what)
        values = []
        for measure in measures:
            if not isinstance(measure, dict) or measure.get("metric") not in METRICS:
                continue
            number = _number(measure.get("value"))
            if number is None:
                raise shape_error(NAME, f"{measure.get('metric')} of {what}")
            values.append(Value(f"sonarqube.{measure['metric']}", number, now))
        return values

    def _error(self, answer: Answer, what: str) -> SourceError:
        body = answer.body
        errors = body.get("errors") if isinstance(body, dict) else None
        first = errors[0] if isinstance(errors, list) and errors else None
        message = str(first.get("msg", ""))[:160] if isinstance(first, dict) else ""
        if answer.status in (401, 403):
            detail = f" {message}" if message else ""
            return SourceError(
                Failure.AUTH, f"SonarQube refused SONARQUBE_TOKEN ({answer.status}{detail})"
            )
        if answer.status == 404:
            return SourceError(Failure.NOT_FOUND, f"SonarQube: {message or f'no {what}'} (404)")
        return http_error(NAME, answer, what)


def _number(value: object) -> float | int | None:
    if not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and "." not in value else number

"""SonarQube's measures against its loopback fake: numbers a rule can compare, and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.bot.facts.engine import RefreshEngine
from switchboard.bot.facts.sonarqube import SonarQube
from switchboard.bot.facts.source import Target
from switchboard.bot.platform.outside_calls import HttpSession
from switchboard.fakes.sonarqube.server import FakeSonarQube
from switchboard.storage.facts_store import FactsStore
from tests.facts.conftest import Clock, client

SERVICE = "component:default/payments"
TARGET = Target("sonarqube", SERVICE, "project", "acme_payments")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSonarQube]:
    async with FakeSonarQube() as sonar:
        sonar.projects["acme_payments"] = {
            "coverage": "81.3",
            "duplicated_lines_density": "2.0",
            "bugs": "4",
            "vulnerabilities": "0",
            "code_smells": "120",
            "sqale_rating": "1.0",
            "reliability_rating": "3.0",
            "security_rating": "1.0",
            "complexity": "870",
        }
        yield sonar


def sonar(
    http: HttpSession, fake: FakeSonarQube, clock: Clock, token: str = "squ_test"
) -> SonarQube:
    return SonarQube(
        client(http, fake.base_url, SonarQube.headers(token), clock, name="SonarQube"), clock.epoch
    )


async def test_measures_become_numbers(
    store: FactsStore, fake: FakeSonarQube, http: HttpSession, clock: Clock
) -> None:
    await RefreshEngine(store, clock, "one").refresh(sonar(http, fake, clock), [TARGET])
    got = {f.key: f.value for f in await store.facts(SERVICE)}
    assert got == {
        "sonarqube.coverage": 81.3,
        "sonarqube.duplicated_lines_density": 2.0,
        "sonarqube.bugs": 4,
        "sonarqube.vulnerabilities": 0,
        "sonarqube.code_smells": 120,
        "sonarqube.sqale_rating": 1.0,
        "sonarqube.reliability_rating": 3.0,
        "sonarqube.security_rating": 1.0,
        "sonarqube.complexity": 870,
    }


async def test_errors_are_worded_and_change_nothing(
    store: FactsStore, fake: FakeSonarQube, http: HttpSession, clock: Clock
) -> None:
    engine = RefreshEngine(store, clock, "one")
    report = await engine.refresh(
        sonar(http, fake, clock), [Target("sonarqube", SERVICE, "project", "nope")]
    )
    assert report.errors == [f"{SERVICE}: SonarQube: Component key 'nope' not found (404)"]
    report = await engine.refresh(sonar(http, fake, clock, token="bad"), [TARGET])
    assert report.stopped == "SonarQube refused SONARQUBE_TOKEN (401)"
    clock.advance(hours=1)
    fake.fail("/api/measures/component", status=403)
    report = await engine.refresh(sonar(http, fake, clock), [TARGET])
    assert report.stopped == "SonarQube refused SONARQUBE_TOKEN (403 Insufficient privileges)"
    clock.advance(hours=2)
    fake.fail(
        "/api/measures/component",
        body='{"component": {"measures": [{"metric": "coverage", "value": 81}]}}',
    )
    report = await engine.refresh(sonar(http, fake, clock), [TARGET])
    assert report.errors == [
        f"{SERVICE}: SonarQube answered coverage of project acme_payments in an unexpected shape"
    ]
    assert await store.facts(SERVICE) == []

"""Every adapter against its fake when the source misbehaves: too slow (a timeout named for
people), not JSON, a 429 with `Retry-After`. Each leaves the stored facts as they were."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from switchboard.bot.facts.engine import RefreshEngine
from switchboard.bot.facts.github import GitHub
from switchboard.bot.facts.opsgenie import Opsgenie
from switchboard.bot.facts.pagerduty import PagerDuty
from switchboard.bot.facts.people import NoDirectory
from switchboard.bot.facts.sonarqube import SonarQube
from switchboard.bot.facts.source import Source, Target
from switchboard.bot.platform.outside_calls import HttpSession
from switchboard.fakes.github.server import FakeGitHub, Repo
from switchboard.fakes.loopback import LoopbackServer
from switchboard.fakes.pagers.opsgenie_oncall import FakeOpsgenieOnCall, Schedule
from switchboard.fakes.pagers.pagerduty_rest import FakePagerDutyRest, Shift
from switchboard.fakes.sonarqube.server import FakeSonarQube
from switchboard.storage.facts_store import FactsStore
from tests.facts.conftest import START, Clock, client

SERVICE = "component:default/payments"


@dataclass
class Case:
    name: str
    fake: Callable[[], LoopbackServer]
    source: Callable[[HttpSession, LoopbackServer, Clock, float], Source]
    target: Target
    path: str  # of the first request


def _github() -> LoopbackServer:
    fake = FakeGitHub()
    fake.add(Repo("acme/payments"))
    return fake


def _pagerduty() -> LoopbackServer:
    fake = FakePagerDutyRest()
    fake.shifts = [Shift("PA", "Alice", "alice@acme.test", "PPOL", 1, START, None, "PSCHED")]
    return fake


def _opsgenie() -> LoopbackServer:
    fake = FakeOpsgenieOnCall()
    fake.schedules = [Schedule("x", "payments_schedule", ["alice@acme.test"])]
    return fake


def _sonarqube() -> LoopbackServer:
    fake = FakeSonarQube()
    fake.projects["acme_payments"] = {"coverage": "80.0"}
    return fake


CASES = [
    Case(
        "GitHub",
        _github,
        lambda h, f, c, t: GitHub(
            client(h, f.base_url, GitHub.headers("ghp_test"), c, name="GitHub", timeout=t), c.epoch
        ),
        Target("github", SERVICE, "repository", "acme/payments"),
        "/repos/acme/payments",
    ),
    Case(
        "PagerDuty",
        _pagerduty,
        lambda h, f, c, t: PagerDuty(
            client(
                h, f.base_url, PagerDuty.headers("pd-test-token"), c, name="PagerDuty", timeout=t
            ),
            NoDirectory(),
            c.epoch,
        ),
        Target("pagerduty", SERVICE, "schedule", "PSCHED"),
        "/oncalls",
    ),
    Case(
        "Opsgenie",
        _opsgenie,
        lambda h, f, c, t: Opsgenie(
            client(h, f.base_url, Opsgenie.headers("og-test-key"), c, name="Opsgenie", timeout=t),
            NoDirectory(),
            c.epoch,
        ),
        Target("opsgenie", SERVICE, "team", "payments"),
        "/v2/schedules/payments_schedule/on-calls",
    ),
    Case(
        "SonarQube",
        _sonarqube,
        lambda h, f, c, t: SonarQube(
            client(h, f.base_url, SonarQube.headers("squ_test"), c, name="SonarQube", timeout=t),
            c.epoch,
        ),
        Target("sonarqube", SERVICE, "project", "acme_payments"),
        "/api/measures/component",
    ),
]


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
async def case(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Case, LoopbackServer]]:
    chosen: Case = request.param
    async with chosen.fake() as fake:
        yield chosen, fake


async def refreshed(
    store: FactsStore, clock: Clock, source: Source, target: Target
) -> dict[str, object]:
    await RefreshEngine(store, clock, "one").refresh(source, [target])
    return {f.key: f.value for f in await store.facts(SERVICE)}


async def test_timeouts_are_named_and_change_nothing(
    store: FactsStore, http: HttpSession, clock: Clock, case: tuple[Case, LoopbackServer]
) -> None:
    chosen, fake = case
    before = await refreshed(store, clock, chosen.source(http, fake, clock, 5.0), chosen.target)
    assert before
    fake.fail(chosen.path, delay=2.0)
    clock.advance(days=1)
    report = await RefreshEngine(store, clock, "one").refresh(
        chosen.source(http, fake, clock, 0.2), [chosen.target]
    )
    assert report.errors == [f"{SERVICE}: {chosen.name} did not answer within 0.2 s"]
    assert {f.key: f.value for f in await store.facts(SERVICE)} == before


async def test_not_json_is_refused(
    store: FactsStore, http: HttpSession, clock: Clock, case: tuple[Case, LoopbackServer]
) -> None:
    chosen, fake = case
    fake.fail(chosen.path, body="<html>oops</html>")
    report = await RefreshEngine(store, clock, "one").refresh(
        chosen.source(http, fake, clock, 5.0), [chosen.target]
    )
    assert report.errors == [
        f"{SERVICE}: {chosen.name} answered {chosen.path} with something that is not JSON"
    ]
    assert await store.facts(SERVICE) == []


async def test_429_backs_off_for_retry_after(
    store: FactsStore, http: HttpSession, clock: Clock, case: tuple[Case, LoopbackServer]
) -> None:
    chosen, fake = case
    fake.fail(chosen.path, status=429, headers={"Retry-After": "42"})
    report = await RefreshEngine(store, clock, "one").refresh(
        chosen.source(http, fake, clock, 5.0), [chosen.target]
    )
    assert "rate limit reached" in report.stopped and "42 s" in report.stopped
    state = await store.state(chosen.target.source)
    assert state is not None and state.retry_at is not None
    assert (state.retry_at - clock.now).total_seconds() == 42

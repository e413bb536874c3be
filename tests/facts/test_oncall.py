"""On call now and next, from PagerDuty's REST API, Opsgenie's schedules and Slack user
groups, each against its loopback fake: the stored `oncall.now` and `oncall.next` a reader
sees, people matched to Slack by e-mail, and each source's errors worded for people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from switchboard.bot.facts.engine import RefreshEngine
from switchboard.bot.facts.freshness import view
from switchboard.bot.facts.opsgenie import Opsgenie
from switchboard.bot.facts.pagerduty import PagerDuty
from switchboard.bot.facts.people import NoDirectory, SlackDirectory
from switchboard.bot.facts.slack_groups import SlackGroups
from switchboard.bot.facts.source import Target
from switchboard.bot.platform.outside_calls import HttpSession
from switchboard.fakes.pagers.opsgenie_oncall import FakeOpsgenieOnCall, Schedule
from switchboard.fakes.pagers.pagerduty_rest import FakePagerDutyRest, Shift
from switchboard.fakes.slack.server import FakeSlack
from switchboard.storage.facts_store import FactsStore
from tests.facts.conftest import START, Clock, client

SERVICE = "component:default/payments"
TOKEN = "xoxb-test-token"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def slack_client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.base_url)


@pytest.fixture
async def pagerduty(clock: Clock) -> AsyncIterator[FakePagerDutyRest]:
    async with FakePagerDutyRest() as fake:
        noon, six, tomorrow = START, START + timedelta(hours=6), START + timedelta(days=1)
        fake.shifts = [
            Shift(
                "PALICE",
                "Alice",
                "alice@acme.test",
                "PPOLICY",
                1,
                noon - timedelta(hours=2),
                six,
                "PSCHED",
            ),
            Shift("PBOB", "Bob", "bob@acme.test", "PPOLICY", 1, six, tomorrow, "PSCHED"),
            Shift("PCAROL", "Carol", "carol@acme.test", "PPOLICY", 2, None, None),
            # the same schedule in a second policy: Alice is listed once, at level 1
            Shift(
                "PALICE",
                "Alice",
                "alice@acme.test",
                "POTHER",
                3,
                noon - timedelta(hours=2),
                six,
                "PSCHED",
            ),
        ]
        fake.services = {"PSERVICE": "PPOLICY"}
        yield fake


def pd(
    http: HttpSession,
    fake: FakePagerDutyRest,
    clock: Clock,
    directory: object = None,
    token: str = "pd-test-token",
) -> PagerDuty:
    return PagerDuty(
        client(http, fake.base_url, PagerDuty.headers(token), clock, name="PagerDuty"),
        directory or NoDirectory(),  # type: ignore[arg-type]
        clock.epoch,
    )


async def oncall(store: FactsStore, key: str = "oncall.now") -> object:
    fact = await store.fact(SERVICE, key)
    assert fact is not None, f"no {key}"
    return fact.value


async def test_pagerduty_schedule_now_and_next_with_slack_ids(
    store: FactsStore,
    pagerduty: FakePagerDutyRest,
    slack: FakeSlack,
    http: HttpSession,
    clock: Clock,
) -> None:
    alice = slack.add_user("alice", email="Alice@acme.test")
    directory = SlackDirectory(slack_client(slack), clock.epoch)
    target = Target("pagerduty", SERVICE, "schedule", "PSCHED")
    await RefreshEngine(store, clock, "one").refresh(
        pd(http, pagerduty, clock, directory), [target]
    )
    assert await oncall(store) == [
        {
            "user_id": alice,
            "email": "alice@acme.test",
            "name": "Alice",
            "level": 1,
            "start": "2026-12-04T10:00:00Z",
            "end": "2026-12-04T18:00:00Z",
        },
    ]
    assert await oncall(store, "oncall.next") == [
        {
            "user_id": "",
            "email": "bob@acme.test",
            "name": "Bob",
            "level": 1,
            "start": "2026-12-04T18:00:00Z",
            "end": "2026-12-05T12:00:00Z",
        },
    ]
    query = next(s.query for s in pagerduty.seen if s.path == "/oncalls")
    assert "include[]=users" in query and "schedule_ids[]=PSCHED" in query


async def test_pagerduty_service_reads_every_level_of_its_policy(
    store: FactsStore, pagerduty: FakePagerDutyRest, http: HttpSession, clock: Clock
) -> None:
    target = Target("pagerduty", SERVICE, "service", "PSERVICE")
    await RefreshEngine(store, clock, "one").refresh(pd(http, pagerduty, clock), [target])
    now = await oncall(store)
    assert isinstance(now, list)
    assert [(p["name"], p["level"], p["end"]) for p in now] == [
        ("Alice", 1, "2026-12-04T18:00:00Z"),
        ("Carol", 2, ""),  # always on call: no end
    ]


async def test_pagerduty_wrong_token_keeps_the_last_known_on_call(
    store: FactsStore, pagerduty: FakePagerDutyRest, http: HttpSession, clock: Clock
) -> None:
    target = Target("pagerduty", SERVICE, "schedule", "PSCHED")
    engine = RefreshEngine(store, clock, "one")
    await engine.refresh(pd(http, pagerduty, clock), [target])
    clock.advance(minutes=12)
    report = await engine.refresh(pd(http, pagerduty, clock, token="wrong"), [target])
    assert report.stopped == "PagerDuty refused PAGERDUTY_API_TOKEN (401 Authentication failed)"
    fact = await store.fact(SERVICE, "oncall.now")
    assert fact is not None
    shown = view(fact, clock.now)
    assert shown.value[0]["name"] == "Alice" and shown.stale and shown.age_text == "12 min ago"


async def test_pagerduty_unknown_schedule_and_rate_limit(
    store: FactsStore, pagerduty: FakePagerDutyRest, http: HttpSession, clock: Clock
) -> None:
    engine = RefreshEngine(store, clock, "one")
    source = pd(http, pagerduty, clock)
    report = await engine.refresh(source, [Target("pagerduty", SERVICE, "service", "PNOPE")])
    assert report.errors == [f"{SERVICE}: PagerDuty knows no service PNOPE (404)"]
    pagerduty.fail("/oncalls", status=429, headers={"Retry-After": "30"})
    report = await engine.refresh(source, [Target("pagerduty", SERVICE, "schedule", "PSCHED")])
    assert report.stopped == "PagerDuty rate limit reached (429); retry in 30 s"


async def test_pagerduty_malformed_answers_change_nothing(
    store: FactsStore, pagerduty: FakePagerDutyRest, http: HttpSession, clock: Clock
) -> None:
    pagerduty.fail("/oncalls", body='{"oncalls": [{"user": "alice", "escalation_level": "1"}]}')
    target = Target("pagerduty", SERVICE, "schedule", "PSCHED")
    report = await RefreshEngine(store, clock, "one").refresh(pd(http, pagerduty, clock), [target])
    assert report.errors == [
        f"{SERVICE}: PagerDuty answered the on-calls of PSCHED in an unexpected shape"
    ]
    assert await store.facts(SERVICE) == []


async def test_pagerduty_paces_under_its_rate(
    store: FactsStore, pagerduty: FakePagerDutyRest, http: HttpSession, clock: Clock
) -> None:
    source = PagerDuty(
        client(
            http,
            pagerduty.base_url,
            PagerDuty.headers("pd-test-token"),
            clock,
            name="PagerDuty",
            per_second=2,
        ),
        NoDirectory(),
        clock.epoch,
    )
    targets = [
        Target("pagerduty", f"component:default/s{n}", "schedule", "PSCHED") for n in range(3)
    ]
    await RefreshEngine(store, clock, "one").refresh(source, targets)
    assert sum(clock.slept) == pytest.approx(2.5)  # 6 requests at 2 a second


@pytest.fixture
async def opsgenie() -> AsyncIterator[FakeOpsgenieOnCall]:
    async with FakeOpsgenieOnCall() as fake:
        fake.schedules = [
            Schedule(
                "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
                "payments_schedule",
                ["alice@acme.test"],
                ["bob@acme.test"],
            )
        ]
        yield fake


def og(
    http: HttpSession, fake: FakeOpsgenieOnCall, clock: Clock, key: str = "og-test-key"
) -> Opsgenie:
    return Opsgenie(
        client(http, fake.base_url, Opsgenie.headers(key), clock, name="Opsgenie"),
        NoDirectory(),
        clock.epoch,
    )


@pytest.mark.parametrize(
    ("kind", "ident"),
    [
        ("schedule", "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"),
        ("schedule", "payments_schedule"),
        ("team", "payments"),
    ],
)
async def test_opsgenie_now_and_next(
    store: FactsStore,
    opsgenie: FakeOpsgenieOnCall,
    http: HttpSession,
    clock: Clock,
    kind: str,
    ident: str,
) -> None:
    target = Target("opsgenie", SERVICE, kind, ident)
    await RefreshEngine(store, clock, "one").refresh(og(http, opsgenie, clock), [target])
    now, upcoming = await oncall(store), await oncall(store, "oncall.next")
    assert isinstance(now, list) and isinstance(upcoming, list)
    assert [p["email"] for p in now] == ["alice@acme.test"]
    assert [p["email"] for p in upcoming] == ["bob@acme.test"]


async def test_opsgenie_errors(
    store: FactsStore, opsgenie: FakeOpsgenieOnCall, http: HttpSession, clock: Clock
) -> None:
    engine = RefreshEngine(store, clock, "one")
    report = await engine.refresh(
        og(http, opsgenie, clock), [Target("opsgenie", SERVICE, "schedule", "nope")]
    )
    assert report.errors == [f"{SERVICE}: Opsgenie: No schedule exists with name [nope] (404)"]
    report = await engine.refresh(
        og(http, opsgenie, clock, key="bad"), [Target("opsgenie", SERVICE, "team", "payments")]
    )
    assert report.stopped == "Opsgenie refused OPSGENIE_API_KEY (401 Could not authenticate)"


async def test_slack_user_group_members_are_on_call(
    store: FactsStore, slack: FakeSlack, clock: Clock
) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    slack.add_usergroup("payments-oncall", [alice, bob])
    source = SlackGroups(slack_client(slack), clock.epoch, timeout=5)
    engine = RefreshEngine(store, clock, "one")
    await engine.refresh(source, [Target("slack", SERVICE, "usergroup", "@payments-oncall")])
    now = await oncall(store)
    assert isinstance(now, list) and [p["user_id"] for p in now] == [alice, bob]
    report = await engine.refresh(
        source, [Target("slack", "component:default/x", "usergroup", "@nobody")]
    )
    assert report.errors == ["component:default/x: Slack knows no user group @nobody"]


async def test_a_cold_miss_is_one_fetch_stored_at_once(
    store: FactsStore, pagerduty: FakePagerDutyRest, http: HttpSession, clock: Clock
) -> None:
    engine = RefreshEngine(store, clock, "one")
    target = Target("pagerduty", SERVICE, "schedule", "PSCHED")
    got = await engine.fetch_one(pd(http, pagerduty, clock), target)
    assert [o.key for o in got] == ["oncall.now", "oncall.next"]
    now = await oncall(store)
    assert isinstance(now, list) and now[0]["name"] == "Alice"

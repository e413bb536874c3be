"""The refresh engine over a real database: two refreshers (two engines, two database
connections pools, as two replicas) fetch each thing once; a failing source backs off
exponentially and keeps every value, marked with the error and its age."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from switchboard.bot.facts.engine import Backoff, RefreshEngine
from switchboard.bot.facts.freshness import age_text, ttl_for, views
from switchboard.bot.facts.github import GitHub
from switchboard.bot.facts.source import Target
from switchboard.bot.platform.outside_calls import HttpSession
from switchboard.fakes.github.server import FakeGitHub, Repo
from switchboard.storage import db
from switchboard.storage.facts_store import FactsStore
from tests.facts.conftest import Clock, client

TARGETS = [
    Target("github", f"component:default/s{n}", "repository", f"acme/s{n}") for n in range(20)
]


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(clock=clock.epoch) as github:
        for target in TARGETS:
            github.add(Repo(target.id))
        yield github


def source(http: HttpSession, fake: FakeGitHub, clock: Clock) -> GitHub:
    return GitHub(
        client(http, fake.base_url, GitHub.headers("ghp_test"), clock, name="GitHub"), clock.epoch
    )


@pytest.fixture
async def second_store(database_url: str, store: FactsStore) -> AsyncIterator[FactsStore]:
    engine = db.create_engine(database_url)  # its own pool: another process, as far as it knows
    yield FactsStore(db.session_factory(engine))
    await engine.dispose()


async def test_two_refreshers_on_one_database_fetch_once(
    store: FactsStore, second_store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    one = RefreshEngine(store, clock, "replica-1")
    two = RefreshEngine(second_store, clock, "replica-2")
    reports = await asyncio.gather(
        one.refresh(source(http, fake, clock), TARGETS),
        two.refresh(source(http, fake, clock), TARGETS),
    )
    assert sorted(r.fetched for r in reports) == [0, 20]
    assert [s.path for s in fake.seen].count("/repos/acme/s0") == 1
    # and once the lease is free again, the other finds everything fresh: nothing to fetch
    again = await two.refresh(source(http, fake, clock), TARGETS)
    assert again.due == 0 and not again.skipped
    assert [s.path for s in fake.seen].count("/repos/acme/s0") == 1


async def test_a_lease_left_by_a_dead_refresher_is_taken_when_it_expires(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    assert await store.take_lease("github", "dead", clock.now, clock.now + ttl_for("git.x") / 72)
    engine = RefreshEngine(store, clock, "alive")
    assert (
        await engine.refresh(source(http, fake, clock), TARGETS)
    ).skipped == "lease held elsewhere"
    clock.advance(minutes=6)
    assert (await engine.refresh(source(http, fake, clock), TARGETS)).fetched == 20


async def test_failures_back_off_exponentially_and_keep_the_values(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    engine = RefreshEngine(store, clock, "one", backoff=Backoff())
    await engine.refresh(source(http, fake, clock), TARGETS)
    before = {f.key: f.value for f in await store.facts("component:default/s3")}
    clock.advance(hours=7)
    fake.fail("/repos", status=502, times=100)
    waits = []
    for _ in range(4):
        report = await engine.refresh(source(http, fake, clock), TARGETS)
        assert report.stopped.startswith("GitHub failed (502) for repository acme/s")
        state = await store.state("github")
        assert state is not None and state.retry_at is not None
        waits.append((state.retry_at - clock.now).total_seconds())
        clock.now = state.retry_at
    assert waits == [30, 60, 120, 240]
    shown = views(await store.facts("component:default/s3"), clock.now)
    assert {v.key: v.value for v in shown} == before  # nothing blanked
    assert all(v.stale and v.error.startswith("GitHub failed (502)") for v in shown)
    assert shown[0].age_text == "7 h ago"
    fake.heal()
    report = await engine.refresh(source(http, fake, clock), TARGETS)
    assert report.fetched == 20
    state = await store.state("github")
    assert state is not None and state.failures == 0 and state.last_success == clock.now
    assert not any(v.stale for v in views(await store.facts("component:default/s3"), clock.now))


def test_ttls_and_ages() -> None:
    assert ttl_for("oncall.now").total_seconds() == 300
    assert ttl_for("git.file:README.md").total_seconds() == 6 * 3600
    assert ttl_for("custom.test.coverage").days == 30
    assert age_text(ttl_for("oncall.now")) == "5 min ago"

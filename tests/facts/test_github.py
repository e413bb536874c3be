"""The GitHub adapter against the GitHub fake over loopback HTTP, through the refresh engine
and the store: what a reader of the facts sees after each kind of answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.bot.facts.engine import RefreshEngine
from switchboard.bot.facts.freshness import view
from switchboard.bot.facts.github import GitHub
from switchboard.bot.facts.source import Target
from switchboard.bot.platform.outside_calls import HttpSession
from switchboard.fakes.github.server import Deployment, FakeGitHub, Repo
from switchboard.storage.facts_store import FactsStore
from tests.facts.conftest import Clock, client

SERVICE = "component:default/payments"
TARGET = Target(
    "github", SERVICE, "repository", "acme/payments", ("README.md", "CODEOWNERS", "docs/")
)


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(clock=clock.epoch) as github:
        github.add(
            Repo(
                "acme/payments",
                files={"README.md", "docs/index.md", ".github/CODEOWNERS"},
                open_pulls=7,
                alerts=["critical", "high", "high", "low"],
                releases=[("v1.4.0", "2026-11-20T10:00:00Z")],
                deployments=[
                    Deployment(
                        12,
                        "production",
                        "abc123",
                        "2026-12-01T09:00:00Z",
                        ["in_progress", "success"],
                    ),
                    Deployment(11, "staging", "abc123", "2026-11-30T09:00:00Z", ["failure"]),
                ],
            )
        )
        yield github


def github(
    http: HttpSession, fake: FakeGitHub, clock: Clock, token: str = "ghp_test", **kw: float
) -> GitHub:
    return GitHub(
        client(http, fake.base_url, GitHub.headers(token), clock, name="GitHub", **kw), clock.epoch
    )


async def facts(store: FactsStore, clock: Clock) -> dict[str, object]:
    return {f.key: f.value for f in await store.facts(SERVICE)}


async def test_a_repository_gives_every_git_fact(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    engine = RefreshEngine(store, clock, "one")
    report = await engine.refresh(github(http, fake, clock), [TARGET])
    assert report.fetched == 1 and not report.errors and not report.stopped
    assert await facts(store, clock) == {
        "git.repository": {
            "full_name": "acme/payments",
            "default_branch": "main",
            "pushed_at": "2026-11-30T12:00:00Z",
            "archived": False,
        },
        "git.last_push": "2026-11-30T12:00:00Z",
        "git.file:README.md": True,
        "git.file:CODEOWNERS": False,  # it is .github/CODEOWNERS: the path asked is exact
        "git.file:docs/": True,
        "git.pull_requests.open": 7,
        "git.vulnerabilities": {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 0, "LOW": 1},
        "git.latest_release": {"tag": "v1.4.0", "published_at": "2026-11-20T10:00:00Z"},
        "git.deployments": [
            {
                "environment": "production",
                "sha": "abc123",
                "state": "success",
                "created_at": "2026-12-01T09:00:00Z",
            },
            {
                "environment": "staging",
                "sha": "abc123",
                "state": "failure",
                "created_at": "2026-11-30T09:00:00Z",
            },
        ],
    }


async def test_a_repository_without_release_or_files(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    fake.add(Repo("acme/empty", files=set()))
    target = Target("github", SERVICE, "repository", "acme/empty", ("README.md",))
    await RefreshEngine(store, clock, "one").refresh(github(http, fake, clock), [target])
    got = await facts(store, clock)
    assert got["git.latest_release"] is None
    assert got["git.file:README.md"] is False
    assert got["git.deployments"] == []


async def test_unchanged_repository_costs_no_budget_the_second_time(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    source = github(http, fake, clock)
    engine = RefreshEngine(store, clock, "one")
    await engine.refresh(source, [TARGET])
    first = fake.spent
    clock.advance(hours=7)  # past the TTL
    report = await engine.refresh(source, [TARGET])
    assert report.fetched == 1 and report.changed == 0
    assert fake.spent == first  # every answer was a 304
    fact = await store.fact(SERVICE, "git.pull_requests.open")
    assert fact is not None and fact.fetched_at == clock.now  # and the facts are fresh again


async def test_a_changed_value_is_kept_as_history(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    source = github(http, fake, clock)
    engine = RefreshEngine(store, clock, "one")
    await engine.refresh(source, [TARGET])
    fake.repos["acme/payments"].open_pulls = 3
    clock.advance(hours=7)
    report = await engine.refresh(source, [TARGET])
    assert report.changed == 1
    assert [v for v, _ in await store.history(SERVICE, "git.pull_requests.open")] == [7, 3]


async def test_within_the_ttl_nothing_is_fetched(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    source = github(http, fake, clock)
    engine = RefreshEngine(store, clock, "one")
    await engine.refresh(source, [TARGET])
    seen = len(fake.seen)
    clock.advance(hours=1)
    assert (await engine.refresh(source, [TARGET])).due == 0
    assert len(fake.seen) == seen


async def test_a_wrong_token_says_so_and_clears_nothing(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    engine = RefreshEngine(store, clock, "one")
    await engine.refresh(github(http, fake, clock), [TARGET])
    clock.advance(hours=7)
    report = await engine.refresh(github(http, fake, clock, token="ghp_wrong"), [TARGET])
    assert "GitHub refused GITHUB_TOKEN (401 Bad credentials)" in report.stopped
    fact = await store.fact(SERVICE, "git.pull_requests.open")
    assert fact is not None and fact.value == 7  # kept
    seen = view(fact, clock.now)
    assert seen.stale and seen.age_text == "7 h ago" and "Bad credentials" in seen.error
    state = await store.state("github")
    assert state is not None and "401" in state.last_error and state.facts == 9
    # the token fixed: once the backoff is over, the failed facts are fetched again at once
    clock.advance(minutes=1)
    report = await engine.refresh(github(http, fake, clock), [TARGET])
    assert report.fetched == 1
    fact = await store.fact(SERVICE, "git.pull_requests.open")
    assert fact is not None and not view(fact, clock.now).stale


async def test_forbidden_is_a_clear_error(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    fake.fail("/repos/acme/payments", status=403)
    report = await RefreshEngine(store, clock, "one").refresh(github(http, fake, clock), [TARGET])
    assert "GitHub refused the credentials (403)" in report.stopped
    assert await store.facts(SERVICE) == []


async def test_an_unknown_repository_is_an_error_of_that_entity_only(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    other = Target("github", "component:default/ghost", "repository", "acme/ghost")
    report = await RefreshEngine(store, clock, "one").refresh(
        github(http, fake, clock), [other, TARGET]
    )
    assert report.errors == ["component:default/ghost: GitHub knows no repository acme/ghost (404)"]
    assert report.fetched == 1 and not report.stopped


@pytest.mark.parametrize("status", [403, 429])
async def test_the_secondary_limit_stops_the_source_for_retry_after(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock, status: int
) -> None:
    fake.fail(
        "/repos/acme/payments/pulls",
        status=status,
        body='{"message": "You have exceeded a secondary rate limit.", "documentation_url": "x"}',
        headers={"Retry-After": "120"},
    )
    engine = RefreshEngine(store, clock, "one")
    source = github(http, fake, clock)
    report = await engine.refresh(source, [TARGET])
    assert report.stopped == "GitHub secondary rate limit reached; retry in 120 s"
    clock.advance(seconds=60)
    assert (await engine.refresh(source, [TARGET])).skipped.startswith("backing off until")
    clock.advance(seconds=61)
    assert (await engine.refresh(source, [TARGET])).fetched == 1


async def test_a_spent_budget_waits_for_the_reset_instead_of_being_refused(
    store: FactsStore, http: HttpSession, clock: Clock
) -> None:
    async with FakeGitHub(limit=10, window=60, clock=clock.epoch) as fake:
        targets = []
        for n in range(3):
            fake.add(Repo(f"acme/r{n}"))
            targets.append(Target("github", f"component:default/r{n}", "repository", f"acme/r{n}"))
        source = github(http, fake, clock)
        source.concurrency = 1
        report = await RefreshEngine(store, clock, "one").refresh(source, targets)
        assert report.fetched == 3 and not report.stopped
        assert not [s for s in fake.seen if s.status == 403]  # never refused
        assert clock.slept and fake.spent == 18  # 6 requests a repository, 10 per window


async def test_the_primary_limit_when_overrun_elsewhere(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    reset = int(clock.epoch()) + 600
    fake.fail(
        "/repos/acme/payments",
        status=403,
        body='{"message": "API rate limit exceeded for user ID 1.", "documentation_url": "x"}',
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    report = await RefreshEngine(store, clock, "one").refresh(github(http, fake, clock), [TARGET])
    assert report.stopped == "GitHub API rate limit exceeded; it resets in 600 s"
    state = await store.state("github")
    assert state is not None and state.retry_at is not None
    assert (state.retry_at - clock.now).total_seconds() == 600


async def test_malformed_json_changes_nothing(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    engine = RefreshEngine(store, clock, "one")
    source = github(http, fake, clock)
    await engine.refresh(source, [TARGET])
    before = await facts(store, clock)
    clock.advance(hours=7)
    fake.fail("/repos/acme/payments/pulls", body="{not json")
    report = await engine.refresh(source, [TARGET], force=True)
    assert report.errors == [
        f"{SERVICE}: GitHub answered /repos/acme/payments/pulls with something that is not JSON"
    ]
    assert await facts(store, clock) == before


async def test_wrong_types_are_refused(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    fake.fail("/repos/acme/payments", body='{"full_name": 5, "default_branch": []}')
    report = await RefreshEngine(store, clock, "one").refresh(github(http, fake, clock), [TARGET])
    assert report.errors == [
        f"{SERVICE}: GitHub answered repository acme/payments in an unexpected shape"
    ]
    assert await store.facts(SERVICE) == []


async def test_a_huge_body_is_refused_unread(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    fake.fail("/repos/acme/payments", body='{"x": "' + "a" * 2_000_000 + '"}')
    report = await RefreshEngine(store, clock, "one").refresh(github(http, fake, clock), [TARGET])
    assert "answered more than 1048576 bytes" in report.errors[0]


async def test_a_timeout_is_named(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    fake.fail("/repos/acme/payments", delay=2.0)
    report = await RefreshEngine(store, clock, "one").refresh(
        github(http, fake, clock, timeout=0.2), [TARGET]
    )
    assert report.errors == [f"{SERVICE}: GitHub did not answer within 0.2 s"]


async def test_many_pull_requests_are_counted_from_the_last_page(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    fake.repos["acme/payments"].open_pulls = 234
    await RefreshEngine(store, clock, "one").refresh(github(http, fake, clock), [TARGET])
    assert (await facts(store, clock))["git.pull_requests.open"] == 234


async def test_a_budget_spent_elsewhere_that_resets_soon_is_waited_for(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    reset = int(clock.epoch()) + 30
    fake.fail(
        "/repos/acme/payments",
        status=403,
        body='{"message": "API rate limit exceeded for user ID 1.", "documentation_url": "x"}',
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    report = await RefreshEngine(store, clock, "one").refresh(github(http, fake, clock), [TARGET])
    assert report.fetched == 1 and not report.stopped
    assert clock.slept and clock.epoch() >= reset


async def test_facts_marked_by_a_failure_are_fetched_again_within_their_ttl(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    engine = RefreshEngine(store, clock, "one")
    await engine.refresh(github(http, fake, clock), [TARGET])
    clock.advance(hours=1)  # fresh still
    fake.fail("/repos/acme/payments", status=401)
    await engine.refresh(github(http, fake, clock), [TARGET], force=True)
    clock.advance(minutes=1)  # past the backoff, not past the TTL
    assert (await engine.refresh(github(http, fake, clock), [TARGET])).fetched == 1
    fact = await store.fact(SERVICE, "git.repository")
    assert fact is not None and not fact.error

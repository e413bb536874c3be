"""GitHub's code search through the refresh engine, against the GitHub fake and its own
10-a-minute limit: the budget holds (no search beyond it), the searches it had no room for
are asked in a later round, and a count that cannot be renewed ages and goes stale with its
value kept, never blanked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.bot.facts.engine import RefreshEngine
from switchboard.bot.facts.freshness import view
from switchboard.bot.facts.github import GitHub
from switchboard.bot.facts.source import Target
from switchboard.bot.platform.outside_calls import HttpSession
from switchboard.fakes.github.server import FakeGitHub, Repo
from switchboard.storage.facts_store import FactsStore
from tests.facts.conftest import Clock, client

KEY = "git.code_search:TODO"


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeGitHub]:
    # GitHub would allow more here: the bot's own budget is what the first test proves
    async with FakeGitHub(clock=clock.epoch, search_limit=30) as github:
        for n in range(12):
            github.add(
                Repo(
                    f"acme/svc{n}",
                    files={"README.md", "src/main.py", "src/todo_list.py"},
                    contents={"src/main.py": "# TODO: retry\nprint('hi')\n"},
                )
            )
        yield github


def target(n: int) -> Target:
    return Target(
        "github", f"component:default/svc{n}", "repository", f"acme/svc{n}", (), ("TODO",)
    )


def github(http: HttpSession, fake: FakeGitHub, clock: Clock) -> GitHub:
    headers = GitHub.headers("ghp_test")
    return GitHub(
        client(http, fake.base_url, headers, clock, name="GitHub"),
        clock.epoch,
        search=client(http, fake.base_url, headers, clock, name="GitHub"),
    )


async def counts(store: FactsStore) -> dict[str, object]:
    found = {}
    for n in range(12):
        for fact in await store.facts(f"component:default/svc{n}"):
            if fact.key == KEY:
                found[f"svc{n}"] = fact.value
    return found


async def test_a_round_searches_no_more_than_the_budget_and_the_rest_wait_their_turn(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    source = github(http, fake, clock)
    engine = RefreshEngine(store, clock, "one")
    report = await engine.refresh(source, [target(n) for n in range(12)])
    assert report.fetched == 12 and not report.stopped
    assert fake.searches == 10 and fake.search_refused == 0
    first = await counts(store)
    assert len(first) == 10 and set(first.values()) == {2}  # src/main.py and src/todo_list.py
    # the searches do not count against (or speak for) the primary budget
    budget = source.budget()
    assert budget is not None and budget.remaining > 4900

    clock.advance(seconds=61)  # a new minute: the two left out are searched, no one twice
    await engine.refresh(source, [target(n) for n in range(12)], force=True)
    assert fake.searches == 12 and fake.search_refused == 0
    assert len(await counts(store)) == 12


async def test_a_count_github_will_not_renew_ages_and_goes_stale_but_keeps_its_value(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    source = github(http, fake, clock)
    engine = RefreshEngine(store, clock, "one")
    await engine.refresh(source, [target(0)])
    assert (await counts(store)) == {"svc0": 2}

    clock.advance(hours=25)
    fake.repos["acme/svc0"].contents["src/todo_old.py"] = "TODO"  # would count 3
    fake.search_limit = 0  # GitHub's code-search budget spent elsewhere: 429, Retry-After
    report = await engine.refresh(source, [target(0)])
    assert report.fetched == 1 and not report.stopped  # the other facts are renewed
    assert fake.search_refused == 1
    await engine.refresh(source, [target(0)], force=True)
    assert fake.search_refused == 1  # told to wait: not asked again meanwhile

    (fact,) = [f for f in await store.facts("component:default/svc0") if f.key == KEY]
    seen = view(fact, clock())
    assert seen.value == 2 and seen.stale and seen.age_text == "25 h ago"
    readme = [f for f in await store.facts("component:default/svc0") if f.key == "git.repository"]
    assert not view(readme[0], clock()).stale


async def test_a_search_that_fails_leaves_the_other_facts_and_the_source_running(
    store: FactsStore, fake: FakeGitHub, http: HttpSession, clock: Clock
) -> None:
    headers = GitHub.headers("ghp_test")
    unreachable = "http://127.0.0.1:9"  # discard: nothing answers there
    source = GitHub(
        client(http, fake.base_url, headers, clock, name="GitHub"),
        clock.epoch,
        search=client(http, unreachable, headers, clock, name="GitHub"),
    )
    report = await RefreshEngine(store, clock, "one").refresh(source, [target(0), target(1)])
    assert report.fetched == 2 and not report.stopped and not report.errors
    assert await counts(store) == {}
    keys = {f.key for f in await store.facts("component:default/svc0")}
    assert "git.repository" in keys

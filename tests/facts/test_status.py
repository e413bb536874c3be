"""`integrations status`: each source configured or not, its last success and error, the
facts it holds and the budget left, as a person reads it."""

from __future__ import annotations

from pydantic import SecretStr

from switchboard.bot.facts.engine import RefreshEngine
from switchboard.bot.facts.settings import FactsSettings
from switchboard.bot.facts.source import Target
from switchboard.bot.facts.wiring import build_sources, status
from switchboard.bot.platform.outside_calls import HttpSession
from switchboard.fakes.github.server import FakeGitHub, Repo
from switchboard.storage.facts_store import FactsStore
from tests.facts.conftest import Clock


async def test_status_lines(store: FactsStore, http: HttpSession, clock: Clock) -> None:
    async with FakeGitHub(token="ghp_status_token") as fake:
        fake.add(Repo("acme/payments"))
        settings = FactsSettings(
            github_token=SecretStr("ghp_status_token"), github_api_url=fake.base_url
        )
        sources = build_sources(settings, http, timeout=5.0)
        assert sorted(sources) == ["github"]
        target = Target("github", "component:default/payments", "repository", "acme/payments")
        await RefreshEngine(store, clock, "one").refresh(sources["github"], [target])
        clock.advance(minutes=3)
        lines = [s.line(clock.now) for s in await status(store, sources)]
    assert lines[:3] == [
        "pagerduty: not configured",
        "opsgenie: not configured",
        "slack: not configured",
    ]
    assert lines[3].startswith(
        "github: last success 3 min ago; 9 facts; 4,994 requests left until "
    )
    assert lines[4] == "sonarqube: not configured"

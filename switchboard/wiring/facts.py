"""Live facts: the configured sources (PagerDuty, Opsgenie, Slack's user groups, GitHub,
SonarQube), a refresh job per source, the push routes (`/api/facts`, `/api/deploys`),
and the on-call `/owner` shows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from switchboard.bot.facts.api import LABELS, LiveFacts, build_sources, summary
from switchboard.bot.facts.targets import github_host
from switchboard.bot.platform.jobs import Job, Run, every
from switchboard.handlers import facts_push
from switchboard.wiring.catalog import CatalogFeature
from switchboard.wiring.core import Core, Feature, utcnow


@dataclass
class FactsFeature(Feature):
    core: Core
    catalog: CatalogFeature
    live: LiveFacts
    # Told of each deploy CI reports, once stored (the incidents' timeline).
    deployed: list[facts_push.Deployed] = field(default_factory=list)

    def routes(self) -> list[web.RouteDef]:
        tokens = self.core.settings.facts().tokens()
        return facts_push.routes(
            tokens, self.catalog.resolve, self.live.store, utcnow, deployed=self.deployed
        )

    async def health(self) -> dict[str, Any]:
        """`/healthz`'s detail: how each source stands (never failing health)."""
        return {"sources": {s.source: s.as_json() for s in await self.live.status()}}

    def jobs(self) -> list[Job]:
        def refresh(name: str) -> Callable[[Run], Awaitable[str]]:
            async def run(run: Run) -> str:
                return summary(await self.live.refresh(name, force=run.manual))

            return run

        return [
            Job(
                f"facts-{name}",
                f"refresh {LABELS.get(name, name)} past their TTL (one replica at a time)",
                every(self.core.config.tz, minutes=1),
                refresh(name),
            )
            for name in self.live.sources
        ]


def wire_facts(core: Core, catalog: CatalogFeature) -> FactsFeature:
    """The sources whose credentials are set (Slack's user groups with a bot token), over
    the stored facts; `/owner` is given the on-call they know."""
    settings = core.settings.facts()
    slack = core.client if core.settings.bot_token else None
    sources = build_sources(settings, core.http, timeout=core.limits.timeout, slack=slack)
    live = LiveFacts(
        core.sessions,
        sources,
        core.clock,
        github_host=settings.github_host or github_host(settings.github_api_url),
    )

    async def live_oncall(refs: Sequence[str]) -> str:
        return await live.oncall_line(refs, core.config.tz)

    catalog.reader.live_oncall = live_oncall
    catalog.reader.live_oncall_users = live.oncall_users
    return FactsFeature(core, catalog, live)

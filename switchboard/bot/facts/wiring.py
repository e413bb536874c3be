"""Build the configured sources from `FactsSettings`, and say how each stands (what
`switchboard integrations status` prints and `/healthz` adds as detail, without failing).
The composition root calls these; nothing here runs at import."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from switchboard.bot.facts import opsgenie, pagerduty, sonarqube
from switchboard.bot.facts.freshness import age_text
from switchboard.bot.facts.github import GitHub
from switchboard.bot.facts.http import JsonClient, Pacer
from switchboard.bot.facts.opsgenie import Opsgenie
from switchboard.bot.facts.pagerduty import PagerDuty
from switchboard.bot.facts.people import Directory, NoDirectory, SlackDirectory
from switchboard.bot.facts.settings import FactsSettings
from switchboard.bot.facts.slack_groups import SlackGroups
from switchboard.bot.facts.sonarqube import SonarQube
from switchboard.bot.facts.source import Source
from switchboard.bot.platform.outside_calls import SessionFactory
from switchboard.storage.facts_store import FactsStore

SOURCES = ("pagerduty", "opsgenie", "slack", "github", "sonarqube")


def build_sources(
    settings: FactsSettings,
    session: SessionFactory,
    *,
    timeout: float,
    slack: AsyncWebClient | None = None,
) -> dict[str, Source]:
    """Every source whose credentials are set, by name; Slack's user groups when the bot
    has a Slack client (people are then matched to Slack by e-mail too)."""

    def client(url: str, headers: dict[str, str], name: str, rate: float | None) -> JsonClient:
        pacer = Pacer(time.time, asyncio.sleep, rate)
        return JsonClient(session, url, headers, timeout=timeout, pacer=pacer, name=name)

    directory: Directory = SlackDirectory(slack, time.time) if slack else NoDirectory()
    sources: dict[str, Source] = {}
    if settings.pagerduty_api_token is not None:
        token = settings.pagerduty_api_token.get_secret_value()
        sources["pagerduty"] = PagerDuty(
            client(
                settings.pagerduty_api_url,
                PagerDuty.headers(token),
                "PagerDuty",
                pagerduty.RATE_PER_SECOND,
            ),
            directory,
            time.time,
        )
    if settings.opsgenie_api_key is not None:
        key = settings.opsgenie_api_key.get_secret_value()
        sources["opsgenie"] = Opsgenie(
            client(
                settings.opsgenie_api_url,
                Opsgenie.headers(key),
                "Opsgenie",
                opsgenie.RATE_PER_SECOND,
            ),
            directory,
            time.time,
        )
    if slack is not None:
        sources["slack"] = SlackGroups(slack, time.time, timeout)
    if settings.github_token is not None:
        token = settings.github_token.get_secret_value()
        sources["github"] = GitHub(
            client(settings.github_api_url, GitHub.headers(token), "GitHub", None),
            time.time,
            search=client(settings.github_api_url, GitHub.headers(token), "GitHub", None),
        )
    if settings.sonarqube_url and settings.sonarqube_token is not None:
        token = settings.sonarqube_token.get_secret_value()
        sources["sonarqube"] = SonarQube(
            client(
                settings.sonarqube_url,
                SonarQube.headers(token),
                "SonarQube",
                sonarqube.RATE_PER_SECOND,
            ),
            time.time,
        )
    return sources


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: str
    configured: bool
    last_success: datetime | None
    last_error: str
    facts: int
    budget: str  # "4,321 left until 12:00 UTC", "" when the source has no window

    def as_json(self) -> dict[str, Any]:
        return {
            "configured": self.configured,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "last_error": self.last_error or None,
            "facts": self.facts,
            "budget": self.budget or None,
        }

    def line(self, now: datetime) -> str:
        if not self.configured:
            return f"{self.source}: not configured"
        success = (
            f"last success {age_text(now - self.last_success)}"
            if self.last_success
            else "never refreshed"
        )
        parts = [success, f"{self.facts} facts"]
        if self.last_error:
            parts.append(f"last error: {self.last_error}")
        if self.budget:
            parts.append(self.budget)
        return f"{self.source}: " + "; ".join(parts)


async def status(store: FactsStore, sources: dict[str, Source]) -> list[SourceStatus]:
    """How every known source stands, configured or not. A failing source shows its last
    error here; its facts keep their values."""
    result = []
    for name in SOURCES:
        state = await store.state(name)
        source = sources.get(name)
        budget = source.budget() if source is not None else None
        # This process's own count, else what the last refresh (maybe another replica's) saw
        remaining = budget.remaining if budget else (state.budget_remaining if state else None)
        reset = budget.reset_at if budget else (state.budget_reset if state else None)
        budget_text = (
            f"{remaining:,} requests left until {reset:%H:%M:%S} UTC"
            if remaining is not None and reset is not None
            else ""
        )
        result.append(
            SourceStatus(
                name,
                source is not None,
                state.last_success if state else None,
                state.last_error
                if state
                and state.last_error_at
                and (not state.last_success or state.last_error_at >= state.last_success)
                else "",
                state.facts if state else 0,
                budget_text,
            )
        )
    return result

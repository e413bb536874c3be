"""`switchboard demo`: the real bot, served over HTTP exactly as `serve` serves it, talking to
the loopback Slack fake, plus the page where people play the workspace's members."""

from __future__ import annotations

import asyncio
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from switchboard.app import Switchboard, build, listen, serving
from switchboard.bot.catalog.loader import parse_paths
from switchboard.bot.catalog.model import Entity
from switchboard.bot.facts.targets import github_repository
from switchboard.bot.platform.config import Config, ScorecardsConfig
from switchboard.bot.platform.jobs import Run
from switchboard.demo.emulator import Emulator, Person, seed
from switchboard.demo.web import build_page
from switchboard.fakes.github.server import FakeGitHub, Repo
from switchboard.fakes.pagers.opsgenie import FakeOpsgenie
from switchboard.fakes.pagers.pagerduty import FakePagerDuty
from switchboard.fakes.pagers.pagerduty_rest import FakePagerDutyRest, Shift
from switchboard.fakes.slack import FakeSlack, SlackRequester, TeamInfo
from switchboard.fakes.sonarqube.server import FakeSonarQube
from switchboard.settings import Settings
from switchboard.storage.db import normalise_url

LOOPBACK = "127.0.0.1"  # the bot and the fake never listen beyond this machine


@dataclass
class Demo:
    url: str  # the page
    bot_url: str  # where the emulator posts Slack's requests
    fake: FakeSlack
    emulator: Emulator
    switchboard: Switchboard
    people: list[Person]
    pagerduty: FakePagerDuty
    opsgenie: FakeOpsgenie


def examples(name: str) -> str:
    """`examples/<name>` of the working directory, else of the source checkout."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (root / "examples" / name).is_dir():
            return str(root / "examples" / name)
    return ""


@asynccontextmanager
async def running(
    settings: Settings, config: Config, host: str = LOOPBACK, port: int = 0
) -> AsyncIterator[Demo]:
    """The whole demo, up until the block ends. Slack settings are made up for the fake:
    a fresh signing secret each run, so only the emulator can talk to this bot. The page's
    port is bound first: a busy one stops the demo before anything starts (`PortBusy`)."""
    team = TeamInfo(team_name="Switchboard demo", domain="switchboard-demo")
    with listen(host, port) as page:
        async with _running(settings, config, team, page) as demo:
            yield demo


@asynccontextmanager
async def _running(
    settings: Settings, config: Config, team: TeamInfo, page: socket.socket
) -> AsyncIterator[Demo]:
    host = page.getsockname()[0]
    async with (
        FakeSlack(team=team) as fake,
        FakePagerDuty() as pagerduty,
        FakeOpsgenie() as opsgenie,
        FakePagerDutyRest(token="pd-demo-" + secrets.token_hex(8)) as pagerduty_rest,
        FakeGitHub(token="ghp_demo" + secrets.token_hex(8)) as github,
        FakeSonarQube(token="squ_demo" + secrets.token_hex(8)) as sonarqube,
    ):
        secret = secrets.token_hex(16)
        settings = settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-demo-" + secrets.token_hex(8)),
                "slack_signing_secret": SecretStr(secret),
                "slack_api_url": fake.base_url,
                "catalog": settings.catalog or examples("catalog"),
                # Pages go to loopback fakes too: a demo never wakes anybody up.
                "pagerduty_events_url": pagerduty.base_url,
                "opsgenie_api_url": opsgenie.base_url,
                "opsgenie_api_key": SecretStr(opsgenie.api_key),
                # Who is on call now, for /owner: PagerDuty's REST API, faked on loopback
                "pagerduty_api_token": SecretStr(pagerduty_rest.token),
                "pagerduty_api_url": pagerduty_rest.base_url,
                # The repositories and code measures scorecards and /owner read
                "github_token": SecretStr(github.token),
                "github_api_url": github.base_url,
                "github_host": "github.com",  # the fake stands in for GitHub itself
                "sonarqube_url": sonarqube.base_url,
                "sonarqube_token": SecretStr(sonarqube.token),
            }
        )
        if not config.scorecards.paths and examples("scorecards"):
            scorecards = ScorecardsConfig(paths=(examples("scorecards"),))
            config = config.model_copy(update={"scorecards": scorecards})
        entities = parse_paths(settings.catalog_paths).entities
        people = seed(fake, entities)
        for key in pagerduty_keys(entities):  # the catalog's PagerDuty services exist here
            pagerduty.add_service(key)
        seed_oncall(pagerduty_rest, entities, datetime.now(UTC))
        seed_code(github, sonarqube, entities)
        switchboard = build(settings, config)
        try:
            async with (
                serving(switchboard, LOOPBACK, 0) as served,
                aiohttp.ClientSession() as session,
            ):
                await refresh_facts(switchboard)
                emulator = Emulator(fake, SlackRequester(served.url, secret, session, fake=fake))
                runner = web.AppRunner(build_page(emulator), access_log=None, shutdown_timeout=0.5)
                await runner.setup()
                await web.SockSite(runner, page).start()
                url = f"http://{host}:{page.getsockname()[1]}/"
                try:
                    yield Demo(
                        url, served.url, fake, emulator, switchboard, people, pagerduty, opsgenie
                    )
                finally:
                    await runner.cleanup()
        finally:
            await switchboard.close()


def seed_oncall(fake: FakePagerDutyRest, entities: Iterable[Entity], now: datetime) -> None:
    """Every PagerDuty service, schedule and escalation policy of the catalog has someone on
    call now (the catalog's people in turn, until the next 18:00 UTC) and someone next."""
    listed = list(entities)
    people = [e for e in listed if e.kind == "user" and e.email]
    if not people:
        return
    handover = now.replace(hour=18, minute=0, second=0, microsecond=0)
    if handover <= now:
        handover += timedelta(days=1)
    targets = [o for e in listed for o in e.oncall if o.provider == "pagerduty" and o.target_id]
    for n, target in enumerate(targets):
        policy = f"PDEMO{n}"
        if target.target_type == "service":
            fake.services[target.target_id] = policy
        elif target.target_type == "escalation_policy":
            policy = target.target_id
        schedule = target.target_id if target.target_type == "schedule" else f"SDEMO{n}"
        now_on, next_on = people[n % len(people)], people[(n + 1) % len(people)]
        for person, start, end in (
            (now_on, now - timedelta(hours=6), handover),
            (next_on, handover, handover + timedelta(days=1)),
        ):
            fake.shifts.append(
                Shift(
                    f"P{person.name.upper()[:8]}",
                    person.display_name,
                    person.email,
                    policy,
                    1,
                    start,
                    end,
                    schedule,
                )
            )


async def refresh_facts(switchboard: Switchboard) -> None:
    """The on-call, repository and code facts at once, rather than at the refresh jobs'
    first minute; then the scorecards over them."""
    for name in ("facts-pagerduty", "facts-github", "facts-sonarqube", "scorecard-evaluation"):
        job = switchboard.jobs.get(name)
        if job is not None:
            await job.run(Run(manual=True))


# What the demo's repositories hold and what SonarQube measured, service by service in
# turn: some pass every rule, some miss files, carry alerts or lack coverage.
_FILES = ({"README.md", "CODEOWNERS", "docs/index.md"}, {"README.md"}, {"README.md", "CODEOWNERS"})
_ALERTS: tuple[list[str], ...] = ([], ["high", "medium"], ["critical", "high", "low"])
_COVERAGE = ("86.4", "61.0", "74.2")


def seed_code(github: FakeGitHub, sonarqube: FakeSonarQube, entities: Iterable[Entity]) -> None:
    """Every repository the catalog links to on GitHub exists in the fake, with some files,
    pull requests and alerts; every SonarQube project key has measures."""
    for n, entity in enumerate(e for e in entities if e.kind == "component"):
        if repo := github_repository(entity):
            github.add(
                Repo(
                    repo,
                    files=set(_FILES[n % 3]),
                    open_pulls=n % 4,
                    alerts=list(_ALERTS[n % 3]),
                    releases=[(f"v1.{n}.0", "2026-11-20T10:00:00Z")],
                )
            )
        if entity.sonarqube_project:
            sonarqube.projects[entity.sonarqube_project] = {
                "coverage": _COVERAGE[n % 3],
                "duplicated_lines_density": "3.1",
                "bugs": str(n % 3),
                "vulnerabilities": str(n % 2),
                "code_smells": "12",
                "sqale_rating": "1.0",
                "reliability_rating": "1.0" if n % 3 == 0 else "2.0",
                "security_rating": "1.0",
            }


def pagerduty_keys(entities: Iterable[Entity]) -> set[str]:
    """The Events API keys the catalog pages PagerDuty services with."""
    return {
        target.integration_key
        for entity in entities
        for target in entity.oncall
        if target.provider == "pagerduty" and target.integration_key
    }


async def run_demo(settings: Settings, config: Config, host: str, port: int, database: str) -> None:
    """Until cancelled. Without `database`, a fresh SQLite file each run: the fake workspace
    starts empty every time, and a database remembering its channels would disagree."""
    with tempfile.TemporaryDirectory(prefix="switchboard-demo-") as folder:
        url = normalise_url(database) if database else f"sqlite+aiosqlite:///{folder}/demo.db"
        settings = settings.model_copy(update={"database_url": url})
        async with running(settings, config, host, port) as demo:
            names = ", ".join(p.real_name for p in demo.people) or "nobody"
            print(f"Switchboard demo: open {demo.url} (no Slack needed)", flush=True)
            print(f"  people from the catalog: {names}; Ctrl-C stops it", flush=True)
            await asyncio.Event().wait()

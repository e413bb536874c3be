"""The composition root: builds the core and each feature's wiring (`switchboard.wiring`)
from `Settings`, then the Bolt app, the aiohttp app and the scheduler from what the
features give. Nothing is built at import time; tests build the same thing with their own
settings."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from switchboard.bot.platform import memory
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.jobs import Jobs
from switchboard.bot.platform.logs import Redactor
from switchboard.edge import front, middleware, screening, socket_mode
from switchboard.edge.slack_requests import SLACK_PATH
from switchboard.edge.web import SlackEdge, build_web_app
from switchboard.handlers import COMMANDS, authorization
from switchboard.handlers.lookup import answer_lane
from switchboard.settings import Settings
from switchboard.storage import db, postmortem_stats_store
from switchboard.wiring.catalog import CatalogFeature, wire_catalog
from switchboard.wiring.core import Core, Feature, build_core, utcnow
from switchboard.wiring.facts import FactsFeature, wire_facts
from switchboard.wiring.health import wire_health
from switchboard.wiring.home import HomeFeature, wire_home
from switchboard.wiring.incidents import IncidentsFeature, wire_incidents
from switchboard.wiring.insight import InsightFeature, wire_insight
from switchboard.wiring.scorecards import ScorecardsFeature, wire_scorecards
from switchboard.wiring.teams import TeamsFeature, wire_teams

log = logging.getLogger("switchboard")


class PortBusy(Exception):
    """The address to answer on cannot be had; the message is one line naming it."""


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts: a second bot on a busy port
    stops here, before it migrates, schedules jobs or sends a digest."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # `--host ::` is IPv6
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortBusy(
                f"port {port} on {host} is in use (another switchboard?): "
                "choose another with --port or PORT"
            ) from None
        raise PortBusy(f"cannot listen on {host} port {port}: {error.strerror}") from None


@dataclass
class Switchboard:
    core: Core
    catalog: CatalogFeature
    facts: FactsFeature
    incidents: IncidentsFeature
    scorecards: ScorecardsFeature
    teams: TeamsFeature
    home: HomeFeature
    insight: InsightFeature

    @property
    def features(self) -> tuple[Feature, ...]:
        return (self.catalog, self.incidents, self.scorecards, self.teams, self.home, self.facts)

    @cached_property
    def bolt(self) -> AsyncApp:
        """The Bolt app, built on first use: the catalog commands need no Slack token.

        Bolt is told who the bot is by `authorize` (from `BotIdentity`) rather than asking
        `auth.test` itself on the first request (see `switchboard.handlers.authorization`).
        For that its client carries no token (a token means Bolt's own single-workspace
        authorization); it is the app's client otherwise (Slack's address, the retry
        handlers, the keep-alive session), and each listener's client gets the token."""
        core = self.core
        client = core.client
        bolt = AsyncApp(
            client=AsyncWebClient(
                base_url=client.base_url,
                timeout=client.timeout,
                session=client.session,
                retry_handlers=client.retry_handlers,
            ),
            signing_secret=core.settings.signing_secret,
            before_authorize=authorization.before_authorize(core.identity),
            authorize=authorization.authorize(core.identity, core.settings.bot_token),
        )
        middleware.install(bolt, core.seen_events, core.http)
        lane = answer_lane()
        for feature in self.features:
            feature.listeners(bolt, lane)
        return bolt

    @cached_property
    def web(self) -> web.Application:
        core = self.core
        edge = SlackEdge(
            self.bolt,
            core.settings.signing_secret,
            core.seen_events.accepting,
            metrics=core.metrics,
        )
        app = build_web_app(
            edge, lambda: db.ping(core.engine), self.scrape, detail=self.facts.health
        )
        for feature in self.features:
            app.add_routes(feature.routes())
        return app

    async def scrape(self) -> bytes:
        """`GET /metrics`: the counters, and the open incidents counted now (one indexed
        count; left out when the database does not answer)."""
        try:
            async with asyncio.timeout(2), self.core.sessions() as session:
                incidents_open: int | None = await postmortem_stats_store.open_count(session)
        except Exception as error:  # a scrape must answer, whatever the database does
            log.warning("metrics: cannot count open incidents: %s", type(error).__name__)
            incidents_open = None
        return self.core.metrics.exposition(incidents_open)

    @cached_property
    def jobs(self) -> Jobs:
        """Every scheduled job, for the scheduler and `switchboard jobs`."""
        return Jobs([*self.core.jobs(), *(j for f in self.features for j in f.jobs())])

    async def close(self) -> None:
        await self.core.close()


def build(
    settings: Settings,
    config: Config,
    clock: Callable[[], datetime] = utcnow,
    redactor: Redactor | None = None,
) -> Switchboard:
    """`redactor` is the one the process's logging uses (see `switchboard.bot.platform.logs`); the
    catalog's pager keys are added to it as they are read."""
    core = build_core(settings, config, clock, redactor)
    catalog = wire_catalog(core)
    facts = wire_facts(core, catalog)
    incidents = wire_incidents(core, catalog)
    facts.deployed.append(incidents.context.changes.recorded)  # a deploy on the timeline
    scorecards = wire_scorecards(core, catalog, facts)
    insight = wire_insight(core, catalog, scorecards, incidents)
    teams = wire_teams(core, catalog, scorecards, insight)
    wire_health(core, catalog, facts, scorecards)
    home = wire_home(core, catalog, incidents, insight)
    return Switchboard(core, catalog, facts, incidents, scorecards, teams, home, insight)


async def prepare(switchboard: Switchboard) -> None:
    """What `serve` and `socket` do before taking traffic: migrate, import the catalog and
    build the lookup indexes."""
    memory.fewer_arenas()  # before the database's threads start
    core = switchboard.core
    # One keep-alive session for every Slack call (slack_sdk opens one per call otherwise);
    # Bolt hands it on to the clients it gives listeners.
    core.client.session = core.http()
    core.identity.start()  # who the bot is, asked now rather than on the first request
    await db.upgrade(core.engine)
    await switchboard.catalog.prepare()


def start_scheduler(switchboard: Switchboard) -> AsyncIOScheduler:
    # Before the jobs are added: APScheduler logs each ("Adding job tentatively") at INFO.
    logging.getLogger("apscheduler").setLevel(switchboard.core.settings.scheduler_log_level)
    scheduler = AsyncIOScheduler(timezone=switchboard.core.config.tz)
    switchboard.jobs.schedule(scheduler, switchboard.core.metrics)
    scheduler.start()
    return scheduler


@dataclass
class Served:
    """Where Slack posts to, and the front process when there is one."""

    url: str
    front: asyncio.subprocess.Process | None = None

    async def ended(self) -> int:
        """Never, when the bot answers alone; when the front exits, its exit code (it is not
        meant to: the bot then stops too, for its supervisor to start both again)."""
        if self.front is None:
            await asyncio.Event().wait()
        assert self.front is not None
        return await self.front.wait()


async def stop_scheduler(switchboard: Switchboard, scheduler: AsyncIOScheduler) -> None:
    """No new runs, and the runs in progress their grace (`Jobs.stop`) before any is
    cancelled: APScheduler's shutdown cancels running coroutine jobs at once. (A run cancelled
    mid-session can leave SQLAlchemy's aiosqlite clean-up pending for ever, and the process
    with it: `test_serve_process` caught a bot that did not stop.)"""
    scheduler.pause()
    await switchboard.jobs.stop()
    scheduler.shutdown(wait=False)


async def serve_http(switchboard: Switchboard, host: str, port: int, front: bool = False) -> int:
    async with serving(switchboard, host, port, front) as served:
        code = await served.ended()  # or cancelled (Ctrl-C or SIGTERM)
    log.critical("the front process exited (code %s): stopping", code)
    return 1


@asynccontextmanager
async def serving(
    switchboard: Switchboard, host: str, port: int, front: bool = False
) -> AsyncIterator[Served]:
    """Prepared, scheduled and answering HTTP (`port` 0 takes a free one). With `front`,
    requests reach the bot through a front process that acknowledges them at once (see
    `switchboard.edge.front`). `serve` and `demo` both run the bot this way. The port is bound
    first (`PortBusy` when it cannot be)."""
    with listen(host, port) as listener:
        await prepare(switchboard)
        scheduler = start_scheduler(switchboard)
        runner = web.AppRunner(switchboard.web, access_log=None)
        await runner.setup()
        try:
            async with contextlib.AsyncExitStack() as stack:
                if front:
                    served = await stack.enter_async_context(
                        behind_front(switchboard, runner, listener)
                    )
                else:
                    await web.SockSite(runner, listener).start()
                    served = Served(f"http://{host}:{listener.getsockname()[1]}{SLACK_PATH}")
                log.info("listening on %s", served.url)
                yield served
        finally:
            await stop_scheduler(switchboard, scheduler)
            await runner.cleanup()


@asynccontextmanager
async def behind_front(
    switchboard: Switchboard, runner: web.AppRunner, listener: socket.socket
) -> AsyncIterator[Served]:
    """The bot on a Unix socket of its own, the front answering on `listener`."""
    settings = switchboard.core.settings
    host = listener.getsockname()[0]
    with tempfile.TemporaryDirectory(prefix="switchboard-") as folder:
        bot_socket = str(Path(folder) / "bot.sock")
        await web.UnixSite(runner, bot_socket).start()
        taken = front.Taken(frozenset(COMMANDS), screening.EVENT_TYPES)
        env = {"LOG_LEVEL": settings.log_level, "LOG_FORMAT": settings.log_format}
        process = await front.start_front(listener, bot_socket, settings.signing_secret, taken, env)
        try:
            yield Served(f"http://{host}:{listener.getsockname()[1]}{SLACK_PATH}", process)
        finally:
            await front.stop_front(process)


async def serve_socket(switchboard: Switchboard, app_token: str) -> None:
    await prepare(switchboard)
    scheduler = start_scheduler(switchboard)
    try:
        await socket_mode.serve(switchboard.bolt, app_token)
    finally:
        await stop_scheduler(switchboard, scheduler)

"""The composition root: builds the engine, the Slack client and gateway, the services, the
Bolt app, the aiohttp app and the scheduler from `Settings`. Nothing is built at import
time; tests build the same thing with their own settings."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from switchboard.bot.catalog.loader import auto_workers
from switchboard.bot.catalog.reader import CatalogReader
from switchboard.bot.catalog.service import CatalogService, ImportReport
from switchboard.bot.facts.api import LABELS, LiveFacts, build_sources, summary
from switchboard.bot.facts.targets import github_host
from switchboard.bot.home import HomeService
from switchboard.bot.incidents.catchup import CatchUpService
from switchboard.bot.incidents.followup_service import FollowUpService
from switchboard.bot.incidents.postmortem import PostmortemService
from switchboard.bot.incidents.reminders import Reminders
from switchboard.bot.incidents.service import IncidentService
from switchboard.bot.incidents.stats import StatsService
from switchboard.bot.incidents.sync import IncidentSync
from switchboard.bot.incidents.timeline import TimelineService
from switchboard.bot.paging import OpsgeniePager, PagerDutyPager, Pagers, SlackPager
from switchboard.bot.platform import memory
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.delivery import Delivery
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.identity import BotIdentity
from switchboard.bot.platform.jobs import Job, Jobs, Run, cron, every
from switchboard.bot.platform.logs import Redactor
from switchboard.bot.platform.metrics import Metrics, SlackCallMeter
from switchboard.bot.platform.outside_calls import CallLimits, HttpSession
from switchboard.bot.platform.slack_gateway import SlackGateway, make_client
from switchboard.bot.scorecards.results import ScorecardResults
from switchboard.bot.scorecards.service import ScorecardService
from switchboard.bot.teams.digest import WeeklyDigest
from switchboard.bot.teams.followup_nags import CHECK_MINUTES, FollowUpNags
from switchboard.bot.teams.initiative_reminders import InitiativeReminders
from switchboard.bot.teams.scorecard_nags import ScorecardNags
from switchboard.edge import front, middleware, screening, socket_mode
from switchboard.edge.seen_events import SeenEvents
from switchboard.edge.slack_requests import SLACK_PATH
from switchboard.edge.web import SlackEdge, build_web_app
from switchboard.handlers import (
    COMMANDS,
    authorization,
    facts_push,
    pagerduty_webhook,
    register_all,
)
from switchboard.handlers.catchup import CatchUpHandlers
from switchboard.handlers.followups import FollowUpHandlers
from switchboard.handlers.incident import IncidentHandlers, RecordHandler
from switchboard.handlers.lookup import answer_lane
from switchboard.handlers.postmortem_stats import PostmortemStatsHandlers
from switchboard.handlers.timeline import TimelineHandlers
from switchboard.settings import Settings
from switchboard.storage import catalog_store, db, postmortem_stats_store

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


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Switchboard:
    settings: Settings
    config: Config
    engine: AsyncEngine
    client: AsyncWebClient
    gateway: SlackGateway
    identity: BotIdentity
    http: HttpSession
    catalog: CatalogService
    owner: CatalogReader
    seen_events: SeenEvents
    incidents: IncidentService
    incident_sync: IncidentSync
    reminders: Reminders
    home: HomeService
    timeline: TimelineService
    followups: FollowUpService
    postmortems: PostmortemService
    stats: StatsService
    delivery: Delivery
    nags: FollowUpNags
    scorecards: ScorecardService
    results: ScorecardResults
    scorecard_nags: ScorecardNags
    digest: WeeklyDigest
    initiative_reminders: InitiativeReminders
    metrics: Metrics
    redactor: Redactor
    facts: LiveFacts

    @cached_property
    def bolt(self) -> AsyncApp:
        """The Bolt app, built on first use: the catalog commands need no Slack token.

        Bolt is told who the bot is by `authorize` (from `BotIdentity`) rather than asking
        `auth.test` itself on the first request (see `switchboard.handlers.authorization`).
        For that its client carries no token (a token means Bolt's own single-workspace
        authorization); it is the app's client otherwise (Slack's address, the retry
        handlers, the keep-alive session), and each listener's client gets the token."""
        client = self.client
        bolt = AsyncApp(
            client=AsyncWebClient(
                base_url=client.base_url,
                timeout=client.timeout,
                session=client.session,
                retry_handlers=client.retry_handlers,
            ),
            signing_secret=self.settings.signing_secret,
            before_authorize=authorization.before_authorize(self.identity),
            authorize=authorization.authorize(self.identity, self.settings.bot_token),
        )
        lane = answer_lane()
        incidents = IncidentHandlers(
            self.config.incidents,
            self.incidents,
            self.incident_sync,
            self.owner,
            self.gateway,
            lane,
        )
        for handler in self.record_handlers():
            incidents.add(handler)
        middleware.install(bolt, self.seen_events, self.http)
        register_all(
            bolt,
            owner_service=self.owner,
            home_service=self.home,
            incidents=incidents,
            scorecard_service=self.scorecards,
            followup_nags=self.nags,
            lane=lane,
        )
        return bolt

    def record_handlers(self) -> list[RecordHandler]:
        """Who answers `/incident note|timeline|postmortem|followup|followups|stats`."""
        return [
            TimelineHandlers(self.timeline, self.incidents, self.gateway, self.config.timezone),
            FollowUpHandlers(self.followups, self.gateway),
            PostmortemStatsHandlers(self.postmortems, self.stats),
            CatchUpHandlers(CatchUpService(self.timeline.deps, self.incidents, self.timeline)),
        ]

    @cached_property
    def web(self) -> web.Application:
        edge = SlackEdge(
            self.bolt,
            self.settings.signing_secret,
            self.seen_events.accepting,
            metrics=self.metrics,
        )
        app = build_web_app(
            edge, lambda: db.ping(self.engine), self.scrape, detail=self.sources_health
        )
        secret = self.settings.pagerduty_webhook_secret
        handler = pagerduty_webhook.webhook(
            secret.get_secret_value() if secret else "", self.incidents, self.incident_sync
        )
        app.router.add_post(pagerduty_webhook.PATH, handler)
        tokens = self.settings.facts().tokens()
        app.add_routes(facts_push.routes(tokens, self.resolve, self.facts.store, utcnow))
        return app

    async def resolve(self, given: str) -> str:
        """The ref of the entity `given` names (a ref, an id or an alias), "" when none."""
        async with db.session_factory(self.engine)() as session:
            if await catalog_store.entities_by_ref(session, [given.strip()]):
                return given.strip()
        found, _ = await self.owner.find(given)
        return found.ref if found is not None else ""

    async def sources_health(self) -> dict[str, Any]:
        """`/healthz`'s detail: how each facts source stands (never failing health)."""
        return {"sources": {s.source: s.as_json() for s in await self.facts.status()}}

    async def scrape(self) -> bytes:
        """`GET /metrics`: the counters, and the open incidents counted now (one indexed
        count; left out when the database does not answer)."""
        try:
            async with asyncio.timeout(2), db.session_factory(self.engine)() as session:
                incidents_open: int | None = await postmortem_stats_store.open_count(session)
        except Exception as error:  # a scrape must answer, whatever the database does
            log.warning("metrics: cannot count open incidents: %s", type(error).__name__)
            incidents_open = None
        return self.metrics.exposition(incidents_open)

    async def sync_catalog(self) -> ImportReport | None:
        """Bring the database in line with SWITCHBOARD_CATALOG. A failed import is logged
        and leaves the previous catalog in place. The scorecard files are read again too (a
        malformed one keeps the scorecards the bot had)."""
        await self.scorecards.reload(self.config.scorecards.paths)
        paths = self.settings.catalog_paths
        if not paths:
            return None
        report = await self.catalog.import_paths(paths)
        self.redactor.add(
            o.integration_key for e in report.parsed.entities for o in e.oncall if o.integration_key
        )
        for problem in report.parsed.warnings:
            log.warning("catalog: %s", problem)
        for problem in report.parsed.errors:
            log.error("catalog: %s", problem)
        if report.stats:
            log.info("catalog synced: %s", report.stats)
        return report

    @cached_property
    def jobs(self) -> Jobs:
        """Every scheduled job, for the scheduler and `switchboard jobs`."""
        return build_jobs(self)

    async def close(self) -> None:
        await self.identity.close()
        await self.http.close()
        await self.engine.dispose()


def build(
    settings: Settings,
    config: Config,
    clock: Callable[[], datetime] = utcnow,
    redactor: Redactor | None = None,
) -> Switchboard:
    """`redactor` is the one the process's logging uses (see `switchboard.bot.platform.logs`); the
    catalog's pager keys are added to it as they are read."""
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    metrics = Metrics()
    limits = CallLimits(settings.outside_call_timeout)
    client = make_client(settings.bot_token, settings.slack_api_url, limits)
    client.retry_handlers.insert(0, SlackCallMeter(metrics))  # first: it sees every attempt
    gateway = SlackGateway(client, limits)
    http = HttpSession(limits.timeout)  # Slack's client uses it too, from `prepare` on
    owner = CatalogReader(sessions, gateway)
    workers = settings.catalog_workers or auto_workers()
    catalog = CatalogService(sessions, owner.recheck, workers)
    delivery = Delivery(sessions, gateway, config.delivery, clock)
    deps = Deps(sessions, config, gateway, delivery, clock)
    incidents = IncidentService(deps, owner)
    postmortems = PostmortemService(deps, incidents)
    followups = FollowUpService(deps, incidents, owner)
    sync = IncidentSync(deps, owner, _pagers(settings, gateway, http, limits), postmortems)
    facts = _facts(settings, sessions, client, http, limits, clock)

    async def live_oncall(refs: Sequence[str]) -> str:
        return await facts.oncall_line(refs, config.tz)

    owner.live_oncall = live_oncall
    owner.live_oncall_users = facts.oncall_users
    scorecards = ScorecardService(sessions, owner, clock, facts.facts_of)
    results = ScorecardResults(sessions, scorecards, clock)
    return Switchboard(
        settings,
        config,
        engine,
        client,
        gateway,
        BotIdentity(gateway),
        http,
        catalog,
        owner,
        SeenEvents(sessions, clock),
        incidents,
        sync,
        Reminders(deps),
        HomeService(catalog, incidents, config.incidents, gateway, followups),
        timeline=TimelineService(deps, incidents),
        followups=followups,
        postmortems=postmortems,
        stats=StatsService(deps),
        delivery=delivery,
        nags=FollowUpNags(deps, owner),
        scorecards=scorecards,
        results=results,
        scorecard_nags=ScorecardNags(deps, owner, scorecards, results),
        digest=WeeklyDigest(deps, owner, scorecards, results),
        initiative_reminders=InitiativeReminders(deps, owner, scorecards, results),
        metrics=metrics,
        redactor=redactor or Redactor(settings.secrets()),
        facts=facts,
    )


def _facts(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: AsyncWebClient,
    http: HttpSession,
    limits: CallLimits,
    clock: Callable[[], datetime],
) -> LiveFacts:
    """The configured facts sources (Slack's user groups with a bot token), over the stored
    facts; a lease owner of this process's own."""
    facts_settings = settings.facts()
    sources = build_sources(
        facts_settings,
        http,
        timeout=limits.timeout,
        slack=client if settings.bot_token else None,
    )
    return LiveFacts(
        sessions, sources, clock, github_host=github_host(facts_settings.github_api_url)
    )


def _pagers(
    settings: Settings, gateway: SlackGateway, http: HttpSession, limits: CallLimits
) -> Pagers:
    opsgenie_key = settings.opsgenie_api_key.get_secret_value() if settings.opsgenie_api_key else ""
    return Pagers(
        pagerduty=PagerDutyPager(http, settings.pagerduty_events_url, timeout=limits.timeout),
        opsgenie=OpsgeniePager(
            http, opsgenie_key, settings.opsgenie_api_url, timeout=limits.timeout
        )
        if opsgenie_key
        else None,
        slack=SlackPager(gateway.post),
    )


async def prepare(switchboard: Switchboard) -> None:
    """What `serve` and `socket` do before taking traffic: migrate, import the catalog and
    build the lookup indexes."""
    memory.fewer_arenas()  # before the database's threads start
    # One keep-alive session for every Slack call (slack_sdk opens one per call otherwise);
    # Bolt hands it on to the clients it gives listeners.
    switchboard.client.session = switchboard.http()
    switchboard.identity.start()  # who the bot is, asked now rather than on the first request
    await db.upgrade(switchboard.engine)
    async with db.session_factory(switchboard.engine)() as session:  # imported before
        switchboard.redactor.add(await catalog_store.integration_keys(session))
    await switchboard.sync_catalog()
    await switchboard.owner.warm()


def build_jobs(sb: Switchboard) -> Jobs:
    """The jobs, their triggers in the configured time zone, and what each says it did."""
    tz, config = sb.config.tz, sb.config

    async def sync_catalog(run: Run) -> str:
        report = await sb.sync_catalog()
        if report is None:
            return "SWITCHBOARD_CATALOG is not set: nothing to sync"
        if report.stats is None:
            return f"catalog unchanged: {len(report.parsed.errors)} error(s), see the log"
        return f"catalog synced: {report.stats}"

    async def forget_events(run: Run) -> str:
        await sb.seen_events.forget_old()
        return "forgot Slack event ids older than the retry window"

    async def sync_incidents(run: Run) -> str:
        await sb.incident_sync.run_due()
        return "synced the incidents whose Slack side lagged behind"

    async def remind(run: Run) -> str:
        return f"{await sb.reminders.run()} status reminder(s) sent"

    async def evaluate(run: Run) -> str:
        await sb.scorecards.ensure_loaded(config.scorecards.paths)  # a run on its own
        if not sb.scorecards.scorecards:
            return "no scorecards loaded (scorecards.paths): nothing to evaluate"
        return (await sb.results.evaluate()).summary()

    def refresh(name: str) -> Callable[[Run], Awaitable[str]]:
        async def run(run: Run) -> str:
            return summary(await sb.facts.refresh(name, force=run.manual))

        return run

    facts_jobs = [
        Job(
            f"facts-{name}",
            f"refresh {LABELS.get(name, name)} past their TTL (one replica at a time)",
            every(tz, minutes=1),
            refresh(name),
        )
        for name in sb.facts.sources
    ]
    return Jobs(
        [
            Job(
                "catalog-sync",
                "re-import SWITCHBOARD_CATALOG",
                every(tz, minutes=config.catalog.sync_minutes),
                sync_catalog,
            ),
            Job("forget-events", "forget old Slack event ids", every(tz, hours=1), forget_events),
            Job(
                "incident-sync",
                "retry unfinished Slack steps and pages of incidents",
                every(tz, seconds=config.incidents.retry_seconds),
                sync_incidents,
            ),
            Job(
                "status-reminders",
                "remind incident commanders to post a status update",
                every(tz, minutes=1),
                remind,
            ),
            Job(
                "followup-nags",
                f"overdue follow-ups to their owners, daily from {config.nags.followups_at}",
                cron(tz, minute=f"*/{CHECK_MINUTES}"),
                sb.nags.run,
                per_team=True,
                at_start=True,
            ),
            Job(
                "scorecard-evaluation",
                "evaluate every service on every scorecard and store what changed",
                every(tz, minutes=config.scorecards.evaluate_minutes),
                evaluate,
                at_start=True,
            ),
            Job(
                "scorecard-nags",
                f"services that got worse, to their teams, daily from {config.nags.scorecards_at}",
                cron(tz, minute=f"*/{CHECK_MINUTES}"),
                sb.scorecard_nags.run,
                per_team=True,
                at_start=True,
            ),
            Job(
                "weekly-digest",
                f"each team's week, {config.digest.day} from {config.digest.at}",
                cron(tz, minute=f"*/{CHECK_MINUTES}"),
                sb.digest.run,
                per_team=True,
                at_start=True,
            ),
            Job(
                "initiative-reminders",
                f"initiatives nearing their deadline, daily from {config.nags.scorecards_at}",
                cron(tz, minute=f"*/{CHECK_MINUTES}"),
                sb.initiative_reminders.run,
                per_team=True,
                at_start=True,
            ),
            *facts_jobs,
        ]
    )


def start_scheduler(switchboard: Switchboard) -> AsyncIOScheduler:
    # Before the jobs are added: APScheduler logs each ("Adding job tentatively") at INFO.
    logging.getLogger("apscheduler").setLevel(switchboard.settings.scheduler_log_level)
    scheduler = AsyncIOScheduler(timezone=switchboard.config.tz)
    switchboard.jobs.schedule(scheduler, switchboard.metrics)
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
    settings = switchboard.settings
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

"""What every feature is built on: the database, the Slack client and gateway, the shared
HTTP session, exactly-once delivery, metrics and the log redactor, built once from
`Settings`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from switchboard.bot.platform.config import Config
from switchboard.bot.platform.delivery import Delivery
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.identity import BotIdentity
from switchboard.bot.platform.jobs import Job, Run, every
from switchboard.bot.platform.logs import Redactor
from switchboard.bot.platform.metrics import Metrics, SlackCallMeter
from switchboard.bot.platform.outside_calls import CallLimits, HttpSession
from switchboard.bot.platform.slack_gateway import SlackGateway, make_client
from switchboard.edge.seen_events import SeenEvents
from switchboard.settings import Settings
from switchboard.storage import db


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Core:
    settings: Settings
    config: Config
    engine: AsyncEngine
    client: AsyncWebClient
    gateway: SlackGateway
    identity: BotIdentity
    http: HttpSession
    limits: CallLimits
    metrics: Metrics
    redactor: Redactor
    deps: Deps
    seen_events: SeenEvents

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.deps.sessions

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.deps.clock

    def jobs(self) -> list[Job]:
        async def forget_events(run: Run) -> str:
            await self.seen_events.forget_old()
            return "forgot Slack event ids older than the retry window"

        hourly = every(self.config.tz, hours=1)
        return [Job("forget-events", "forget old Slack event ids", hourly, forget_events)]

    async def close(self) -> None:
        await self.identity.close()
        await self.http.close()
        await self.engine.dispose()


def build_core(
    settings: Settings,
    config: Config,
    clock: Callable[[], datetime] = utcnow,
    redactor: Redactor | None = None,
) -> Core:
    """`redactor` is the one the process's logging uses (see `switchboard.bot.platform.logs`)."""
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    metrics = Metrics()
    limits = CallLimits(settings.outside_call_timeout)
    client = make_client(settings.bot_token, settings.slack_api_url, limits)
    client.retry_handlers.insert(0, SlackCallMeter(metrics))  # first: it sees every attempt
    gateway = SlackGateway(client, limits)
    delivery = Delivery(sessions, gateway, config.delivery, clock)
    return Core(
        settings,
        config,
        engine,
        client,
        gateway,
        BotIdentity(gateway),
        HttpSession(limits.timeout),  # Slack's client uses it too, from `prepare` on
        limits,
        metrics,
        redactor or Redactor(settings.secrets()),
        Deps(sessions, config, gateway, delivery, clock),
        SeenEvents(sessions, clock),
    )


class Feature:
    """What a feature adds to the bot beside its services; each part is optional."""

    def listeners(self, bolt: AsyncApp, lane: asyncio.Semaphore) -> None:
        """Register its Slack listeners; `lane` bounds the answers worked on after acks."""

    def jobs(self) -> list[Job]:
        return []

    def routes(self) -> list[web.RouteDef]:
        return []

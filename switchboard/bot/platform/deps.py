"""What nearly every service of the core is built with, in one typed value: the database's
sessions, the configuration, the Slack gateway, exactly-once delivery and the clock. A
service takes `Deps` and, beside it, only what is its own (the catalog reader, another
service, the pagers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.platform.config import Config
from switchboard.bot.platform.delivery import Delivery
from switchboard.bot.platform.slack_gateway import SlackGateway

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    config: Config
    gateway: SlackGateway
    delivery: Delivery
    clock: Clock

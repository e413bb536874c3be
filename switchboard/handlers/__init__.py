"""The Slack edge: Bolt listeners that parse a payload, call the core and reply."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
from slack_bolt.async_app import AsyncApp

from switchboard.bot.events import EventLedger
from switchboard.bot.home import HomeService
from switchboard.bot.owner import OwnerService
from switchboard.bot.scorecards.service import ScorecardService
from switchboard.handlers import home, incident, owner, scorecard, timeline
from switchboard.handlers.incident import IncidentHandlers
from switchboard.handlers.middleware import (
    answer_errors,
    deduplicate_events,
    keep_alive_respond,
    name_the_request,
    watch_listeners,
)
from switchboard.handlers.payloads import Payload

# What the app listens to; manifest.yml must declare exactly these (a test checks both ways).
COMMANDS = (owner.COMMAND, incident.COMMAND, scorecard.COMMAND)
EVENTS = (home.EVENT, *timeline.EVENTS)
# The typed request of each event whose shape the edge checks before acknowledging it (an
# event is acknowledged before its listener runs, which could only log a malformed one).
EVENT_PAYLOADS: dict[str, type[Payload]] = {home.EVENT: home.HomeOpened}


def register_all(
    app: AsyncApp,
    *,
    ledger: EventLedger,
    owner_service: OwnerService,
    home_service: HomeService,
    incidents: IncidentHandlers,
    scorecard_service: ScorecardService,
    http: Callable[[], aiohttp.ClientSession],
    lane: asyncio.Semaphore,
) -> None:
    app.middleware(name_the_request)
    app.middleware(keep_alive_respond(http))
    app.middleware(deduplicate_events(ledger))
    app.error(answer_errors)
    watch_listeners(app)
    owner.register(app, owner_service, lane)
    home.register(app, home_service)
    incidents.register(app)
    scorecard.register(app, scorecard_service, lane)

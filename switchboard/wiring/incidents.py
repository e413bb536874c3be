"""Incidents: declare to postmortem (the service, the Slack sync, paging, the timeline,
follow-ups, postmortems, stats, the catch-up), `/incident`, the PagerDuty webhook, and the
jobs that retry unfinished Slack steps and remind commanders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from switchboard.bot.catalog.api import CatalogReader
from switchboard.bot.incidents.affected import AffectedService
from switchboard.bot.incidents.catchup import CatchUpService
from switchboard.bot.incidents.changes import ChangesService
from switchboard.bot.incidents.context_card import ContextCards
from switchboard.bot.incidents.followup_service import FollowUpService
from switchboard.bot.incidents.impact import ImpactService
from switchboard.bot.incidents.postmortem import PostmortemService
from switchboard.bot.incidents.reminders import Reminders
from switchboard.bot.incidents.service import IncidentService
from switchboard.bot.incidents.summary import Summariser, SummarySettings
from switchboard.bot.incidents.sync import IncidentSync
from switchboard.bot.incidents.timeline import TimelineService
from switchboard.bot.paging import OpsgeniePager, PagerDutyPager, Pagers, SlackPager
from switchboard.bot.platform.jobs import Job, Run, every
from switchboard.handlers import pagerduty_webhook
from switchboard.handlers.affected import AffectedHandlers
from switchboard.handlers.catchup import CatchUpHandlers
from switchboard.handlers.followups import FollowUpHandlers
from switchboard.handlers.incident import IncidentHandlers, RecordHandler
from switchboard.handlers.incident_started import StartedHandlers
from switchboard.handlers.postmortem import PostmortemHandlers
from switchboard.handlers.timeline import TimelineHandlers
from switchboard.wiring.catalog import CatalogFeature
from switchboard.wiring.core import Core, Feature

SUMMARY_TIMEOUT = 8.0  # seconds a summary may take before the plain catch-up is shown


@dataclass
class Context:
    """The responder context: what changed, what else is affected, the card in the channel."""

    changes: ChangesService
    affected: AffectedService
    cards: ContextCards


@dataclass
class IncidentsFeature(Feature):
    core: Core
    catalog: CatalogFeature
    service: IncidentService
    sync: IncidentSync
    reminders: Reminders
    timeline: TimelineService
    followups: FollowUpService
    postmortems: PostmortemService
    catchup: CatchUpService
    context: Context
    impact: ImpactService
    # Other features' verbs of `/incident` (insight's `stats`), registered after these
    more_records: list[RecordHandler] = field(default_factory=list)

    def listeners(self, bolt: AsyncApp, lane: asyncio.Semaphore) -> None:
        core = self.core
        handlers = IncidentHandlers(
            core.config.incidents, self.service, self.sync, self.catalog.reader, core.gateway, lane
        )
        # Who answers `/incident note|timeline|postmortem|followup|followups|stats|catchup|started`.
        records: list[RecordHandler] = [
            TimelineHandlers(self.timeline, self.service, core.gateway, core.config.timezone),
            FollowUpHandlers(self.followups, core.gateway),
            PostmortemHandlers(self.postmortems),
            CatchUpHandlers(self.catchup),
            StartedHandlers(self.impact, self.sync),
            AffectedHandlers(self.context.changes, self.context.affected, self.context.cards),
            *self.more_records,
        ]
        for record in records:
            handlers.add(record)
        handlers.register(bolt)

    def routes(self) -> list[web.RouteDef]:
        secret = self.core.settings.pagerduty_webhook_secret
        handler = pagerduty_webhook.webhook(
            secret.get_secret_value() if secret else "", self.service, self.sync
        )
        return [web.post(pagerduty_webhook.PATH, handler)]

    def jobs(self) -> list[Job]:
        async def sync_incidents(run: Run) -> str:
            await self.sync.run_due()
            return "synced the incidents whose Slack side lagged behind"

        async def remind(run: Run) -> str:
            return f"{await self.reminders.run()} status reminder(s) sent"

        tz, retry = self.core.config.tz, self.core.config.incidents.retry_seconds
        return [
            Job(
                "incident-sync",
                "retry unfinished Slack steps and pages of incidents",
                every(tz, seconds=retry),
                sync_incidents,
            ),
            Job(
                "status-reminders",
                "remind incident commanders to post a status update",
                every(tz, minutes=1),
                remind,
            ),
        ]


def wire_incidents(core: Core, catalog: CatalogFeature) -> IncidentsFeature:
    deps, reader = core.deps, catalog.reader
    service = IncidentService(deps, reader)
    postmortems = PostmortemService(deps, service)
    timeline = TimelineService(deps, service)
    sync = IncidentSync(deps, reader, _pagers(core), postmortems)
    catchup = CatchUpService(deps, service, timeline)
    context = _context(core, service, reader)
    sync.after.append(context.cards.after_sync)
    context.changes.sync = sync.run
    catchup.changes = context.changes.lines
    summariser = _summariser(core)
    if summariser.on:
        catchup.summary = summariser.add
    return IncidentsFeature(
        core,
        catalog,
        service,
        sync,
        Reminders(deps),
        timeline,
        FollowUpService(deps, service, reader),
        postmortems,
        catchup,
        context,
        ImpactService(deps, service),
    )


def _context(core: Core, service: IncidentService, reader: CatalogReader) -> Context:
    config = core.config.incidents
    window = timedelta(minutes=config.changes_window_minutes)
    changes = ChangesService(core.deps, window, service)
    affected = AffectedService(reader, service, core.deps.delivery, config.dependents_depth)
    return Context(changes, affected, ContextCards(core.deps, service, changes, affected))


def _summariser(core: Core) -> Summariser:
    settings = core.settings
    token = settings.summary_token.get_secret_value() if settings.summary_token else ""
    timeout = min(settings.outside_call_timeout, SUMMARY_TIMEOUT)
    return Summariser(
        SummarySettings(settings.summary_url, settings.summary_model, token, timeout), core.http
    )


def _pagers(core: Core) -> Pagers:
    settings, http, timeout = core.settings, core.http, core.limits.timeout
    opsgenie_key = settings.opsgenie_api_key.get_secret_value() if settings.opsgenie_api_key else ""
    return Pagers(
        pagerduty=PagerDutyPager(http, settings.pagerduty_events_url, timeout=timeout),
        opsgenie=OpsgeniePager(http, opsgenie_key, settings.opsgenie_api_url, timeout=timeout)
        if opsgenie_key
        else None,
        slack=SlackPager(core.gateway.post),
    )

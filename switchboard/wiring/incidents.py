"""Incidents: declare to postmortem (the service, the Slack sync, paging, the timeline,
follow-ups, postmortems, stats, the catch-up), `/incident`, the PagerDuty webhook, and the
jobs that retry unfinished Slack steps and remind commanders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from switchboard.bot.incidents.catchup import CatchUpService
from switchboard.bot.incidents.followup_service import FollowUpService
from switchboard.bot.incidents.impact import ImpactService
from switchboard.bot.incidents.postmortem import PostmortemService
from switchboard.bot.incidents.reminders import Reminders
from switchboard.bot.incidents.service import IncidentService
from switchboard.bot.incidents.sync import IncidentSync
from switchboard.bot.incidents.timeline import TimelineService
from switchboard.bot.paging import OpsgeniePager, PagerDutyPager, Pagers, SlackPager
from switchboard.bot.platform.jobs import Job, Run, every
from switchboard.handlers import pagerduty_webhook
from switchboard.handlers.catchup import CatchUpHandlers
from switchboard.handlers.followups import FollowUpHandlers
from switchboard.handlers.incident import IncidentHandlers, RecordHandler
from switchboard.handlers.incident_started import StartedHandlers
from switchboard.handlers.postmortem import PostmortemHandlers
from switchboard.handlers.timeline import TimelineHandlers
from switchboard.wiring.catalog import CatalogFeature
from switchboard.wiring.core import Core, Feature


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
    return IncidentsFeature(
        core,
        catalog,
        service,
        IncidentSync(deps, reader, _pagers(core), postmortems),
        Reminders(deps),
        timeline,
        FollowUpService(deps, service, reader),
        postmortems,
        CatchUpService(deps, service, timeline),
        ImpactService(deps, service),
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

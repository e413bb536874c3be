"""Status-update reminders, decided from stored state: an incident whose last update is
older than its severity's interval gets one reminder per interval, claimed in the
notification ledger first, so restarts and replicas never repeat one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.config import IncidentsConfig
from switchboard.bot.incidents import messages
from switchboard.bot.incidents.messages import IncidentView
from switchboard.bot.slack_gateway import SlackFailure, SlackGateway
from switchboard.storage import incident_store
from switchboard.storage.tables import Incident

log = logging.getLogger(__name__)
KIND = "status-reminder"


class Reminders:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: IncidentsConfig,
        gateway: SlackGateway,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._gateway = gateway
        self._clock = clock

    async def run(self) -> int:
        """Send every reminder that is due; returns how many were sent."""
        now = self._clock()
        sent = 0
        async with self._sessions() as session:
            for incident in await incident_store.reminder_candidates(session):
                period = self.due_period(incident, now)
                if period and await self._send(session, incident, period, now):
                    sent += 1
        return sent

    def due_period(self, incident: Incident, now: datetime) -> str:
        """Which reminder is due ("" for none): the n-th interval since the last update."""
        severity = self._config.severity(incident.severity) or self._config.lowest_severity
        interval = timedelta(minutes=severity.reminder_minutes)
        snoozed = incident.reminders_snoozed_until
        if snoozed is not None and snoozed > now:
            return ""
        intervals = int((now - incident.last_update_at) / interval)
        return f"{incident.last_update_at.isoformat()}#{intervals}" if intervals >= 1 else ""

    async def _send(
        self, session: AsyncSession, incident: Incident, period: str, now: datetime
    ) -> bool:
        assert incident.id is not None
        subject = messages.ref(incident.number)
        if not await incident_store.claim_notification(session, KIND, subject, period, now):
            return False
        roles = await incident_store.current_roles(session, incident.id)
        view = IncidentView(incident, [], roles)
        lead = view.holder(self._config.roles[0]) or incident.declared_by
        minutes = int((now - incident.last_update_at).total_seconds() // 60)
        text, blocks = messages.reminder(view, lead, minutes)
        try:
            await self._gateway.post(incident.channel_id, text, blocks)
        except SlackFailure as failure:
            log.warning("reminder for %s not sent: %s", subject, failure)
            await incident_store.release_notification(session, KIND, subject, period)
            return False
        return True

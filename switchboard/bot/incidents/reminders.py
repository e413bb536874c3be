"""Status-update reminders, decided from stored state: an incident whose last update is
older than its severity's interval gets one reminder per interval, delivered through the
notification ledger (`bot/platform/delivery.py`), so restarts and replicas never repeat one."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.bot.incidents import messages
from switchboard.bot.incidents.views import incident_view
from switchboard.bot.platform.delivery import Key, Outgoing
from switchboard.bot.platform.deps import Deps
from switchboard.storage import incident_store
from switchboard.storage.tables import Incident

KIND = "status-reminder"


class Reminders:
    def __init__(self, deps: Deps) -> None:
        self._sessions = deps.sessions
        self._config = deps.config.incidents
        self._delivery = deps.delivery
        self._clock = deps.clock

    async def run(self) -> int:
        """Send every reminder that is due; returns how many were sent."""
        now = self._clock()
        async with self._sessions() as session:
            due = [
                await self._reminder(session, incident, period, now)
                for incident in await incident_store.reminder_candidates(session)
                if (period := self.due_period(incident, now))
            ]
        return len((await self._delivery.deliver(due)).sent)

    def due_period(self, incident: Incident, now: datetime) -> str:
        """Which reminder is due ("" for none): the n-th interval since the last update."""
        severity = self._config.severity(incident.severity) or self._config.lowest_severity
        interval = timedelta(minutes=severity.reminder_minutes)
        snoozed = incident.reminders_snoozed_until
        if snoozed is not None and snoozed > now:
            return ""
        intervals = int((now - incident.last_update_at) / interval)
        return f"{incident.last_update_at.isoformat()}#{intervals}" if intervals >= 1 else ""

    async def _reminder(
        self, session: AsyncSession, incident: Incident, period: str, now: datetime
    ) -> Outgoing:
        assert incident.id is not None
        roles = await incident_store.current_roles(session, incident.id)
        view = incident_view(incident, (), roles)
        lead = view.holder(self._config.roles[0]) or incident.declared_by
        minutes = int((now - incident.last_update_at).total_seconds() // 60)
        text, blocks = messages.reminder(view, lead, minutes)
        key = Key(KIND, messages.ref(incident.number), period)
        return Outgoing(key, incident.channel_id, text, blocks)

"""The postmortem draft uploaded to the incident channel once the incident is resolved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.bot.incidents.postmortem import PostmortemService, TemplateFailure
from switchboard.bot.incidents.sync_posting import LEASE, note
from switchboard.bot.platform.text import safe
from switchboard.storage import incident_store, postmortem_stats_store
from switchboard.storage.tables import Incident


@dataclass(frozen=True, slots=True)
class PostmortemUpload:
    postmortems: PostmortemService
    clock: Callable[[], datetime]

    async def run(self, session: AsyncSession, incident: Incident) -> bool:
        """Once resolved, the postmortem draft is shared in the channel, after the message
        saying so; once per incident, even if it is reopened and resolved again (the draft
        stays one `/incident postmortem` away). A broken template is said, not retried.
        True when it was due: what it said goes with the incident's events, posted next."""
        if (
            incident.resolved_at is None
            or postmortem_stats_store.POSTMORTEM_STEP in incident.steps_done
        ):
            return False
        assert incident.id is not None
        await LEASE.get().renew()
        try:
            await self.postmortems.publish(incident.id)
        except TemplateFailure as failure:
            text = f"I could not draft the postmortem: {safe(str(failure), 500)}"
            incident_store.add(session, note(incident.id, text, self.clock()))
        incident.steps_done = [*incident.steps_done, postmortem_stats_store.POSTMORTEM_STEP]
        await incident_store.save(session, incident)
        return True

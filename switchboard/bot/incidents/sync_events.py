"""The incident's events said in its channel (status changes, updates, pages, the bot's
notes), each posted once, in the order they happened."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.bot.incidents.sync_posting import Poster, set_posting
from switchboard.storage import incident_store
from switchboard.storage.tables import Incident


@dataclass(frozen=True, slots=True)
class EventPosts:
    poster: Poster

    async def run(self, session: AsyncSession, incident: Incident, in_doubt: bool = False) -> None:
        assert incident.id is not None
        unposted = await incident_store.unposted_events(session, incident.id)
        if not unposted:
            return
        set_posting(incident, {"events": True})
        await incident_store.save(session, incident)
        for event in unposted:
            event.posted_ts = await self.poster.post_once(
                incident.channel_id, f"event:{event.id}", event.at, in_doubt, event.text
            )
            await incident_store.save(session, event)
        set_posting(incident, {"events": False})
        await incident_store.save(session, incident)

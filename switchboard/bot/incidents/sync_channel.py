"""The incident channel as the sync keeps it: created once (under a free name), its purpose
and topic, and the people invited to it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from switchboard.bot.incidents import messages
from switchboard.bot.incidents.sync_posting import Outcome
from switchboard.bot.incidents.views import IncidentView, incident_view
from switchboard.bot.platform.config import IncidentsConfig
from switchboard.bot.platform.slack_gateway import SlackFailure, SlackGateway
from switchboard.storage.tables import Incident

log = logging.getLogger(__name__)
MAX_NAME_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class ChannelSteps:
    gateway: SlackGateway
    config: IncidentsConfig

    async def create(self, incident: Incident) -> None:
        if incident.channel_id:
            return
        private = incident.private or incident.security
        for attempt in range(MAX_NAME_ATTEMPTS):
            name = messages.channel_name(
                self.config.channel_name,
                incident.number,
                incident.title,
                incident.declared_at,
                attempt,
            )
            try:
                channel_id = await self.gateway.create_channel(name, private)
            except SlackFailure as failure:
                if failure.error != "name_taken":
                    raise
                # Ours already, if an earlier try created it but died before storing it.
                found = await self.gateway.find_channel(name)
                if not found or not await self._is_ours(found, incident):
                    continue
                channel_id = str(found["id"])
            incident.channel_id, incident.channel_name = channel_id, name
            return
        raise SlackFailure("conversations.create", "name_taken", retryable=False)

    async def _is_ours(self, channel: dict[str, object], incident: Incident) -> bool:
        creator = channel.get("creator")
        purpose = str((channel.get("purpose") or {}).get("value", ""))  # type: ignore[attr-defined]
        mine = bool(channel.get("is_member")) and creator == await self.gateway.bot_user_id()
        return mine and (
            not purpose or purpose.startswith(f"Incident {messages.ref(incident.number)}:")
        )

    async def purpose(self, incident: Incident) -> None:
        if "purpose" in incident.steps_done:
            return
        await self.gateway.set_purpose(
            incident.channel_id, messages.purpose(incident_view(incident))
        )
        incident.steps_done = [*incident.steps_done, "purpose"]

    async def invite(self, incident: Incident, waiting: list[str], out: Outcome) -> None:
        if not waiting:
            return
        try:
            await self.gateway.invite(incident.channel_id, waiting)
        except SlackFailure as failure:
            if failure.retryable:
                raise
            # Nobody invitable left (all already in, or unknown): nothing more to do.
            log.info("invites to %s: %s", incident.channel_id, failure.error)
        out.invited = waiting

    async def topic(self, incident: Incident, view: IncidentView) -> None:
        if incident.topic_version >= incident.version:
            return
        version = incident.version
        commander = view.holder("commander")
        name = await self.gateway.user_name(commander) if commander else ""  # cached
        await self.gateway.set_topic(incident.channel_id, messages.topic(view, name))
        incident.topic_version = version

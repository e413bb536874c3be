"""The incident's announcement in the announcement channel (`#incidents`): the channel found
and joined once per process (and again when a post finds it gone), the card posted there
once and updated on every change; a private incident shows there as a private card, or not
at all (`private_in_public`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from switchboard.bot.incidents import messages
from switchboard.bot.incidents.sync_posting import Outcome, Poster, note
from switchboard.bot.incidents.views import IncidentView
from switchboard.bot.platform.config import IncidentsConfig
from switchboard.bot.platform.slack_gateway import Blocks, SlackFailure, SlackGateway
from switchboard.bot.platform.text import safe
from switchboard.storage.tables import Incident

NO_CHANNEL = "-"  # announce_channel_id when the announcement channel does not exist
# What a post to a known announcement channel answers when it was archived, deleted or the
# bot removed from it: the channel is looked for (and joined) again on the next run.
GONE = frozenset({"channel_not_found", "is_archived", "not_in_channel"})


@dataclass(frozen=True, slots=True)
class AnnouncementStep:
    gateway: SlackGateway
    config: IncidentsConfig
    poster: Poster
    clock: Callable[[], datetime]
    # The announcement channel's id once found and joined: looking it up (conversations.list
    # pages through every channel) and joining it are not done for every incident.
    found: dict[str, str] = field(default_factory=dict)

    def hidden(self, incident: Incident) -> bool:
        return incident.private and self.config.private_in_public == "hide"

    def due(self, incident: Incident) -> bool:
        """Whether the announcement is to be posted (not yet, but it can be now)."""
        announce = incident.announce_channel_id
        return (
            bool(announce)
            and announce != NO_CHANNEL
            and not incident.announce_ts
            and not self.hidden(incident)
        )

    async def target(self, incident: Incident, out: Outcome) -> None:
        """Find (and join) the announcement channel once per incident."""
        if incident.announce_channel_id or self.hidden(incident):
            return
        channel = await self._announce_channel()
        incident.announce_channel_id = channel or NO_CHANNEL
        if channel is None:
            out.notes.append(
                note(
                    incident.id,
                    (
                        "I could not announce this incident: there is no channel "
                        f"`{safe(self.config.announce_channel, 80)}` that I can post in."
                    ),
                    self.clock(),
                )
            )

    async def run(self, incident: Incident, view: IncidentView, in_doubt: bool) -> None:
        """Post or update the announcement of `incident` (its row), rendered from `view`."""
        if incident.announce_version >= incident.version:
            return
        version = incident.version
        channel = incident.announce_channel_id
        if channel and channel != NO_CHANNEL and not self.hidden(incident):
            bar = None  # a private incident's severity is not for public places
            if incident.private:
                text, blocks = messages.private_card(view)
            else:
                text, blocks = messages.card(view, self.config, buttons=False)
                bar = messages.severity_bar(view, self.config)
            try:
                await self._post(incident, channel, in_doubt, text, blocks, bar)
            except SlackFailure as failure:
                # Looked for again, and joined, on the retry; not while an earlier post may
                # have reached the channel (the retry must look for it there first).
                if failure.error in GONE and not incident.announce_ts and not in_doubt:
                    self.found.clear()
                    incident.announce_channel_id = ""
                raise
        incident.announce_version = version

    async def _post(
        self,
        incident: Incident,
        channel: str,
        in_doubt: bool,
        text: str,
        blocks: Blocks,
        bar: Blocks | None,
    ) -> None:
        if incident.announce_ts:
            await self.gateway.update(channel, incident.announce_ts, text, blocks, bar)
        else:
            key, since = f"announce:{incident.id}", incident.declared_at
            incident.announce_ts = await self.poster.post_once(
                channel, key, since, in_doubt, text, blocks, bar
            )

    async def _announce_channel(self) -> str | None:
        wanted = self.config.announce_channel.lstrip("#")
        if wanted in self.found:
            return self.found[wanted]
        found = await self.gateway.find_channel(wanted)
        if found is None or found.get("is_archived"):
            return None  # an archived channel takes no posts
        if not found.get("is_member"):
            try:
                await self.gateway.join(str(found["id"]))
            except SlackFailure as failure:
                if failure.retryable:
                    raise
                return None
        self.found[wanted] = str(found["id"])
        return self.found[wanted]

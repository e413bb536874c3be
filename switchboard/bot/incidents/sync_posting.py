"""What the incident sync's steps share: the run's lease (renewed before every post and page),
posting a message once across runs, and the outcome the steps store together."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from switchboard.bot.platform.slack_gateway import Blocks, SlackFailure, SlackGateway
from switchboard.storage.tables import Incident, IncidentEvent, IncidentPage

log = logging.getLogger(__name__)
# A `steps_done` entry saying a post of this kind was sent and may have reached Slack even
# though its ts was never stored (the process died, or Slack timed out after taking it): the
# next run looks for the post (each carries its key as message metadata) before posting.
POSTING = "posting:"
METADATA_TYPE = "switchboard_incident"


class Lease(Protocol):
    """The run's hold on the incident (`sync._Lease`), as the steps use it."""

    in_doubt: bool  # a post got no answer: it may still appear in Slack
    call_within: float  # the most a call made right after `renew` may take

    async def renew(self) -> None: ...


# The lease of the run in progress, for the steps that post (they run concurrently, each in a
# copy of the run's context).
LEASE: ContextVar[Lease] = ContextVar("incident_sync_lease")


@dataclass(frozen=True, slots=True)
class Poster:
    """Posts a step's message once, whatever runs were interrupted before."""

    gateway: SlackGateway

    async def post_once(
        self,
        channel: str,
        key: str,
        since: datetime,
        in_doubt: bool,
        text: str,
        blocks: Blocks | None = None,
        attachments: Blocks | None = None,
    ) -> str:
        """Post, unless an earlier run's post of `key` (in doubt) is found in the channel."""
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"key": key}}
        if in_doubt:
            # Slack's ts and our clock may differ slightly.
            found = await self.gateway.find_posted(channel, since.timestamp() - 5, metadata)
            if found:
                log.info("found %s posted by an interrupted run; not posting it again", key)
                return found
        lease = LEASE.get()
        await lease.renew()
        try:
            return await self.gateway.post(
                channel, text, blocks, metadata, attachments, within=lease.call_within
            )
        except SlackFailure as failure:
            lease.in_doubt = lease.in_doubt or failure.in_doubt
            raise


@dataclass
class Outcome:
    """What concurrent steps achieved, stored together once they are all done."""

    rows: list[IncidentPage] = field(default_factory=list)
    notes: list[IncidentEvent] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.rows, self.notes, self.invited = [], [], []


def set_posting(incident: Incident, posting: dict[str, bool]) -> None:
    """Add or remove `posting:` marks in the incident's steps_done."""
    steps = [
        s
        for s in incident.steps_done
        if not s.startswith(POSTING) or posting.get(s.removeprefix(POSTING), True)
    ]
    steps += [POSTING + k for k, on in posting.items() if on and POSTING + k not in steps]
    if steps != incident.steps_done:
        incident.steps_done = steps


def note(incident_id: int | None, text: str, at: datetime) -> IncidentEvent:
    """A line the bot says in the incident channel (posted with the incident's events)."""
    assert incident_id is not None
    return IncidentEvent(incident_id=incident_id, at=at, actor="", kind="note", text=text)

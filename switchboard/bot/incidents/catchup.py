"""The catch-up: what has happened so far in an incident, for whoever joins its channel late
(once per person per incident, through the notification ledger) and on `/incident catchup`.

It is built from the stored record only (the incident, its roles, events, timeline and
follow-ups); no text leaves the bot. A private incident's catch-up is for its participants
only: joining its channel does not make anyone a participant (the bot treats a channel member
as a participant only once declared, assigned or paged), so a non-participant who joins gets
none, and `/incident catchup` refuses them as `/incident timeline` does."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from switchboard.bot.incidents.messages import moment_text
from switchboard.bot.incidents.service import IncidentService, Refused
from switchboard.bot.incidents.timeline import Moment, TimelineService
from switchboard.bot.incidents.views import (
    FollowUpData,
    IncidentView,
    StatusUpdate,
    followup_data,
    status_update,
)
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.bot.platform.text import duration, safe, shorten
from switchboard.storage import delivery_store, followup_store, incident_store
from switchboard.storage.delivery_store import Claim, Key

log = logging.getLogger(__name__)

KIND = "catchup"  # the ledger's kind: one row per (incident, person)
RECENT = 5  # timeline entries shown
FOLLOWUPS = 5  # open follow-ups shown, with a count beyond
ENTRY_TEXT = 300  # characters of one timeline entry's text
UPDATE_TEXT = 1000  # characters of the latest status update
# The whole catch-up: the parts above are bounded well within it (and Slack's 40,000).
MESSAGE_LIMIT = 8000


@dataclass(frozen=True, slots=True)
class Record:
    """What a catch-up is made of, read at one moment."""

    view: IncidentView
    now: datetime
    update: StatusUpdate | None  # the latest status update
    recent: list[Moment]  # the last few timeline entries, oldest first
    followups: list[FollowUpData]  # open ones
    more_followups: int = 0
    changes: tuple[str, ...] = ()  # what changed: deploys before declare (changes.py)


def render(record: Record, tz: ZoneInfo) -> str:
    """The catch-up as mrkdwn; every piece of user text escaped."""
    lines = [_headline(record), _stage(record), _roles(record.view), _update(record, tz)]
    lines.append("*Latest on the timeline*")
    lines += [f"• {moment_text(_short(m), tz)}" for m in record.recent] or ["• nothing yet"]
    lines += _followups(record)
    if record.changes:  # the context card's lines; none without deploys: nothing invented
        lines += ["*What changed* (deploys before declare)", *record.changes]
    return cut("\n".join(lines), MESSAGE_LIMIT)


def cut(mrkdwn: str, limit: int) -> str:
    """Escaped mrkdwn cut to `limit` characters, never inside an entity (`&amp;`) or a
    mention or link (`<@U…>`), with an ellipsis when cut."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    text = mrkdwn[: limit - 1]
    for opener, closer in (("&", ";"), ("<", ">")):
        at = text.rfind(opener)
        if at != -1 and closer not in text[at:]:
            text = text[:at]
    return text.rstrip() + "…"


def _headline(record: Record) -> str:
    incident = record.view.incident
    return (
        f"*Catching up on {record.view.ref}: {safe(incident.title, 200)}*\n"
        f"Severity *{safe(incident.severity, 20)}* · status *{safe(incident.status, 30)}*"
    )


def _stage(record: Record) -> str:
    incident = record.view.incident
    since = duration(_minutes(record.now - incident.declared_at))
    text = f"Declared {since} ago by <@{incident.declared_by}>."
    if incident.resolved_at is not None:
        lasted = duration(_minutes(incident.resolved_at - incident.declared_at))
        text += f" Resolved after {lasted}."
    if incident.closed_at is not None:
        text += " Closed: the record is complete."
    return text


def _roles(view: IncidentView) -> str:
    held = [f"{safe(r.role, 40)}: <@{r.user_id}>" for r in view.roles]
    return "*Roles* " + (", ".join(held) if held else "nobody yet: no commander assigned")


def _update(record: Record, tz: ZoneInfo) -> str:
    if record.update is None:
        return "*Latest status update* none yet"
    at = record.update.at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    return f"*Latest status update* ({at})\n{cut(record.update.text, UPDATE_TEXT)}"


def _followups(record: Record) -> list[str]:
    if not record.followups:
        return ["*Open follow-ups* none"]
    lines = [f"*Open follow-ups* ({len(record.followups) + record.more_followups})"]
    lines += [f"• {_followup(f)}" for f in record.followups]
    if record.more_followups:
        lines.append(f"• and {record.more_followups} more: `/incident followups`")
    return lines


def _followup(item: FollowUpData) -> str:
    team = item.owner_team.rpartition("/")[2]  # a catalog ref, `group:default/shop`
    owner = f"<@{item.owner_user}>" if item.owner_user else ""
    if not owner and team:
        owner = f"team {safe(team, 100)}"
    due = f", due {item.due:%Y-%m-%d}" if item.due else ""
    return safe(item.text, 150) + (f" ({owner}{due})" if owner or due else "")


def _short(moment: Moment) -> Moment:
    """A timeline entry cut for the catch-up (a lifecycle text is escaped already, the text
    of a captured message or note is escaped when shown), with its first five files."""
    text = moment.text
    text = cut(text, ENTRY_TEXT) if moment.source == "lifecycle" else shorten(text, ENTRY_TEXT)
    return dataclasses.replace(moment, text=text, files=moment.files[:5])


def _minutes(delta: timedelta) -> timedelta:
    return timedelta(minutes=int(delta.total_seconds() // 60))


class CatchUpService:
    def __init__(self, deps: Deps, incidents: IncidentService, timeline: TimelineService) -> None:
        self._sessions = deps.sessions
        self._gateway = deps.gateway
        self._clock = deps.clock
        self._tz = ZoneInfo(deps.config.timezone)
        self._lease = timedelta(seconds=deps.config.delivery.lease_seconds)
        self._incidents = incidents
        self._timeline = timeline
        # The deploys before declare, as lines (given by the wiring: changes.py).
        self.changes: Callable[[IncidentView], Awaitable[tuple[str, ...]]] | None = None
        # The optional summariser (summary.py), which keeps private incidents to itself.
        self.summary: Callable[[IncidentView, str], Awaitable[str]] | None = None

    async def on_demand(self, number: int | None, channel: str, viewer: str) -> str:
        """`/incident catchup`: the incident of this channel, or the one named; Refused for a
        private incident's non-participant."""
        view = await self._incidents.find(number, channel)
        if not await self._may_read(view, viewer):
            raise Refused(f"{view.ref} is private: only its participants may catch up on it.")
        return await self._summarised(view, render(await self._record(view, viewer), self._tz))

    async def joined(self, channel: str, user: str, bot_user: str) -> bool:
        """Someone joined `channel`: when it is an incident's and they may read it, their
        catch-up, once per person per incident whatever Slack sends again. True when sent."""
        if not user or user == bot_user:
            return False
        try:
            view = await self._incidents.find(None, channel)
        except Refused:
            return False  # no incident's channel
        if view.incident.declared_by == user or not await self._may_read(view, user):
            return False
        assert view.incident.id is not None
        key = Key(KIND, f"{view.incident.id}/{user}", "join")
        if not await self._claim(key, channel):
            return False
        text = render(await self._record(view, user), self._tz)
        return await self._send(key, channel, user, await self._summarised(view, text))

    async def _summarised(self, view: IncidentView, text: str) -> str:
        return await self.summary(view, text) if self.summary else text

    async def _may_read(self, view: IncidentView, viewer: str) -> bool:
        incident = view.incident
        assert incident.id is not None
        return not incident.private or viewer in await self._incidents.participants(incident.id)

    async def _claim(self, key: Key, channel: str) -> bool:
        now = self._clock()
        async with self._sessions() as session:
            claimed = await delivery_store.claim(session, key, channel, now, now - self._lease)
        return claimed.outcome is not Claim.TAKEN

    async def _send(self, key: Key, channel: str, user: str, text: str) -> bool:
        try:
            await self._gateway.post_ephemeral(channel, user, text)
        except SlackFailure as failure:
            log.warning("catch-up for %s in %s not sent: %s", user, channel, failure.error)
            if not failure.in_doubt:  # in doubt the claim stays: never twice
                async with self._sessions() as session:
                    await delivery_store.release(session, key)
            return False
        async with self._sessions() as session:
            await delivery_store.mark_sent(session, key, "", self._clock())
        return True

    async def _record(self, view: IncidentView, viewer: str) -> Record:
        incident_id = view.incident.id
        assert incident_id is not None
        moments = await self._timeline.moments(incident_id)
        which = followup_store.Filter(incident_id=incident_id, open_only=True)
        async with self._sessions() as session:
            events = await incident_store.events(session, incident_id)
            found = await followup_store.visible(session, which, viewer, FOLLOWUPS + 1)
            total, _ = await followup_store.count(session, which, viewer)
        updates = [e for e in events if e.kind == "update"]
        items = [followup_data(f) for f, _ in found][:FOLLOWUPS]
        return Record(
            view,
            self._clock(),
            status_update(updates[-1]) if updates else None,
            moments[-RECENT:],
            items,
            max(0, total - len(items)),
            await self.changes(view) if self.changes else (),
        )

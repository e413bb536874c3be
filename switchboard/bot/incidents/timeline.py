"""The incident timeline: messages people react to, notes, backfilled events, and the
lifecycle changes stored as incident events, merged in time order."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.bot.incidents.modal_fields import BackfillField
from switchboard.bot.incidents.service import IncidentService, Refused, Replayed
from switchboard.bot.incidents.views import IncidentView
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.bot.platform.text import safe
from switchboard.storage import incident_store, request_store, timeline_store
from switchboard.storage.tables import Incident, IncidentEvent, TimelineEntry

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# Slack's markup in message text: <@U..|name>, <#C..|name>, <!subteam^S..|@handle>, <!here>,
# <https://url|label>.
_MARKUP = re.compile(r"<([@#!])?([^>|]+)(?:\|([^>]*))?>")
# Incident events that belong on the timeline (reminder toggles do not).
LIFECYCLE = (
    "declared",
    "status",
    "severity",
    "assign",
    "update",
    "page",
    "pager-ack",
    "resolve",
    "close",
    "deploy",  # an affected service deployed after declare (changes.py)
)
CAPTURE_AT_ONCE = 4
# Waits (seconds) between attempts to capture a reaction while Slack fails: about a minute.
STORM_WAITS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


@dataclass(frozen=True, slots=True)
class Moment:
    """One line of the timeline, whatever its source."""

    at: datetime
    source: str  # "reaction" | "note" | "backfill" | "lifecycle"
    author: str  # Slack user id, "" for the bot
    text: str  # readable plain text (lifecycle: mrkdwn already escaped)
    entry_id: int | None = None
    permalink: str = ""
    files: tuple[tuple[str, str], ...] = ()  # (name, url)
    deleted: bool = False


class TimelineService:
    def __init__(self, deps: Deps, incidents: IncidentService) -> None:
        self._sessions = deps.sessions
        self._config = deps.config.incidents
        self._incidents = incidents
        self._gateway = deps.gateway
        self._clock = deps.clock
        # A burst of reactions must not starve the event loop that acks Slack: capture a few
        # at a time, the rest wait their turn (cheaply) after their ack.
        self._capturing = asyncio.Semaphore(CAPTURE_AT_ONCE)

    # reactions

    async def reaction_added(self, channel: str, ts: str, emoji: str, user: str) -> None:
        if emoji.split("::")[0] not in self._config.timeline_emojis:
            return
        # The event was acknowledged on receipt, so Slack will not send it again: a Slack
        # storm (5xx, rate limits, time-outs) is waited out here instead.
        for attempt, wait in enumerate((*STORM_WAITS, None)):
            try:
                async with self._capturing:
                    await self._reaction_added(channel, ts, user, confirm_again=attempt > 0)
                return
            except SlackFailure as failure:
                if not failure.retryable or wait is None:
                    raise
                log.warning("capturing %s %s: %s; trying again in %s s", channel, ts, failure, wait)
            await asyncio.sleep(wait)

    async def _reaction_added(
        self, channel: str, ts: str, user: str, confirm_again: bool = False
    ) -> None:
        async with self._sessions() as session:
            incident = await incident_store.by_channel(session, channel)
            if incident is None or incident.id is None:
                return  # not an incident channel: not ours to record
            if await self._add_reactor(session, incident.id, channel, ts, user):
                if confirm_again:  # captured by an attempt whose confirmation failed
                    await self._gateway.react(channel, ts, self._config.confirm_emoji)
                return
        message = await self._read(incident, channel, ts)
        if message is None:
            return
        await self._capture(incident, channel, ts, user, message)
        await self._gateway.react(channel, ts, self._config.confirm_emoji)

    async def _add_reactor(
        self, session: AsyncSession, incident_id: int, channel: str, ts: str, user: str
    ) -> bool:
        """Count one more person keeping the message on the timeline; False if it is not."""
        entry = _mine(await timeline_store.for_message(session, channel, ts), incident_id)
        if entry is None:
            return False
        await timeline_store.add_reactor(session, entry, user)
        return True

    async def _read(self, incident: Incident, channel: str, ts: str) -> dict[str, object] | None:
        try:
            message = await self._gateway.message(channel, ts)
        except SlackFailure as failure:
            if failure.retryable:
                raise  # tried again by reaction_added
            message = None
        if message is None:
            await self._note(
                incident.channel_id, "I could not read that message, so it is not on the timeline."
            )
        return message

    async def _capture(
        self, incident: Incident, channel: str, ts: str, user: str, message: dict[str, object]
    ) -> None:
        assert incident.id is not None
        entry = TimelineEntry(
            incident_id=incident.id,
            source="reaction",
            at=_from_ts(ts),
            author=str(message.get("user") or message.get("bot_id") or ""),
            added_by=user,
            text=await self.readable(str(message.get("text") or "")),
            channel_id=channel,
            message_ts=ts,
            thread_ts=str(message.get("thread_ts") or ""),
            permalink=await self._gateway.permalink(channel, ts),
            files=_files(message),
            reactors=[user],
        )
        async with self._sessions() as session:
            if not await timeline_store.add_unless_there(session, entry):
                await self._add_reactor(session, incident.id, channel, ts, user)

    async def reaction_removed(self, channel: str, ts: str, emoji: str, user: str) -> None:
        if emoji.split("::")[0] not in self._config.timeline_emojis:
            return
        async with self._sessions() as session:
            entries = await timeline_store.for_message(session, channel, ts)
            if not entries:
                return
            # Whoever still has another timeline emoji on it keeps it on the timeline.
            keeping = await self._still_reacting(channel, ts)
            for entry in entries:
                entry.reactors = [r for r in entry.reactors if r != user or r in keeping]
            await timeline_store.keep_reactors(session, entries)
            if any(e.reactors for e in entries):
                return
        # The confirmation said "on the timeline": it goes with the last timeline emoji.
        await self._gateway.unreact(channel, ts, self._config.confirm_emoji)

    async def _still_reacting(self, channel: str, ts: str) -> set[str]:
        """Who has a timeline emoji on the message now, as Slack says; nobody when Slack
        cannot say (then the removal is taken at its word)."""
        try:
            message = await self._gateway.message(channel, ts)
        except SlackFailure as failure:
            log.info("reading %s %s after a reaction was removed: %s", channel, ts, failure)
            return set()
        reactions = (message or {}).get("reactions")
        return {
            str(person)
            for reaction in (reactions if isinstance(reactions, list) else [])
            if isinstance(reaction, dict)
            and str(reaction.get("name", "")).split("::")[0] in self._config.timeline_emojis
            for person in reaction.get("users") or []
        }

    async def message_changed(self, channel: str, ts: str, text: str) -> None:
        async with self._sessions() as session:
            found = await timeline_store.for_message(session, channel, ts)
            if not found:
                return
            await timeline_store.edit(session, found, await self.readable(text), self._clock())

    async def message_deleted(self, channel: str, ts: str) -> None:
        async with self._sessions() as session:
            await timeline_store.mark_deleted(session, channel, ts)

    # notes and backfills

    async def note(
        self,
        number: int | None,
        channel: str,
        actor: str,
        text: str,
        at: datetime | None = None,
        *,
        key: str = "",
    ) -> int:
        """Add a note (now) or a backfilled event (at `at`); returns the incident's number.
        `key` is Slack's identity of the request: one carried out before raises `Replayed`."""
        view = await self._incidents.find(number, channel)
        incident = view.incident
        assert incident.id is not None
        await self._incidents.may_take_part(incident, actor, "add to its timeline")
        now = self._clock()
        if at is not None and at > now:
            raise Refused(
                "That time is in the future: backfill what already happened.", BackfillField.TIME
            )
        if not text.strip():
            raise Refused("Say what happened.", BackfillField.TEXT)
        async with self._sessions() as session:
            if key and not await request_store.claim(session, key, now):
                raise Replayed(key)
            entry = TimelineEntry(
                incident_id=incident.id,
                source="backfill" if at else "note",
                at=at or now,
                author=actor,
                added_by=actor,
                text=text,
            )
            await timeline_store.add(session, entry)
        what = "an event to" if at else "a note to"
        await self._note(
            incident.channel_id, f"<@{actor}> added {what} the timeline: {safe(text, 2800)}"
        )
        return incident.number

    async def _note(self, channel_id: str, text: str) -> None:
        """Say something in the incident channel; a failure is logged, not raised."""
        if not channel_id:
            return
        try:
            await self._gateway.post(channel_id, text)
        except SlackFailure as failure:
            log.warning("could not post in %s: %s", channel_id, failure.error)

    # reading

    async def moments(self, incident_id: int) -> list[Moment]:
        """The whole timeline in time order: captured entries and lifecycle events."""
        async with self._sessions() as session:
            entries = await timeline_store.entries(session, incident_id)
            events = await incident_store.events(session, incident_id)
        moments = [_entry_moment(e) for e in entries]
        moments += [_event_moment(e) for e in events if e.kind in LIFECYCLE]
        # At the same instant the lifecycle goes first: nothing precedes "declared".
        return sorted(moments, key=lambda m: (m.at, m.source != "lifecycle"))

    async def moments_for(self, view: IncidentView, viewer: str) -> list[Moment]:
        """The timeline as `viewer` may read it: a private incident's, its participants only."""
        incident = view.incident
        assert incident.id is not None
        if incident.private and viewer not in await self._incidents.participants(incident.id):
            raise Refused(f"{view.ref} is private: only its participants may read its timeline.")
        return await self.moments(incident.id)

    async def readable(self, text: str) -> str:
        """Slack's markup as a person reads it: mentions as names, links with their URLs."""
        text = text.replace("\x00", "")  # PostgreSQL stores no NUL in text
        names: dict[str, str] = {}
        for sigil, target, _label in _MARKUP.findall(text):
            if sigil == "@" and target not in names:
                names[target] = await self._gateway.user_name(target)
            elif sigil == "#" and target not in names and not _label:
                names[target] = await self._gateway.channel_name(target)

        def replace(match: re.Match[str]) -> str:
            sigil, target, label = match.group(1), match.group(2), match.group(3)
            if sigil == "@":
                return "@" + names.get(target, label or target)
            if sigil == "#":
                return "#" + (label or names.get(target, target))
            if sigil == "!":
                return label or "@" + target.split("^")[0]
            return f"{label} ({target})" if label and label != target else target

        return html.unescape(_MARKUP.sub(replace, text))


def _mine(entries: list[TimelineEntry], incident_id: int) -> TimelineEntry | None:
    return next((e for e in entries if e.incident_id == incident_id), None)


def _from_ts(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def _files(message: dict[str, object]) -> list[dict[str, str]]:
    files = message.get("files")
    if not isinstance(files, list):
        return []
    return [
        {
            "name": str(f.get("name") or f.get("title") or "file"),
            "url": str(f.get("permalink") or ""),
        }
        for f in files
        if isinstance(f, dict)
    ]


def _entry_moment(entry: TimelineEntry) -> Moment:
    files = tuple((f.get("name", ""), f.get("url", "")) for f in entry.files)
    return Moment(
        entry.at,
        entry.source,
        entry.author,
        entry.text,
        entry.id,
        entry.permalink,
        files,
        entry.deleted,
    )


def _event_moment(event: IncidentEvent) -> Moment:
    text = event.text or "Incident declared."
    return Moment(event.at, "lifecycle", event.actor, text)

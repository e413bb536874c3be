"""Bringing Slack in line with an incident's rows: its channel, topic, members, cards,
messages and pages. Each step looks at stored state, does what is missing and stores that
it did, so running the sync again (after a Slack failure, a crash, on another replica) only
does what is left. A lease on the incident row keeps it to one process at a time (`_Lease`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.catalog.api import CatalogReader, OnCall
from switchboard.bot.incidents import messages
from switchboard.bot.incidents.messages import IncidentView
from switchboard.bot.incidents.postmortem import PostmortemService, TemplateFailure
from switchboard.bot.paging import Page, PageReceipt, Pagers, PagingError
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.logs import about_incident, incident_scope
from switchboard.bot.platform.outside_calls import under_lease
from switchboard.bot.platform.slack_gateway import Blocks, SlackFailure
from switchboard.bot.platform.text import safe
from switchboard.storage import incident_store, postmortem_stats_store
from switchboard.storage.tables import Incident, IncidentEvent, IncidentPage

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
NO_CHANNEL = "-"  # announce_channel_id when the announcement channel does not exist
MAX_NAME_ATTEMPTS = 5
# A `steps_done` entry saying a post of this kind was sent and may have reached Slack even
# though its ts was never stored (the process died, or Slack timed out after taking it): the
# next run looks for the post (each carries its key as message metadata) before posting.
POSTING = "posting:"
METADATA_TYPE = "switchboard_incident"


class LeaseLost(Exception):
    """The incident's lease ran out and another process took it: this run posts no more."""


class _Lease:
    """A run's hold on one incident row, identified by when it ends (no two takes end at the
    same moment). It is renewed before every post and page, so each is sent with a whole
    lease ahead of it, and each is cut short at half of it (`under_lease`): no other
    process can take over while one is under way. A post that got no answer may still
    appear in Slack; the run then keeps the lease to its end rather than letting go, so the
    next run looks for that post only after Slack has had a lease's time to make it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        incident_id: int,
        clock: Clock,
        length: timedelta,
    ) -> None:
        self._sessions, self._incident_id = sessions, incident_id
        self._clock, self._length = clock, length
        self._until: datetime | None = None
        self._renewing = asyncio.Lock()  # concurrent steps renew one after the other
        self.in_doubt = False
        self.call_within = under_lease(length.total_seconds())

    async def take(self, now: datetime) -> bool:
        async with self._sessions() as session:
            until = now + self._length
            if await incident_store.take_lease(session, self._incident_id, now, until):
                self._until = until
        return self._until is not None

    async def renew(self) -> None:
        async with self._renewing, self._sessions() as session:
            assert self._until is not None
            until = self._clock() + self._length
            if until <= self._until:
                return  # still a whole lease ahead (the clock did not move)
            if not await incident_store.renew_lease(session, self._incident_id, self._until, until):
                raise LeaseLost(f"incident {self._incident_id}")
            self._until = until

    async def end(self) -> None:
        assert self._until is not None
        if self.in_doubt:
            log.info("a post got no answer: keeping the lease until %s before looking", self._until)
            return
        async with self._renewing, self._sessions() as session:
            await incident_store.release_lease(session, self._incident_id, self._until)


# The lease of the run in progress, for the steps that post (they run concurrently, each in a
# copy of the run's context).
_LEASE: ContextVar[_Lease] = ContextVar("incident_sync_lease")


class IncidentSync:
    def __init__(
        self, deps: Deps, catalog: CatalogReader, pagers: Pagers, postmortems: PostmortemService
    ) -> None:
        self._sessions = deps.sessions
        self._config = deps.config.incidents
        self._gateway = deps.gateway
        self._catalog = catalog
        self._pagers = pagers
        self._clock = deps.clock
        self._postmortems = postmortems
        self._lease = timedelta(seconds=deps.config.incidents.lease_seconds)
        # Incidents asked to be synced and not yet read by a run: a change whose own sync
        # finds the lease taken is brought in by the run at work when it ends, rather than
        # by the scheduler's next pass (`retry_seconds`). The ask is recorded before the
        # lease is tried, so a run ending meanwhile cannot miss it.
        self._wanted: set[int] = set()
        # Further steps other modules add, run last with the lease held (the responder
        # context card, `context_card.py`); each does its own exactly-once bookkeeping.
        self.after: list[Callable[[Incident], Awaitable[None]]] = []

    async def run_due(self) -> None:
        """The scheduler's job: sync every incident whose Slack side lags behind."""
        async with self._sessions() as session:
            due = await incident_store.out_of_sync(session, self._clock())
            due += await postmortem_stats_store.postmortems_due(session, self._clock())
        for incident_id in dict.fromkeys(due):
            await self.run(incident_id)

    async def run(self, incident_id: int) -> bool:
        """Sync one incident; True when Slack is fully in line with it."""
        self._wanted.add(incident_id)
        done = False
        with incident_scope():
            while incident_id in self._wanted:
                lease = _Lease(self._sessions, incident_id, self._clock, self._lease)
                if not await lease.take(self._clock()):
                    return False  # the run holding it sees the ask when it ends
                self._wanted.discard(incident_id)  # this run reads the incident as it is now
                done = await self._run(incident_id, lease)
        return done

    async def _run(self, incident_id: int, lease: _Lease) -> bool:
        _LEASE.set(lease)
        async with self._sessions() as session:
            try:
                return await self._steps(session, incident_id)
            except SlackFailure as failure:
                log.warning("incident sync stopped at %s; will retry", failure)
                return False
            except LeaseLost:
                log.warning("incident sync stopped: another process took the incident over")
                return False
            finally:
                await session.rollback()
                await lease.end()

    async def _steps(self, session: AsyncSession, incident_id: int) -> bool:
        incident = await incident_store.by_id(session, incident_id)
        if incident is None:
            return True
        about_incident(messages.ref(incident.number))
        out = _Outcome()
        in_doubt = {s.removeprefix(POSTING) for s in incident.steps_done if s.startswith(POSTING)}
        # The announcement channel is looked up while the incident channel is created, and
        # the rows the next steps need are read meanwhile.
        first = asyncio.gather(
            self._channel(incident), self._announce_target(incident, out), return_exceptions=True
        )
        # No autoflush while the steps change the row: a flush running at the same moment
        # would mark a change made during it as saved without writing it.
        with session.no_autoflush:
            view = IncidentView(
                incident,
                await incident_store.services(session, incident_id),
                await incident_store.current_roles(session, incident_id),
            )
            participants = await incident_store.participants(session, incident_id)
            pages = await incident_store.pages(session, incident_id)
        await self._store(session, incident, out, await first)
        # Everything else happens in the channel and depends on nothing but it: all at once.
        waiting = [p.user_id for p in participants if not p.invited]
        steps = (
            self._purpose(incident),
            self._invite(incident, waiting, out),
            self._topic(view),
            self._card(view, "card" in in_doubt),
            self._announcement(view, "announce" in in_doubt),
            *(self._page(view, page, out) for page in pages),
        )
        await self._store(
            session, incident, out, await asyncio.gather(*steps, return_exceptions=True)
        )
        await self._events(session, incident, "events" in in_doubt)
        await self._postmortem(session, incident)
        for step in self.after:
            await step(incident)
        return True

    async def _store(
        self, session: AsyncSession, incident: Incident, out: _Outcome, results: Sequence[object]
    ) -> None:
        """Store what concurrent steps achieved (all of it, even when one failed), then raise
        the first failure for the retry."""
        self._track_posts(incident)
        session.add(incident)
        for row in (*out.rows, *out.notes):
            session.add(row)
        if out.invited:
            assert incident.id is not None
            await incident_store.mark_invited(session, incident.id, out.invited)
        await session.commit()
        out.clear()
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]

    def _track_posts(self, incident: Incident) -> None:
        """Mark the card and the announcement as being posted from when they can be (the
        mark is stored before they are sent), and unmark them once their ts is stored."""
        announce = incident.announce_channel_id
        posting = {
            "card": bool(incident.channel_id) and not incident.card_ts,
            "announce": bool(announce)
            and announce != NO_CHANNEL
            and not incident.announce_ts
            and not self._hidden(incident),
        }
        _set_posting(incident, posting)

    async def _channel(self, incident: Incident) -> None:
        if incident.channel_id:
            return
        private = incident.private or incident.security
        for attempt in range(MAX_NAME_ATTEMPTS):
            name = messages.channel_name(
                self._config.channel_name,
                incident.number,
                incident.title,
                incident.declared_at,
                attempt,
            )
            try:
                channel_id = await self._gateway.create_channel(name, private)
            except SlackFailure as failure:
                if failure.error != "name_taken":
                    raise
                # Ours already, if an earlier try created it but died before storing it.
                found = await self._gateway.find_channel(name)
                if not found or not await self._is_ours(found, incident):
                    continue
                channel_id = str(found["id"])
            incident.channel_id, incident.channel_name = channel_id, name
            return
        raise SlackFailure("conversations.create", "name_taken", retryable=False)

    async def _is_ours(self, channel: dict[str, object], incident: Incident) -> bool:
        creator = channel.get("creator")
        purpose = str((channel.get("purpose") or {}).get("value", ""))  # type: ignore[attr-defined]
        mine = bool(channel.get("is_member")) and creator == await self._gateway.bot_user_id()
        return mine and (
            not purpose or purpose.startswith(f"Incident {messages.ref(incident.number)}:")
        )

    async def _purpose(self, incident: Incident) -> None:
        if "purpose" in incident.steps_done:
            return
        await self._gateway.set_purpose(
            incident.channel_id, messages.purpose(IncidentView(incident))
        )
        incident.steps_done = [*incident.steps_done, "purpose"]

    async def _invite(self, incident: Incident, waiting: list[str], out: _Outcome) -> None:
        if not waiting:
            return
        try:
            await self._gateway.invite(incident.channel_id, waiting)
        except SlackFailure as failure:
            if failure.retryable:
                raise
            # Nobody invitable left (all already in, or unknown): nothing more to do.
            log.info("invites to %s: %s", incident.channel_id, failure.error)
        out.invited = waiting

    async def _topic(self, view: IncidentView) -> None:
        incident = view.incident
        if incident.topic_version >= incident.version:
            return
        version = incident.version
        commander = view.holder("commander")
        name = await self._gateway.user_name(commander) if commander else ""  # cached
        await self._gateway.set_topic(incident.channel_id, messages.topic(view, name))
        incident.topic_version = version

    async def _card(self, view: IncidentView, in_doubt: bool) -> None:
        incident = view.incident
        if incident.card_version >= incident.version:
            return
        version = incident.version
        text, blocks = messages.card(view, self._config, buttons=True)
        bar = messages.severity_bar(view, self._config)
        if not incident.card_ts:
            incident.card_ts = await self._post_once(
                incident.channel_id,
                f"card:{incident.id}",
                incident.declared_at,
                in_doubt,
                text,
                blocks,
                bar,
            )
        else:
            await self._gateway.update(incident.channel_id, incident.card_ts, text, blocks, bar)
        incident.card_version = version

    def _hidden(self, incident: Incident) -> bool:
        return incident.private and self._config.private_in_public == "hide"

    async def _announce_target(self, incident: Incident, out: _Outcome) -> None:
        """Find (and join) the announcement channel once per incident."""
        if incident.announce_channel_id or self._hidden(incident):
            return
        channel = await self._announce_channel()
        incident.announce_channel_id = channel or NO_CHANNEL
        if channel is None:
            out.notes.append(
                _note(
                    incident,
                    (
                        "I could not announce this incident: there is no channel "
                        f"`{safe(self._config.announce_channel, 80)}` that I can post in."
                    ),
                    self._clock(),
                )
            )

    async def _announcement(self, view: IncidentView, in_doubt: bool) -> None:
        incident = view.incident
        if incident.announce_version >= incident.version:
            return
        version = incident.version
        channel = incident.announce_channel_id
        if channel and channel != NO_CHANNEL and not self._hidden(incident):
            bar = None  # a private incident's severity is not for public places
            if incident.private:
                text, blocks = messages.private_card(view)
            else:
                text, blocks = messages.card(view, self._config, buttons=False)
                bar = messages.severity_bar(view, self._config)
            if incident.announce_ts:
                await self._gateway.update(channel, incident.announce_ts, text, blocks, bar)
            else:
                incident.announce_ts = await self._post_once(
                    channel,
                    f"announce:{incident.id}",
                    incident.declared_at,
                    in_doubt,
                    text,
                    blocks,
                    bar,
                )
        incident.announce_version = version

    async def _announce_channel(self) -> str | None:
        wanted = self._config.announce_channel.lstrip("#")
        found = await self._gateway.find_channel(wanted)
        if found is None:
            return None
        if not found.get("is_member"):
            try:
                await self._gateway.join(str(found["id"]))
            except SlackFailure as failure:
                if failure.retryable:
                    raise
                return None
        return str(found["id"])

    async def _post_once(
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
            found = await self._gateway.find_posted(channel, since.timestamp() - 5, metadata)
            if found:
                log.info("found %s posted by an interrupted run; not posting it again", key)
                return found
        lease = _LEASE.get()
        await lease.renew()
        try:
            return await self._gateway.post(
                channel, text, blocks, metadata, attachments, within=lease.call_within
            )
        except SlackFailure as failure:
            lease.in_doubt = lease.in_doubt or failure.in_doubt
            raise

    async def _events(
        self, session: AsyncSession, incident: Incident, in_doubt: bool = False
    ) -> None:
        assert incident.id is not None
        unposted = await incident_store.unposted_events(session, incident.id)
        if not unposted:
            return
        _set_posting(incident, {"events": True})
        session.add(incident)
        await session.commit()
        for event in unposted:
            event.posted_ts = await self._post_once(
                incident.channel_id, f"event:{event.id}", event.at, in_doubt, event.text
            )
            session.add(event)
            await session.commit()
        _set_posting(incident, {"events": False})
        session.add(incident)
        await session.commit()

    async def _postmortem(self, session: AsyncSession, incident: Incident) -> None:
        """Once resolved, the postmortem draft is shared in the channel, after the message
        saying so; once per incident, even if it is reopened and resolved again (the draft
        stays one `/incident postmortem` away). A broken template is said, not retried."""
        if (
            incident.resolved_at is None
            or postmortem_stats_store.POSTMORTEM_STEP in incident.steps_done
        ):
            return
        assert incident.id is not None
        await _LEASE.get().renew()
        try:
            await self._postmortems.publish(incident.id)
        except TemplateFailure as failure:
            text = f"I could not draft the postmortem: {safe(str(failure), 500)}"
            session.add(_note(incident, text, self._clock()))
        incident.steps_done = [*incident.steps_done, postmortem_stats_store.POSTMORTEM_STEP]
        session.add(incident)
        await session.commit()
        await self._events(session, incident)

    async def _page(self, view: IncidentView, page: IncidentPage, out: _Outcome) -> None:
        now = self._clock()
        if page.next_attempt_at > now:
            return
        if page.status == "pending" and not view.resolved:
            await self._trigger(view, page, out, now)
        elif page.status == "triggered" and view.resolved:
            await self._resolve(view, page, out, now)

    async def _trigger(
        self, view: IncidentView, page: IncidentPage, out: _Outcome, now: datetime
    ) -> None:
        out.rows.append(page)
        lease = _LEASE.get()
        await lease.renew()
        try:
            target = await self._target(page)
            async with asyncio.timeout(lease.call_within):  # pagers have their own timeout too
                receipt = await self._pagers.for_target(target).trigger(
                    self._page_of(view, page, target)
                )
        except TimeoutError:
            self._failed(view.incident, page, "no answer in time", True, out, now)
            return
        except PagingError as error:
            self._failed(view.incident, page, str(error), error.retryable, out, now)
            return
        page.status, page.receipt, page.error = "triggered", receipt.key, ""
        note = f"Paged the on-call of *{safe(page.name, 100)}* through {_provider(page.provider)}."
        out.notes.append(_note(view.incident, note, now))

    async def _resolve(
        self, view: IncidentView, page: IncidentPage, out: _Outcome, now: datetime
    ) -> None:
        out.rows.append(page)
        try:
            target = await self._target(page)
            receipt = PageReceipt(page.provider, page.receipt)
            await self._pagers.for_target(target).resolve(
                self._page_of(view, page, target), receipt
            )
        except PagingError as error:
            if error.retryable:
                page.next_attempt_at = now + self._backoff(page)
                page.attempts += 1
                return
            log.info("resolving page %s failed for good: %s", page.id, error)
        page.status = "resolved"

    def _failed(
        self,
        incident: Incident,
        page: IncidentPage,
        error: str,
        retryable: bool,
        out: _Outcome,
        now: datetime,
    ) -> None:
        first = page.attempts == 0
        page.attempts += 1
        page.error = error
        # Operators read the log, not the channel: every failure, with the incident named.
        log.warning(
            "paging %s %s %s for %s (incident id %s, page %s, attempt %d) failed: %s%s",
            page.provider,
            page.target_type,
            page.target_id,
            messages.ref(incident.number),
            incident.id,
            page.id,
            page.attempts,
            error,
            "; will retry" if retryable else "; giving up",
        )
        if retryable:
            page.next_attempt_at = now + self._backoff(page)
        else:
            page.status = "failed"
        if first or not retryable:  # say it once, not on every retry
            then = "I will keep trying." if retryable else "Page them another way."
            out.notes.append(
                _note(
                    incident,
                    (
                        f"Paging the on-call of *{safe(page.name, 100)}* through "
                        f"{_provider(page.provider)} failed: {safe(error, 300)}. {then}"
                    ),
                    now,
                )
            )

    def _backoff(self, page: IncidentPage) -> timedelta:
        return timedelta(seconds=min(self._config.retry_seconds * 2 ** min(page.attempts, 6), 3600))

    async def _target(self, page: IncidentPage) -> OnCall:
        """The catalog's on-call target, with its integration key (never stored with us)."""
        contacts = await self._catalog.contacts(page.entity_ref)
        for target in contacts.oncall if contacts else []:
            if (target.provider, target.target_type, target.target_id) == (
                page.provider,
                page.target_type,
                page.target_id,
            ):
                return target
        return OnCall(page.provider, page.target_type, page.target_id)

    def _page_of(self, view: IncidentView, page: IncidentPage, target: OnCall) -> Page:
        names = [s.name for s in self._config.severities]
        incident = view.incident
        rank = names.index(incident.severity) if incident.severity in names else len(names) - 1
        return Page(
            incident_ref=view.ref,
            title=incident.title,
            severity=incident.severity,
            severity_rank=rank,
            service=page.name,
            target=target,
            channel_id=incident.channel_id,
        )


@dataclass
class _Outcome:
    """What concurrent steps achieved, stored together once they are all done."""

    rows: list[IncidentPage] = field(default_factory=list)
    notes: list[IncidentEvent] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.rows, self.notes, self.invited = [], [], []


def _set_posting(incident: Incident, posting: dict[str, bool]) -> None:
    """Add or remove `posting:` marks in the incident's steps_done."""
    steps = [
        s
        for s in incident.steps_done
        if not s.startswith(POSTING) or posting.get(s.removeprefix(POSTING), True)
    ]
    steps += [POSTING + k for k, on in posting.items() if on and POSTING + k not in steps]
    if steps != incident.steps_done:
        incident.steps_done = steps


def _note(incident: Incident, text: str, at: datetime) -> IncidentEvent:
    assert incident.id is not None
    return IncidentEvent(incident_id=incident.id, at=at, actor="", kind="note", text=text)


def _provider(provider: str) -> str:
    return {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie", "slack": "Slack"}.get(
        provider, provider
    )

"""Bringing Slack in line with an incident's rows: its channel, topic, members, cards,
messages and pages. Each step looks at stored state, does what is missing and stores that
it did, so running the sync again (after a Slack failure, a crash, on another replica) only
does what is left. A lease on the incident row keeps it to one process at a time (`_Lease`).

This module runs the steps, in order and at once where they can be; each step is a part of
its own: the channel, its purpose, topic and invitations (`sync_channel`), the card
(`sync_card`), the announcement (`sync_announcement`), the pages (`sync_paging`), the events
said in the channel (`sync_events`) and the postmortem upload (`sync_postmortem`); what they
share (posting once under the lease, their outcome) is in `sync_posting`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.catalog.api import CatalogReader
from switchboard.bot.incidents import messages
from switchboard.bot.incidents.postmortem import PostmortemService
from switchboard.bot.incidents.sync_announcement import AnnouncementStep
from switchboard.bot.incidents.sync_card import CardStep
from switchboard.bot.incidents.sync_channel import ChannelSteps
from switchboard.bot.incidents.sync_events import EventPosts
from switchboard.bot.incidents.sync_paging import PagingStep
from switchboard.bot.incidents.sync_posting import LEASE, POSTING, Outcome, Poster, set_posting
from switchboard.bot.incidents.sync_postmortem import PostmortemUpload
from switchboard.bot.incidents.views import incident_view
from switchboard.bot.paging import Pagers
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.logs import about_incident, incident_scope
from switchboard.bot.platform.outside_calls import under_lease
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.storage import incident_store, postmortem_stats_store
from switchboard.storage.tables import Incident

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
FRESH = 0.1  # a lease renewed less than this share of its length ago is not renewed again


class LeaseLost(Exception):
    """The incident's lease ran out and another process took it: this run posts no more."""


class _Lease:
    """A run's hold on one incident row, identified by when it ends (no two takes end at the
    same moment). It is renewed before a post or page unless it was taken or renewed less
    than a tenth of its length ago (`FRESH`), so each is sent with nine tenths of a lease
    or more ahead of it, and each is cut short at half of it (`under_lease`): no other
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

    def hold(self, until: datetime) -> None:
        """Go on with a lease this process took when it wrote the row (to `until`)."""
        self._until = until

    async def renew(self) -> None:
        # The steps posting at once after the channel is made would otherwise each write the
        # row, one after the other, before their posts could go.
        async with self._renewing:
            assert self._until is not None
            until = self._clock() + self._length
            if until - self._until < self._length * FRESH:
                return  # still nine tenths of a lease ahead, or more
            async with self._sessions() as session:
                if not await incident_store.renew_lease(
                    session, self._incident_id, self._until, until
                ):
                    raise LeaseLost(f"incident {self._incident_id}")
            self._until = until

    async def end(self) -> None:
        assert self._until is not None
        if self.in_doubt:
            log.info("a post got no answer: keeping the lease until %s before looking", self._until)
            return
        async with self._renewing, self._sessions() as session:
            await incident_store.release_lease(session, self._incident_id, self._until)


class IncidentSync:
    def __init__(
        self, deps: Deps, catalog: CatalogReader, pagers: Pagers, postmortems: PostmortemService
    ) -> None:
        self._sessions = deps.sessions
        self._clock = deps.clock
        config, poster = deps.config.incidents, Poster(deps.gateway)
        self._channel = ChannelSteps(deps.gateway, config)
        self._card = CardStep(deps.gateway, config, poster)
        self._announcement = AnnouncementStep(deps.gateway, config, poster, deps.clock)
        self._paging = PagingStep(config, catalog, pagers, deps.clock)
        self._events = EventPosts(poster)
        self._postmortem = PostmortemUpload(postmortems, deps.clock)
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

    async def run(self, incident_id: int, held: datetime | None = None) -> bool:
        """Sync one incident; True when Slack is fully in line with it. `held`: the lease
        this process already holds on it, to the moment stored (a declare's own)."""
        self._wanted.add(incident_id)
        done = False
        with incident_scope():
            while incident_id in self._wanted:
                lease = _Lease(self._sessions, incident_id, self._clock, self._lease)
                if held is not None:
                    lease.hold(held)
                    held = None  # a second round takes it as any run does
                elif not await lease.take(self._clock()):
                    return False  # the run holding it sees the ask when it ends
                self._wanted.discard(incident_id)  # this run reads the incident as it is now
                done = await self._run(incident_id, lease)
        return done

    async def _run(self, incident_id: int, lease: _Lease) -> bool:
        LEASE.set(lease)
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
        out = Outcome()
        in_doubt = {s.removeprefix(POSTING) for s in incident.steps_done if s.startswith(POSTING)}
        # The announcement channel is looked up while the incident channel is created, and
        # the rows the next steps need are read meanwhile.
        first = asyncio.gather(
            self._channel.create(incident),
            self._announcement.target(incident, out),
            return_exceptions=True,
        )
        # No autoflush while the steps change the row: a flush running at the same moment
        # would mark a change made during it as saved without writing it.
        with session.no_autoflush:
            services = await incident_store.services(session, incident_id)
            roles = await incident_store.current_roles(session, incident_id)
            participants = await incident_store.participants(session, incident_id)
            pages = await incident_store.pages(session, incident_id)
        await self._store(session, incident, out, await first)
        # What the steps render, once the channel is there; they write to the row itself.
        view = incident_view(incident, services, roles)
        # Everything else depends on nothing but the channel: all at once, the announcement
        # sent first (it is what the rest of the company waits for), then the card.
        waiting = [p.user_id for p in participants if not p.invited]
        steps = (
            self._announcement.run(incident, view, "announce" in in_doubt),
            self._card.run(incident, view, "card" in in_doubt),
            self._channel.invite(incident, waiting, out),
            self._channel.purpose(incident),
            self._channel.topic(incident, view),
            *(self._paging.run(view, page, out) for page in pages),
        )
        await self._store(
            session, incident, out, await asyncio.gather(*steps, return_exceptions=True)
        )
        await self._events.run(session, incident, "events" in in_doubt)
        if await self._postmortem.run(session, incident):
            await self._events.run(session, incident)
        for step in self.after:
            await step(incident)
        return True

    async def _store(
        self, session: AsyncSession, incident: Incident, out: Outcome, results: Sequence[object]
    ) -> None:
        """Store what concurrent steps achieved (all of it, even when one failed), then raise
        the first failure for the retry."""
        self._track_posts(incident)
        incident_store.add(session, incident, *out.rows, *out.notes)
        if out.invited:
            assert incident.id is not None
            await incident_store.mark_invited(session, incident.id, out.invited)
        await incident_store.save(session)
        out.clear()
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]

    def _track_posts(self, incident: Incident) -> None:
        """Mark the card and the announcement as being posted from when they can be (the
        mark is stored before they are sent), and unmark them once their ts is stored."""
        posting = {
            "card": bool(incident.channel_id) and not incident.card_ts,
            "announce": self._announcement.due(incident),
        }
        set_posting(incident, posting)

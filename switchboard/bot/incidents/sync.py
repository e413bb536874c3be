"""Bringing Slack in line with an incident's rows: its channel, topic, members, cards,
messages and pages. Each step looks at stored state, does what is missing and stores that
it did, so running the sync again (after a Slack failure, a crash, on another replica) only
does what is left. A lease on the incident row keeps it to one process at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.catalog.model import OnCall
from switchboard.bot.config import IncidentsConfig
from switchboard.bot.incidents import messages
from switchboard.bot.incidents.messages import IncidentView
from switchboard.bot.owner import OwnerService
from switchboard.bot.paging import Page, PageReceipt, Pagers, PagingError
from switchboard.bot.slack_gateway import SlackFailure, SlackGateway
from switchboard.bot.text import safe
from switchboard.storage import incident_store
from switchboard.storage.tables import Incident, IncidentEvent, IncidentPage

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
LEASE = timedelta(minutes=2)
NO_CHANNEL = "-"  # announce_channel_id when the announcement channel does not exist
MAX_NAME_ATTEMPTS = 5


class IncidentSync:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: IncidentsConfig,
        gateway: SlackGateway,
        catalog: OwnerService,
        pagers: Pagers,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._gateway = gateway
        self._catalog = catalog
        self._pagers = pagers
        self._clock = clock

    async def run_due(self) -> None:
        """The scheduler's job: sync every incident whose Slack side lags behind."""
        async with self._sessions() as session:
            due = await incident_store.out_of_sync(session, self._clock())
        for incident_id in due:
            await self.run(incident_id)

    async def run(self, incident_id: int) -> bool:
        """Sync one incident; True when Slack is fully in line with it."""
        now = self._clock()
        async with self._sessions() as session:
            if not await incident_store.take_lease(session, incident_id, now, now + LEASE):
                return False  # another process is on it
            try:
                return await self._steps(session, incident_id)
            except SlackFailure as failure:
                log.warning("INC sync %s stopped at %s; will retry", incident_id, failure)
                return False
            finally:
                await session.rollback()
                await incident_store.release_lease(session, incident_id)

    async def _steps(self, session: AsyncSession, incident_id: int) -> bool:
        incident = await incident_store.by_id(session, incident_id)
        if incident is None:
            return True
        await self._channel(session, incident)
        await self._purpose(session, incident)
        await self._invites(session, incident)
        view = IncidentView(
            incident,
            await incident_store.services(session, incident_id),
            await incident_store.current_roles(session, incident_id),
        )
        await self._topic(session, view)
        await self._card(session, view)
        await self._announcement(session, view)
        await self._pages(session, view)
        await self._events(session, incident)
        return True

    async def _save(self, session: AsyncSession, *rows: object) -> None:
        for row in rows:
            session.add(row)
        await session.commit()

    async def _channel(self, session: AsyncSession, incident: Incident) -> None:
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
            await self._save(session, incident)
            return
        raise SlackFailure("conversations.create", "name_taken", retryable=False)

    async def _is_ours(self, channel: dict[str, object], incident: Incident) -> bool:
        creator = channel.get("creator")
        purpose = str((channel.get("purpose") or {}).get("value", ""))  # type: ignore[attr-defined]
        mine = bool(channel.get("is_member")) and creator == await self._gateway.bot_user_id()
        return mine and (
            not purpose or purpose.startswith(f"Incident {messages.ref(incident.number)}:")
        )

    async def _purpose(self, session: AsyncSession, incident: Incident) -> None:
        if "purpose" in incident.steps_done:
            return
        view = IncidentView(incident)
        await self._gateway.set_purpose(incident.channel_id, messages.purpose(view))
        incident.steps_done = [*incident.steps_done, "purpose"]
        await self._save(session, incident)

    async def _invites(self, session: AsyncSession, incident: Incident) -> None:
        assert incident.id is not None
        waiting = [
            p.user_id
            for p in await incident_store.participants(session, incident.id)
            if not p.invited
        ]
        if not waiting:
            return
        try:
            await self._gateway.invite(incident.channel_id, waiting)
        except SlackFailure as failure:
            if failure.retryable:
                raise
            # Nobody invitable left (all already in, or unknown): nothing more to do.
            log.info("invites to %s: %s", incident.channel_id, failure.error)
        await incident_store.mark_invited(session, incident.id, waiting)
        await session.commit()

    async def _topic(self, session: AsyncSession, view: IncidentView) -> None:
        incident = view.incident
        if incident.topic_version >= incident.version:
            return
        version = incident.version
        await self._gateway.set_topic(incident.channel_id, messages.topic(view))
        incident.topic_version = version
        await self._save(session, incident)

    async def _card(self, session: AsyncSession, view: IncidentView) -> None:
        incident = view.incident
        if incident.card_version >= incident.version:
            return
        version = incident.version
        text, blocks = messages.card(view, self._config, buttons=True)
        if incident.card_ts:
            await self._gateway.update(incident.channel_id, incident.card_ts, text, blocks)
        else:
            incident.card_ts = await self._gateway.post(incident.channel_id, text, blocks)
        incident.card_version = version
        await self._save(session, incident)

    async def _announcement(self, session: AsyncSession, view: IncidentView) -> None:
        incident = view.incident
        if incident.announce_version >= incident.version:
            return
        version = incident.version
        hidden = incident.private and self._config.private_in_public == "hide"
        if not hidden and incident.announce_channel_id != NO_CHANNEL:
            await self._announce(session, view)
        incident.announce_version = version
        await self._save(session, incident)

    async def _announce(self, session: AsyncSession, view: IncidentView) -> None:
        incident = view.incident
        if incident.private:
            text, blocks = messages.private_card(view)
        else:
            text, blocks = messages.card(view, self._config, buttons=False)
        if incident.announce_ts:
            await self._gateway.update(
                incident.announce_channel_id, incident.announce_ts, text, blocks
            )
            return
        channel = await self._announce_channel()
        if channel is None:
            incident.announce_channel_id = NO_CHANNEL
            note = (
                f"I could not announce this incident: there is no channel "
                f"`{safe(self._config.announce_channel, 80)}` that I can post in."
            )
            session.add(_note(incident, note, self._clock()))
            return
        incident.announce_ts = await self._gateway.post(channel, text, blocks)
        incident.announce_channel_id = channel

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

    async def _events(self, session: AsyncSession, incident: Incident) -> None:
        assert incident.id is not None
        for event in await incident_store.unposted_events(session, incident.id):
            event.posted_ts = await self._gateway.post(incident.channel_id, event.text)
            await self._save(session, event)

    async def _pages(self, session: AsyncSession, view: IncidentView) -> None:
        incident = view.incident
        assert incident.id is not None
        now = self._clock()
        for page in await incident_store.pages(session, incident.id):
            if page.next_attempt_at > now:
                continue
            if page.status == "pending" and not view.resolved:
                await self._trigger(session, view, page, now)
            elif page.status == "triggered" and view.resolved:
                await self._resolve(session, view, page, now)

    async def _trigger(
        self, session: AsyncSession, view: IncidentView, page: IncidentPage, now: datetime
    ) -> None:
        try:
            target = await self._target(page)
            receipt = await self._pagers.for_target(target).trigger(self._page(view, page, target))
        except PagingError as error:
            self._failed(session, view.incident, page, str(error), error.retryable, now)
            await session.commit()
            return
        page.status, page.receipt, page.error = "triggered", receipt.key, ""
        note = f"Paged the on-call of *{safe(page.name, 100)}* through {_provider(page.provider)}."
        session.add(_note(view.incident, note, now))
        await self._save(session, page)

    async def _resolve(
        self, session: AsyncSession, view: IncidentView, page: IncidentPage, now: datetime
    ) -> None:
        try:
            target = await self._target(page)
            receipt = PageReceipt(page.provider, page.receipt)
            await self._pagers.for_target(target).resolve(self._page(view, page, target), receipt)
        except PagingError as error:
            if error.retryable:
                page.next_attempt_at = now + self._backoff(page)
                page.attempts += 1
                await self._save(session, page)
                return
            log.info("resolving page %s failed for good: %s", page.id, error)
        page.status = "resolved"
        await self._save(session, page)

    def _failed(
        self,
        session: AsyncSession,
        incident: Incident,
        page: IncidentPage,
        error: str,
        retryable: bool,
        now: datetime,
    ) -> None:
        first = page.attempts == 0
        page.attempts += 1
        page.error = error
        if retryable:
            page.next_attempt_at = now + self._backoff(page)
        else:
            page.status = "failed"
        session.add(page)
        if first or not retryable:  # say it once, not on every retry
            then = "I will keep trying." if retryable else "Page them another way."
            note = (
                f"Paging the on-call of *{safe(page.name, 100)}* through "
                f"{_provider(page.provider)} failed: {safe(error, 300)}. {then}"
            )
            session.add(_note(incident, note, now))

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

    def _page(self, view: IncidentView, page: IncidentPage, target: OnCall) -> Page:
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


def _note(incident: Incident, text: str, at: datetime) -> IncidentEvent:
    assert incident.id is not None
    return IncidentEvent(incident_id=incident.id, at=at, actor="", kind="note", text=text)


def _provider(provider: str) -> str:
    return {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie", "slack": "Slack"}.get(
        provider, provider
    )

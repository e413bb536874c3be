"""Paging the on-call of an incident's services: each pending page triggered (retried with
backoff, said once in the channel when it fails), each triggered one resolved with the
incident."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.bot.catalog.api import CatalogReader, OnCall
from switchboard.bot.incidents import messages
from switchboard.bot.incidents.sync_posting import LEASE, Outcome, note
from switchboard.bot.incidents.views import IncidentData, IncidentView
from switchboard.bot.paging import Page, PageReceipt, Pagers, PagingError
from switchboard.bot.platform.config import IncidentsConfig
from switchboard.bot.platform.text import safe
from switchboard.storage.tables import IncidentPage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PagingStep:
    config: IncidentsConfig
    catalog: CatalogReader
    pagers: Pagers
    clock: Callable[[], datetime]

    async def run(self, view: IncidentView, page: IncidentPage, out: Outcome) -> None:
        now = self.clock()
        if page.next_attempt_at > now:
            return
        if page.status == "pending" and not view.resolved:
            await self._trigger(view, page, out, now)
        elif page.status == "triggered" and view.resolved:
            await self._resolve(view, page, out, now)

    async def _trigger(
        self, view: IncidentView, page: IncidentPage, out: Outcome, now: datetime
    ) -> None:
        out.rows.append(page)
        lease = LEASE.get()
        await lease.renew()
        try:
            target = await self._target(page)
            async with asyncio.timeout(lease.call_within):  # pagers have their own timeout too
                receipt = await self.pagers.for_target(target).trigger(
                    self._page_of(view, page, target)
                )
        except TimeoutError:
            self._failed(view.incident, page, "no answer in time", True, out, now)
            return
        except PagingError as error:
            self._failed(view.incident, page, str(error), error.retryable, out, now)
            return
        page.status, page.receipt, page.error = "triggered", receipt.key, ""
        said = f"Paged the on-call of *{safe(page.name, 100)}* through {_provider(page.provider)}."
        out.notes.append(note(view.incident.id, said, now))

    async def _resolve(
        self, view: IncidentView, page: IncidentPage, out: Outcome, now: datetime
    ) -> None:
        out.rows.append(page)
        try:
            target = await self._target(page)
            receipt = PageReceipt(page.provider, page.receipt)
            await self.pagers.for_target(target).resolve(self._page_of(view, page, target), receipt)
        except PagingError as error:
            if error.retryable:
                page.next_attempt_at = now + self._backoff(page)
                page.attempts += 1
                return
            log.info("resolving page %s failed for good: %s", page.id, error)
        page.status = "resolved"

    def _failed(
        self,
        incident: IncidentData,
        page: IncidentPage,
        error: str,
        retryable: bool,
        out: Outcome,
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
                note(
                    incident.id,
                    (
                        f"Paging the on-call of *{safe(page.name, 100)}* through "
                        f"{_provider(page.provider)} failed: {safe(error, 300)}. {then}"
                    ),
                    now,
                )
            )

    def _backoff(self, page: IncidentPage) -> timedelta:
        return timedelta(seconds=min(self.config.retry_seconds * 2 ** min(page.attempts, 6), 3600))

    async def _target(self, page: IncidentPage) -> OnCall:
        """The catalog's on-call target, with its integration key (never stored with us)."""
        contacts = await self.catalog.contacts(page.entity_ref)
        for target in contacts.oncall if contacts else []:
            if (target.provider, target.target_type, target.target_id) == (
                page.provider,
                page.target_type,
                page.target_id,
            ):
                return target
        return OnCall(page.provider, page.target_type, page.target_id)

    def _page_of(self, view: IncidentView, page: IncidentPage, target: OnCall) -> Page:
        names = [s.name for s in self.config.severities]
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


def _provider(provider: str) -> str:
    return {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie", "slack": "Slack"}.get(
        provider, provider
    )

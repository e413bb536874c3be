"""The catalog: its reader (what `/owner` and every feature read), its importer, `/owner`,
and the job that re-imports SWITCHBOARD_CATALOG."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncApp

from switchboard.bot.catalog.loader import auto_workers
from switchboard.bot.catalog.reader import CatalogReader
from switchboard.bot.catalog.service import CatalogService, ImportReport
from switchboard.bot.platform.jobs import Job, Run, every
from switchboard.handlers import owner
from switchboard.storage import catalog_store
from switchboard.wiring.core import Core, Feature

log = logging.getLogger("switchboard")


@dataclass
class CatalogFeature(Feature):
    core: Core
    reader: CatalogReader
    service: CatalogService
    # What is read again with the catalog (the scorecard files), before it.
    before_sync: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def listeners(self, bolt: AsyncApp, lane: asyncio.Semaphore) -> None:
        owner.register(bolt, self.reader, lane)

    async def sync(self) -> ImportReport | None:
        """Bring the database in line with SWITCHBOARD_CATALOG. A failed import is logged
        and leaves the previous catalog in place (as a malformed scorecard file keeps the
        scorecards the bot had)."""
        for reload in self.before_sync:
            await reload()
        paths = self.core.settings.catalog_paths
        if not paths:
            return None
        report = await self.service.import_paths(paths)
        self.core.redactor.add(
            o.integration_key for e in report.parsed.entities for o in e.oncall if o.integration_key
        )
        for problem in report.parsed.warnings:
            log.warning("catalog: %s", problem)
        for problem in report.parsed.errors:
            log.error("catalog: %s", problem)
        if report.stats:
            log.info("catalog synced: %s", report.stats)
        return report

    async def resolve(self, given: str) -> str:
        """The ref of the entity `given` names (a ref, an id or an alias), "" when none."""
        async with self.core.sessions() as session:
            if await catalog_store.entities_by_ref(session, [given.strip()]):
                return given.strip()
        found, _ = await self.reader.find(given)
        return found.ref if found is not None else ""

    async def prepare(self) -> None:
        """Before traffic: the pager keys imported before kept out of the logs, the catalog
        synced, the lookup indexes built."""
        async with self.core.sessions() as session:
            self.core.redactor.add(await catalog_store.integration_keys(session))
        await self.sync()
        await self.reader.warm()

    def jobs(self) -> list[Job]:
        async def sync_catalog(run: Run) -> str:
            report = await self.sync()
            if report is None:
                return "SWITCHBOARD_CATALOG is not set: nothing to sync"
            if report.stats is None:
                return f"catalog unchanged: {len(report.parsed.errors)} error(s), see the log"
            return f"catalog synced: {report.stats}"

        minutes = self.core.config.catalog.sync_minutes
        trigger = every(self.core.config.tz, minutes=minutes)
        return [Job("catalog-sync", "re-import SWITCHBOARD_CATALOG", trigger, sync_catalog)]


def wire_catalog(core: Core) -> CatalogFeature:
    reader = CatalogReader(core.sessions, core.gateway)
    workers = core.settings.catalog_workers or auto_workers()
    return CatalogFeature(core, reader, CatalogService(core.sessions, reader.recheck, workers))

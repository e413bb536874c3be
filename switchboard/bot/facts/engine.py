"""The refresh of one source: take its lease (replicas never fetch the same thing twice),
fetch what is past its TTL at the source's pace, store values (history on change), and on a
failure keep every value, mark it, and back off exponentially (or as long as the source
said to wait)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from switchboard.bot.facts.source import SOURCE_WIDE, Failure, Source, SourceError, Target
from switchboard.storage.facts_store import FactsStore, Observation

log = logging.getLogger(__name__)
Now = Callable[[], datetime]
_FLUSH = 500  # observations stored per transaction


@dataclass(frozen=True, slots=True)
class Backoff:
    base: timedelta = timedelta(seconds=30)
    most: timedelta = timedelta(hours=1)

    def after(self, failures: int, retry_after: float | None) -> timedelta:
        """How long to leave a source alone after its `failures`-th failure in a row: as
        long as it asked (`Retry-After`), else doubling from `base` up to `most`."""
        if retry_after is not None:
            return timedelta(seconds=retry_after)
        doubled: timedelta = self.base * (2 ** max(failures - 1, 0))
        return min(doubled, self.most)


@dataclass(slots=True)
class Report:
    source: str
    skipped: str = ""  # why nothing was fetched: "lease held elsewhere", "backing off..."
    due: int = 0
    fetched: int = 0
    changed: int = 0
    errors: list[str] = field(default_factory=list)  # per target, worded for people
    stopped: str = ""  # the source-wide error that ended the run


class RefreshEngine:
    def __init__(
        self,
        store: FactsStore,
        now: Now,
        owner: str,
        *,
        lease: timedelta = timedelta(minutes=5),
        backoff: Backoff | None = None,
    ) -> None:
        self._store = store
        self._now = now
        self._owner = owner
        self._lease = lease
        self._backoff = backoff or Backoff()

    async def refresh(
        self, source: Source, targets: Sequence[Target], *, force: bool = False
    ) -> Report:
        """Fetch every target of `source` whose facts are past the TTL (all with `force`)."""
        report = Report(source.name)
        now = self._now()
        state = await self._store.state(source.name)
        if state and state.retry_at and now < state.retry_at:
            report.skipped = f"backing off until {state.retry_at.isoformat()}"
            return report
        if not await self._store.take_lease(source.name, self._owner, now, now + self._lease):
            report.skipped = "lease held elsewhere"
            return report
        try:
            due = await self._due(source, targets, now, force)
            report.due = len(due)
            await _Run(self, source, report).run(due)
        finally:
            await self._store.release_lease(source.name, self._owner)
        return report

    async def fetch_one(self, source: Source, target: Target) -> list[Observation]:
        """A cold miss (`/owner` for an entity with no on-call fact yet): one fetch, no
        lease (one target, one round trip), stored as a refresh would. A failure is
        recorded on the entity's facts and raised."""
        try:
            values = await source.fetch(target)
        except SourceError as error:
            await self._store.fail(source.name, [target.entity], str(error), self._now())
            raise
        observations = [Observation(target.entity, v.key, v.value, v.observed_at) for v in values]
        await self._store.record(source.name, observations, self._now())
        return observations

    async def _due(
        self, source: Source, targets: Sequence[Target], now: datetime, force: bool
    ) -> list[Target]:
        fetched = await self._store.fetched(source.name)
        seen: set[str] = set()
        due = []
        for target in targets:
            if target.entity in seen:
                continue  # one target per entity and source: facts are keyed by entity
            seen.add(target.entity)
            last = fetched.get(target.entity)
            if force or last is None or last + source.ttl <= now:
                due.append(target)
        return due


class _Run:
    """One pass over the due targets of one source, `source.concurrency` at a time."""

    def __init__(self, engine: RefreshEngine, source: Source, report: Report) -> None:
        self.engine = engine
        self.source = source
        self.report = report
        self.pending: list[Observation] = []
        self.stop: SourceError | None = None
        self.lease_until = engine._now() + engine._lease
        self.unfetched: list[str] = []

    async def run(self, due: Sequence[Target]) -> None:
        store, name = self.engine._store, self.source.name
        queue = list(reversed(due))
        workers = [self._work(queue) for _ in range(max(1, self.source.concurrency))]
        await asyncio.gather(*workers)
        await self._flush()
        now = self.engine._now()
        budget = self.source.budget()
        pair = (budget.remaining, budget.reset_at) if budget else None
        if self.stop is None:
            await store.succeeded(name, now, pair)
            return
        self.report.stopped = str(self.stop)
        state = await store.state(name)
        failures = (state.failures if state else 0) + 1
        wait = self.engine._backoff.after(failures, self.stop.retry_after)
        await store.failed(name, str(self.stop), now, now + wait, pair)
        # The values stay; they are marked as coming from a failing source. A refused
        # token taints everything the source gave; a rate limit only what it could not renew.
        entities = (
            None if self.stop.kind is Failure.AUTH else self.unfetched + [t.entity for t in queue]
        )
        await store.fail(name, entities, str(self.stop), now)
        log.warning("facts: %s stopped: %s", name, self.stop)

    async def _work(self, queue: list[Target]) -> None:
        while queue and self.stop is None:
            target = queue.pop()
            try:
                values = await self.source.fetch(target)
            except SourceError as error:
                await self._failed(target, error)
                continue
            at = self.engine._now()
            self.pending += [
                Observation(target.entity, v.key, v.value, v.observed_at) for v in values
            ]
            self.report.fetched += 1
            if len(self.pending) >= _FLUSH:
                await self._flush()
            await self._renew(at)

    async def _failed(self, target: Target, error: SourceError) -> None:
        if error.kind in SOURCE_WIDE:
            if self.stop is None:
                self.stop = error
            self.unfetched.append(target.entity)
            return
        self.report.errors.append(f"{target.entity}: {error}")
        await self.engine._store.fail(
            self.source.name, [target.entity], str(error), self.engine._now()
        )

    async def _flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        self.report.changed += await self.engine._store.record(
            self.source.name, batch, self.engine._now()
        )

    async def _renew(self, now: datetime) -> None:
        """Keep the lease while the run lasts; a run that lost it stops (another process
        took over after this one overran)."""
        lease = self.engine._lease
        if now < self.lease_until - lease / 2:
            return
        self.lease_until = now + lease
        if not await self.engine._store.take_lease(
            self.source.name, self.engine._owner, now, self.lease_until
        ):
            self.stop = SourceError(Failure.UNAVAILABLE, "lease lost to another process")

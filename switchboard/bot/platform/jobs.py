"""The registry of named jobs: what runs on the bot's schedule (APScheduler 3) and what
`switchboard jobs list|run` shows and runs. One definition serves both, so the command line
runs exactly what the scheduler would."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from switchboard.bot.platform.metrics import Metrics

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 2.0  # what a run in progress gets to finish when the bot stops


class JobRefused(Exception):
    """A run cannot be done as asked (say, an unknown team); the message says why."""


@dataclass(frozen=True, slots=True)
class Run:
    """How a job is run: `team` narrows it to one team (a catalog team's name); `manual`
    (an operator's `switchboard jobs run`) runs it even when the clock says nothing is due."""

    team: str = ""
    manual: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    description: str
    trigger: BaseTrigger
    run: Callable[[Run], Awaitable[str]]  # returns what it did, in a line or a few
    per_team: bool = False  # whether it takes `--team`
    # Also run as soon as the scheduler starts: what fell due while the bot was down (a
    # digest, a nag) goes out at once instead of at the job's next time.
    at_start: bool = False


def every(tz: tzinfo, *, minutes: float = 0, seconds: float = 0, hours: float = 0) -> BaseTrigger:
    return IntervalTrigger(hours=hours, minutes=minutes, seconds=seconds, timezone=tz)


def cron(tz: tzinfo, **fields: str | int) -> BaseTrigger:
    """A cron trigger in the configured time zone, e.g. `cron(tz, day_of_week="mon", hour=9)`."""
    return CronTrigger(timezone=tz, **fields)


class Jobs:
    def __init__(self, jobs: Iterable[Job]) -> None:
        self._jobs: dict[str, Job] = {}
        for job in jobs:
            if job.name in self._jobs:
                raise ValueError(f"two jobs are called {job.name!r}")
            self._jobs[job.name] = job
        self._running: set[asyncio.Task[None]] = set()
        self._said: dict[str, str] = {}  # each job's last outcome, to log changes at INFO

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def get(self, name: str) -> Job | None:
        return self._jobs.get(name)

    def schedule(
        self,
        scheduler: AsyncIOScheduler,
        metrics: Metrics | None = None,
        now: datetime | None = None,
    ) -> None:
        """Add every job; a run still going when the next is due is not started twice."""
        now = now or datetime.now(UTC)
        for job in self:
            first = {"next_run_time": now} if job.at_start else {}
            scheduler.add_job(
                _scheduled(job, metrics, self._running, self._said),
                trigger=job.trigger,
                id=job.name,
                name=job.name,
                max_instances=1,
                coalesce=True,
                **first,
            )

    async def stop(self) -> None:
        """Let the runs in progress finish for a moment, then cancel the rest and wait for
        them, so none is left holding a database connection when the engine is disposed
        (the scheduler does not wait for coroutine jobs). The moment spares most runs being
        cancelled mid-query: aiosqlite then fails the connection's reset, which SQLAlchemy
        logs with a traceback."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=STOP_GRACE_SECONDS)
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)


def next_run(job: Job, now: datetime) -> datetime | None:
    """When the trigger fires next after `now` (interval jobs: counted from the start)."""
    fire: datetime | None = job.trigger.get_next_fire_time(None, now)
    return fire


def _scheduled(
    job: Job, metrics: Metrics | None, running: set[asyncio.Task[None]], said: dict[str, str]
) -> Callable[[], Awaitable[None]]:
    """One run, logged once with its outcome: APScheduler's own lines (two a run) are kept
    at WARNING (`SCHEDULER_LOG_LEVEL`). An outcome the same as the job's last (the sync
    every 30 s with nothing to do, a nag not due yet) is logged at DEBUG, so the log at INFO
    shows what changed: the first run, anything done, any failure."""

    async def run() -> None:
        task = asyncio.current_task()
        if task is not None:
            running.add(task)
            task.add_done_callback(running.discard)
        started = time.monotonic()
        try:
            outcome = " / ".join((await job.run(Run())).splitlines())
        except asyncio.CancelledError:
            # The bot is stopping: what the run did not finish, the next run does (the
            # ledger knows what was sent).
            log.info("job %s stopped with the bot", job.name)
            return
        except Exception:
            if metrics is not None:
                metrics.job(job.name, failed=True)
            said.pop(job.name, None)  # the next outcome is news again
            # APScheduler would log it too, without saying which of our jobs it was.
            log.exception("job %s failed; it runs again at its next time", job.name)
            return
        if metrics is not None:
            metrics.job(job.name, failed=False)
        level = logging.DEBUG if said.get(job.name) == outcome else logging.INFO
        said[job.name] = outcome
        log.log(level, "job %s: %s (%.1f s)", job.name, outcome, time.monotonic() - started)

    return run

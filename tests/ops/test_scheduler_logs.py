"""What the log says about scheduled jobs: nothing from APScheduler below WARNING unless
SCHEDULER_LOG_LEVEL asks, and one line per run of ours with its outcome (at INFO when it is
news: the first run, a changed outcome; at DEBUG when it is the same as the last)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from switchboard.app import start_scheduler, stop_scheduler
from switchboard.bot.platform.jobs import Job, Jobs, Run, every
from tests.incidents.conftest import World


@pytest.fixture(autouse=True)
def scheduler_logger() -> Iterator[None]:
    yield
    logging.getLogger("apscheduler").setLevel(logging.NOTSET)  # a process-wide setting


@pytest.mark.parametrize(("asked", "every_job"), [("WARNING", False), ("INFO", True)])
async def test_the_scheduler_says_nothing_unless_asked(
    world: World, caplog: pytest.LogCaptureFixture, asked: str, every_job: bool
) -> None:
    # each job, the facts' refresh jobs of the world's sources (Opsgenie, Slack) among them
    added = len(list(world.sb.jobs)) if every_job else 0
    caplog.set_level(logging.DEBUG)
    world.sb.core.settings = world.sb.core.settings.model_copy(
        update={"scheduler_log_level": asked}
    )
    scheduler = start_scheduler(world.sb)
    await stop_scheduler(world.sb, scheduler)
    theirs = [r for r in caplog.records if r.name.startswith("apscheduler")]
    assert all(r.levelno >= logging.getLevelName(asked) for r in theirs)
    tentative = [r for r in theirs if r.getMessage().startswith("Adding job tentatively")]
    assert len(tentative) == added


async def test_each_run_is_one_line_with_its_outcome(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes = iter(["0 sent", "0 sent", "2 sent\nskipped team Web: no channel", "boom", "0 sent"])

    async def counting(run: Run) -> str:
        outcome = next(outcomes)
        if outcome == "boom":
            raise RuntimeError("the database went away")
        return outcome

    caplog.set_level(logging.DEBUG, logger="switchboard")
    scheduler = AsyncIOScheduler(timezone=world.sb.core.config.tz)
    Jobs([Job("counting", "counts", every(world.sb.core.config.tz, hours=1), counting)]).schedule(
        scheduler
    )
    for _ in range(5):
        await scheduler.get_job("counting").func()
    said = [
        (r.levelname, r.getMessage().rpartition(" (")[0] or r.getMessage())
        for r in caplog.records
        if r.name == "switchboard.bot.platform.jobs"
    ]
    assert said == [
        ("INFO", "job counting: 0 sent"),
        ("DEBUG", "job counting: 0 sent"),
        ("INFO", "job counting: 2 sent / skipped team Web: no channel"),
        ("ERROR", "job counting failed; it runs again at its next time"),
        ("INFO", "job counting: 0 sent"),  # news again after a failure
    ]

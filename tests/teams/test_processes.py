"""Real `switchboard jobs` processes against one loopback Slack fake: two at once send each
nag once (PostgreSQL); one killed with SIGKILL in the middle of its fan-out, then run again,
sends the rest and repeats none; the `jobs list|run` command line."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from switchboard.app import build, prepare
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.delivery import EVENT_TYPE
from switchboard.fakes.slack.server import FakeSlack
from switchboard.settings import load_settings
from switchboard.storage import db
from switchboard.storage.tables import FollowUp, Incident
from tests.conftest import BOT_TOKEN, POSTGRES_URL, eventually

TEAMS = 20
ALICE = "U0001ALICE"


@dataclass
class Setup:
    env: dict[str, str]
    slack: FakeSlack
    channels: list[str]

    async def jobs(self, *args: str) -> tuple[int, str, str]:
        process = await self.start(*args)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "switchboard",
            "jobs",
            *args,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    def nags_posted(self) -> Counter[str]:
        """How many nags each team channel got."""
        return Counter(
            channel
            for channel in self.channels
            for m in self.slack.messages(channel)
            if m.extra.get("metadata", {}).get("event_type") == EVENT_TYPE
        )


@pytest.fixture
async def setup(tmp_path: Path, database_url: str, slack: FakeSlack) -> AsyncIterator[Setup]:
    """TEAMS teams with a channel each, and one overdue follow-up each."""
    teams = "\n".join(
        f"  - {{id: team-{i}, name: Team {i}, slack_channel: '#team-{i}'}}" for i in range(TEAMS)
    )
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f"switchboard: 1\nteams:\n{teams}\n")
    config = tmp_path / "config.yaml"
    config.write_text("delivery:\n  posts_per_minute: 600\n  lease_seconds: 2\n")
    channels = [slack.add_channel(f"team-{i}") for i in range(TEAMS)]
    settings = load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=database_url,
        SWITCHBOARD_CATALOG=str(catalog),
    )
    sb = build(settings, Config())
    await prepare(sb)
    now = datetime.now(UTC)
    async with db.session_factory(sb.core.engine)() as session:
        incident = Incident(
            number=1,
            request_key="test",
            title="Checkout down",
            severity="SEV2",
            status="resolved",
            declared_by=ALICE,
            declared_at=now,
            last_update_at=now,
        )
        session.add(incident)
        await session.flush()
        assert incident.id is not None
        for i in range(TEAMS):
            session.add(
                FollowUp(
                    incident_id=incident.id,
                    text=f"Fix thing {i}",
                    owner_team=f"group:default/team-{i}",
                    due=now.date() - timedelta(days=2),
                    created_by=ALICE,
                    created_at=now,
                )
            )
        await session.commit()
    await sb.close()
    env = os.environ | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        "SWITCHBOARD_CONFIG": str(config),
    }
    env.pop("SWITCHBOARD_CATALOG", None)
    yield Setup(env, slack, channels)


def sent(output: str) -> int:
    match = re.search(r"follow-up nags for \S+: (\d+) sent", output)
    assert match, output
    return int(match.group(1))


@pytest.mark.skipif(not POSTGRES_URL, reason="two processes on one database: PostgreSQL")
async def test_two_processes_at_once_send_each_nag_once(setup: Setup) -> None:
    first, second = await asyncio.gather(
        setup.jobs("run", "followup-nags"), setup.jobs("run", "followup-nags")
    )
    assert (first[0], second[0]) == (0, 0), first[2] + second[2]
    assert sent(first[1]) + sent(second[1]) == TEAMS
    assert setup.nags_posted() == Counter(dict.fromkeys(setup.channels, 1))


async def test_a_process_killed_mid_fan_out_is_finished_by_the_next_run(setup: Setup) -> None:
    # Every post takes a while, so the kill lands with posts in flight.
    setup.slack.fail("chat.postMessage", delay=0.4, times=TEAMS * 2)
    process = await setup.start("run", "followup-nags")
    await eventually(lambda: sum(setup.nags_posted().values()) >= 5, within=30)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    await asyncio.sleep(2.5)  # the posts in flight land; the dead process's claims go stale
    landed = sum(setup.nags_posted().values())
    assert landed < TEAMS
    code, out, err = await setup.jobs("run", "followup-nags")
    assert code == 0, err
    assert setup.nags_posted() == Counter(dict.fromkeys(setup.channels, 1))
    # Claims the dead process left were taken over: posts of it that landed were found in
    # the channel (not sent again), the others were sent.
    assert sent(out) == TEAMS - landed


async def test_jobs_list_and_run_on_the_command_line(setup: Setup) -> None:
    code, out, _ = await setup.jobs("list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["JOB", "NEXT", "RUN", "(UTC)"]
    names = [line.split()[0] for line in lines[1:]]
    assert names == [
        "forget-events",
        "catalog-sync",
        "incident-sync",
        "status-reminders",
        "scorecard-evaluation",
        "followup-nags",
        "scorecard-nags",
        "weekly-digest",
        "initiative-reminders",
        "facts-slack",  # the bot token reads Slack user groups' members
    ]
    assert all(re.search(r" \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", line) for line in lines[1:])
    # The columns line up under their headings, however long a job's name or trigger.
    starts = [lines[0].index(heading) for heading in ("NEXT RUN", "TRIGGER", "WHAT")]
    for line in lines[1:]:
        assert all(line[at - 1] == " " != line[at] for at in starts), line

    code, out, err = await setup.jobs("run", "followup-nags", "--team", "team-3")
    assert (code, out.strip()) == (0, f"follow-up nags for {datetime.now(UTC).date()}: 1 sent")
    assert setup.nags_posted() == Counter({setup.channels[3]: 1})

    code, _, err = await setup.jobs("run", "followup-nags", "--team", "team-99")
    assert code == 1 and "followup-nags: no team called 'team-99'" in err
    code, _, err = await setup.jobs("run", "nags")
    assert code == 2 and "no job called 'nags'; the jobs: forget-events, catalog-sync, " in err
    code, _, err = await setup.jobs("run", "forget-events", "--team", "team-3")
    assert code == 2 and "forget-events does not take --team" in err

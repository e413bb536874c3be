"""Two real `switchboard serve` processes on one PostgreSQL, started when this week's digest is
due: every team channel gets its digest exactly once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.bot.platform.delivery import EVENT_TYPE
from switchboard.fakes.slack.server import FakeSlack
from tests.conftest import BOT_TOKEN, POSTGRES_URL, SIGNING_SECRET, eventually
from tests.test_serve_process import start_serve, wait_healthy

TEAMS = 12
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def catalog(teams: int) -> str:
    lines = ["switchboard: 1", "teams:"]
    lines += [f"  - {{id: team-{i}, slack_channel: '#team-{i}'}}" for i in range(teams)]
    lines.append("services:")
    lines += [f"  - {{id: svc-{i}, owner: team-{i}, lifecycle: production}}" for i in range(teams)]
    return "\n".join(lines) + "\n"


SCORECARD = """\
scorecard: basics
levels: [Bronze]
filter: {lifecycles: [production]}
rules:
  - {id: owner, level: Bronze, check: field_present, field: owner}
  - {id: runbook, check: field_present, field: runbook}
"""


def digests(slack: FakeSlack, channels: list[str]) -> list[int]:
    return [
        sum(
            1
            for m in slack.messages(channel)
            if m.extra.get("metadata", {}).get("event_type") == EVENT_TYPE
            and m.text.startswith("Weekly digest")
        )
        for channel in channels
    ]


@pytest.mark.skipif(not POSTGRES_URL, reason="two processes on one database: PostgreSQL")
async def test_two_serve_processes_send_each_digest_once(
    tmp_path: Path, database_url: str, slack: FakeSlack
) -> None:
    (tmp_path / "catalog.yaml").write_text(catalog(TEAMS))
    (tmp_path / "basics.yaml").write_text(SCORECARD)
    today = WEEKDAYS[datetime.now(UTC).weekday()]
    (tmp_path / "config.yaml").write_text(
        f"timezone: UTC\ndigest: {{day: {today}, at: '00:00'}}\n"
        "scorecards: {paths: [basics.yaml]}\n"
        "delivery: {posts_per_minute: 600}\n"
    )
    channels = [slack.add_channel(f"team-{i}") for i in range(TEAMS)]
    env = os.environ | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        "SWITCHBOARD_CATALOG": str(tmp_path / "catalog.yaml"),
        "SWITCHBOARD_CONFIG": str(tmp_path / "config.yaml"),
    }
    # The first process migrates and imports; the second starts once it is up, while the
    # first is still sending (paced at one post a second per channel, in parallel).
    first, first_url = await start_serve(env)
    await wait_healthy(first_url, first)
    second, second_url = await start_serve(env)
    await wait_healthy(second_url, second)
    try:
        await eventually(lambda: all(digests(slack, channels)), within=60)
        await asyncio.sleep(1)  # room for a second copy to land, if one were on its way
    finally:
        for process in (first, second):
            process.send_signal(signal.SIGTERM)
        errors = [
            (await asyncio.wait_for(p.communicate(), 15))[1].decode() for p in (first, second)
        ]
    assert digests(slack, channels) == [1] * TEAMS
    assert "Traceback" not in "".join(errors), errors
    said = [int(n) for n in re.findall(r"weekly digest of \S+: (\d+) sent", "".join(errors))]
    assert sum(said) == TEAMS, errors

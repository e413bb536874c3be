"""What the benchmarks share: serving an aiohttp app on loopback, settings for a bot that
talks to the loopback Slack fake, and percentiles."""

from __future__ import annotations

import statistics
from pathlib import Path

from aiohttp import web

from switchboard.fakes.slack.server import FakeSlack
from switchboard.settings import Settings

SECRET = "bench-secret"


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on an ephemeral loopback port; the runner and the Slack events URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"


def settings(slack: FakeSlack, folder: Path, **extra: str) -> Settings:
    """A bot on a SQLite file in `folder`, talking to `slack`."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=f"sqlite:///{folder / 'bench.db'}",
        **extra,
    )


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]

"""Real `switchboard` processes for the fault tests: `serve` on a free port (started,
killed with SIGKILL, restarted, stopped), and one-shot commands such as `catalog import`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from switchboard.fakes.slack.server import FakeSlack
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.faults.conftest import ANN, BEN, CATALOG
from tests.test_serve_process import free_port, wait_healthy


def environment(slack_url: str, database_url: str, **extra: str) -> dict[str, str]:
    env = os.environ | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_url,
        "DATABASE_URL": database_url,
    }
    for name in ("SWITCHBOARD_CATALOG", "SWITCHBOARD_CONFIG"):
        env.pop(name, None)
    return env | extra


class Serve:
    """One `switchboard serve` process; its output goes to a log file per start."""

    def __init__(self, env: Mapping[str, str], folder: Path, name: str = "serve") -> None:
        self.env = dict(env)
        self.folder = folder
        self.name = name
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/slack/events"

    def log(self, start: int | None = None) -> str:
        numbers = [start] if start is not None else range(1, self.starts + 1)
        return "".join(
            (self.folder / f"{self.name}-{n}.log").read_text(errors="replace") for n in numbers
        )

    async def start(self, within: float = 30) -> None:
        self.starts += 1
        with (self.folder / f"{self.name}-{self.starts}.log").open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "switchboard",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                env=self.env,
                stdout=out,
                stderr=out,
            )
        await self.wait_healthy(within)

    async def wait_healthy(self, within: float) -> None:
        assert self.process is not None
        await wait_healthy(self.base, self.process, within, lambda: self.log()[-3000:])

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self, clean: bool = True) -> None:
        """SIGTERM and wait; a clean exit, and (`clean`) no traceback in any run's log."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 20)
            assert self.process.returncode == 0, self.log()[-3000:]
        if clean:
            assert "Traceback" not in self.log(), self.log()[-5000:]


async def command(env: Mapping[str, str], *args: str) -> asyncio.subprocess.Process:
    """`switchboard ARGS...` started, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchboard",
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def workspace(folder: Path, database_url: str, slack: FakeSlack) -> tuple[dict[str, str], str, str]:
    """The faults' catalog and config in `folder`, Ann and Ben in Slack, and #incidents and
    #general: the serve environment and the two channels' ids."""
    (folder / "catalog.yaml").write_text(CATALOG)
    (folder / "config.yaml").write_text("incidents:\n  retry_seconds: 5\n  lease_seconds: 2\n")
    slack.add_user("ann", user_id=ANN)
    slack.add_user("ben", user_id=BEN)
    announce = slack.add_channel("incidents")
    home = slack.add_channel("general")
    env = environment(
        slack.base_url,
        database_url,
        SWITCHBOARD_CATALOG=str(folder / "catalog.yaml"),
        SWITCHBOARD_CONFIG=str(folder / "config.yaml"),
    )
    return env, announce, home

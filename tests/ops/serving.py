"""`switchboard serve` as a real process against the fakes, its stderr kept whole."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tests.test_serve_process import free_port, wait_healthy


@dataclass
class Served:
    base: str
    stderr: list[str] = field(default_factory=list)  # its lines, as they are written

    @property
    def events_url(self) -> str:
        return f"{self.base}/slack/events"


@asynccontextmanager
async def serve(env: Mapping[str, str], *options: str) -> AsyncIterator[Served]:
    """Serve (with `options`, such as `--front`) with `env` over the test process's own
    environment (SWITCHBOARD_CONFIG aside); on the way out stop it with SIGTERM and keep what
    it wrote to stderr."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_CONFIG"} | dict(env)
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "switchboard", "serve", "--host", "127.0.0.1"),
        *("--port", str(port), *options),
        env=full,
        stderr=asyncio.subprocess.PIPE,
    )
    served = Served(f"http://127.0.0.1:{port}")
    # Read as it comes: a full pipe would stop a talkative (DEBUG) process mid-write.
    reading = asyncio.create_task(_lines(process, served.stderr))
    try:
        await wait_healthy(served.base, process)
        yield served
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(reading, process.wait()), 15)


async def _lines(process: asyncio.subprocess.Process, into: list[str]) -> None:
    assert process.stderr is not None
    async for line in process.stderr:
        into.append(line.decode().rstrip("\n"))


async def run_cli(*args: str, env: Mapping[str, str]) -> tuple[int, str, str]:
    """`switchboard ARGS...` to its end: exit code, stdout, stderr."""
    full = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_CONFIG"} | dict(env)
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "switchboard", *args),
        env=full,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()

"""`switchboard serve` as a real process: it migrates, imports the catalog, answers /owner
over HTTP, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from tests.conftest import BOT_TOKEN, EXAMPLES, SIGNING_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_healthy(
    base: str,
    process: asyncio.subprocess.Process,
    within: float = 15.0,
    log: Callable[[], str] = lambda: "",
) -> None:
    """Until `base`/healthz answers 200; a process that exits or stays unhealthy fails the
    test, with `log()` (what it printed) in the message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"serve exited with {process.returncode}: {log()}")
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"serve did not become healthy in {within:g} s: {log()}")


async def start_serve(env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    """`switchboard serve` on a free loopback port: the process and its base URL."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchboard",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture
async def served(database_url: str, slack: FakeSlack) -> AsyncIterator[str]:
    env = os.environ | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        "SWITCHBOARD_CATALOG": str(EXAMPLES),
    }
    env.pop("SWITCHBOARD_CONFIG", None)
    process, base = await start_serve(env)
    try:
        await wait_healthy(base, process)
        yield base
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
        assert process.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr, stderr.decode()


async def test_serve_answers_owner_over_http(served: str, slack: FakeSlack) -> None:
    async with SlackRequester(f"{served}/slack/events", SIGNING_SECRET, fake=slack) as requester:
        response = await requester.answer(
            "/owner", "gateway", user_id="U0001CAROL", channel_id="C0GENERAL"
        )
        assert response.status == 200
        assert response.json()["text"] == "API gateway: owned by Platform"
        forged = await requester.slash_command(
            "/owner", "gateway", user_id="U1", channel_id="C1", signature="v0=forged"
        )
        assert forged.status == 401

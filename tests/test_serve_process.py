"""`switchboard serve` as a real process, alone and with its front (`--front`): it migrates,
imports the catalog, answers /owner over HTTP, and stops cleanly on SIGTERM; its front dies
with it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

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


async def start_serve(env: dict[str, str], *options: str) -> tuple[asyncio.subprocess.Process, str]:
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
        *options,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    return process, f"http://127.0.0.1:{port}"


def serve_env(database_url: str, slack: FakeSlack) -> dict[str, str]:
    env = os.environ | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        "SWITCHBOARD_CATALOG": str(EXAMPLES),
    }
    env.pop("SWITCHBOARD_CONFIG", None)
    return env


@pytest.fixture(params=[(), ("--front",)], ids=["alone", "front"])
async def served(
    request: pytest.FixtureRequest, database_url: str, slack: FakeSlack
) -> AsyncIterator[str]:
    process, base = await start_serve(serve_env(database_url, slack), *request.param)
    try:
        await wait_healthy(base, process)
        yield base
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
        assert process.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr, stderr.decode()
        await refused(base)


async def refused(base: str, within: float = 5.0) -> None:
    """Until nothing answers at `base` any more (the front is gone too)."""
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as http:
        while asyncio.get_running_loop().time() < deadline:
            try:
                async with http.get(f"{base}/healthz"):
                    pass
            except aiohttp.ClientConnectionError:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{base} still answers")


async def test_serve_answers_owner_over_http(served: str, slack: FakeSlack) -> None:
    async with SlackRequester(f"{served}/slack/events", SIGNING_SECRET, fake=slack) as requester:
        response = await requester.answer(
            "/owner", "gateway", user_id="U0001CAROL", channel_id="C0GENERAL"
        )
        assert response.status == 200
        assert response.json()["text"] == "API gateway: owned by Platform"
        forged = await requester.slash_command(
            "/owner",
            "gateway",
            user_id="U0001ALICE",
            channel_id="C0001GENRL",
            signature="v0=forged",
        )
        assert forged.status == 401


@pytest.fixture
async def fronted(
    database_url: str, slack: FakeSlack
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`serve --front` started and healthy: the bot's process and the base URL."""
    process, base = await start_serve(serve_env(database_url, slack), "--front")
    try:
        await wait_healthy(base, process)
        yield process, base
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


async def test_the_front_dies_with_the_bot(
    fronted: tuple[asyncio.subprocess.Process, str],
) -> None:
    """`kill -9` of the bot: its front must not go on acknowledging what nobody handles."""
    bot, base = fronted
    bot.kill()
    await bot.wait()
    await refused(base)


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def test_the_bot_stops_when_its_front_dies(
    fronted: tuple[asyncio.subprocess.Process, str],
) -> None:
    """For its supervisor to start both again, rather than serve nobody."""
    bot, _ = fronted
    (front,) = children(bot.pid)
    os.kill(front, signal.SIGKILL)
    _, stderr = await asyncio.wait_for(bot.communicate(), 15)
    assert bot.returncode == 1
    assert "the front process exited (code -9): stopping" in stderr.decode()

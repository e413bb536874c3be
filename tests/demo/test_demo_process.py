"""`switchboard demo` as a real process, with no Slack settings at all: it prints the page's
address, the page shows the example workspace, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import aiohttp

from tests.conftest import ROOT


async def test_switchboard_demo_needs_no_slack_and_prints_where_to_go() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.pop("SWITCHBOARD_CATALOG", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchboard",
        "demo",
        "--port",
        "0",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        found = re.search(r"open (http://127\.0\.0\.1:\d+/)", line.decode())
        assert found, line
        async with aiohttp.ClientSession() as http:
            params = {"user": "U0001ALICE"}
            async with http.get(found.group(1) + "api/state", params=params) as response:
                state = await response.json()
        assert {"general", "incidents", "payments"} <= {c["name"] for c in state["channels"]}
        assert state["users"]["U0001ALICE"]["real_name"] == "Alice Ahmed"
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0

"""`kill -9` of real processes, then a restart: a declare finishes with every Slack effect
once, and a catalog import leaves the old catalog or the new one, never a mix. (A digest
run killed mid fan-out is tests/teams/test_processes.py.)"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from switchboard.app import build
from switchboard.bot.platform.config import Config
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import load_settings
from switchboard.storage import catalog_store, db
from tests.conftest import SIGNING_SECRET, eventually
from tests.faults.conftest import ANN, BEN, CATALOG, doubled, incidents
from tests.faults.processes import Serve, command, environment, workspace


async def test_killed_mid_declare_the_restart_finishes_it_once(
    tmp_path: Path, database_url: str, slack: FakeSlack
) -> None:
    env, announce, home = workspace(tmp_path, database_url, slack)
    serve = Serve(env, tmp_path)
    await serve.start()
    try:
        # The posts (card, announcement) are slow: the kill lands with them in flight.
        slack.fail("chat.postMessage", delay=1.0, times=2)
        async with SlackRequester(serve.url, SIGNING_SECRET, fake=slack) as requester:
            response = await requester.slash_command(
                "/incident",
                "declare sev2 service:checkout Checkout is down",
                user_id=ANN,
                channel_id=home,
            )
        assert response.status == 200
        await eventually(lambda: slack.calls("chat.postMessage"), within=20)
        await serve.kill()
        [(incident, synced)] = await incidents(database_url)
        assert not synced and incident.channel_id
        await serve.start()

        async def finished() -> bool:
            return all(synced for _, synced in await incidents(database_url))

        await poll(finished, within=30)
    finally:
        await serve.stop()
    [(incident, _)] = await incidents(database_url)
    assert [c.name for c in slack.channels.values() if c.name.startswith("inc-")] == [
        incident.channel_name
    ]
    channel = slack.channel(incident.channel_id)
    assert {ANN, BEN} <= set(channel.members)
    assert channel.topic and channel.purpose
    assert len(slack.messages(announce)) == 1
    assert doubled(slack, incident.channel_id) == []
    cards = [m for m in slack.messages(incident.channel_id) if m.ts == incident.card_ts]
    assert len(cards) == 1


async def test_a_catalog_import_killed_while_writing_leaves_the_old_catalog_whole(
    tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "catalog.yaml"  # the same file, old then new content: a replacement
    path.write_text(CATALOG)
    await import_here(database_url, path)
    before = await counts(database_url)
    lines = ["switchboard: 1", "teams:", "  - {id: big, name: Big}", "services:"]
    lines += [f"  - {{id: svc-{n}, name: Service {n}, owner: big}}" for n in range(4000)]
    path.write_text("\n".join(lines) + "\n")
    # Killed while its transaction is open (it holds the catalog's write lock).
    env = environment("http://127.0.0.1:9/api/", database_url)
    process = await command(env, "catalog", "import", str(path))
    await poll(lambda: writing(database_url, process), within=60)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    assert await counts(database_url) == before
    # The next import (a restart's, or the next sync) makes the new one, whole.
    await import_here(database_url, path)
    assert await counts(database_url) == {"component": 4000, "group": 1}


async def import_here(database_url: str, path: Path) -> None:
    settings = load_settings(_env_file=None, DATABASE_URL=database_url)
    sb = build(settings, Config())
    try:
        await db.upgrade(sb.core.engine)
        report = await sb.catalog.service.import_paths([str(path)])
        assert report.stats is not None, report.parsed.errors
    finally:
        await sb.close()


async def counts(database_url: str) -> dict[str, int]:
    engine = db.create_engine(load_settings(_env_file=None, DATABASE_URL=database_url).database_url)
    try:
        async with db.session_factory(engine)() as session:
            return {
                kind: n
                for kind, n in (await catalog_store.count_by_kind(session)).items()
                if kind in ("component", "group")
            }
    finally:
        await engine.dispose()


async def poll(probe, within: float) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not done within {within} s")
        await asyncio.sleep(0.1)


async def writing(database_url: str, process: asyncio.subprocess.Process) -> bool:
    """Whether the import holds the catalog's write lock (its transaction is open)."""
    assert process.returncode is None, "the import ended before it was caught writing"
    url = load_settings(_env_file=None, DATABASE_URL=database_url).database_url
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1], timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # database is locked
            return True
        finally:
            connection.close()
        return False
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text("SELECT id FROM catalog_state WHERE id = 1 FOR UPDATE NOWAIT")
            )
            await connection.rollback()
        return False
    except DBAPIError:  # lock_not_available
        return True
    finally:
        await engine.dispose()

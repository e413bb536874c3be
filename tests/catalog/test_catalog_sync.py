"""SWITCHBOARD_CATALOG is imported on start and re-synced: a change to a file reaches /owner
without a restart, and a broken edit leaves the last good catalog answering."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.catalog.reader import REVISION_CHECK_SECONDS, ServiceAnswer
from switchboard.bot.platform.config import Config
from switchboard.settings import Settings
from tests.conftest import EXAMPLES


@pytest.fixture
async def synced(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[Switchboard, Path]]:
    folder = tmp_path / "catalog"
    shutil.copytree(EXAMPLES, folder)
    sb = build(settings.model_copy(update={"catalog": str(folder)}), Config())
    await prepare(sb)
    yield sb, folder / "services.yaml"
    await sb.close()


async def tier(sb: Switchboard, service: str) -> int | None:
    answer = await sb.catalog.reader.answer(service)
    assert isinstance(answer, ServiceAnswer)
    return answer.service.tier


async def test_a_changed_file_reaches_owner_after_a_sync(synced: tuple[Switchboard, Path]) -> None:
    sb, services = synced
    assert await tier(sb, "notifications") == 2
    services.write_text(services.read_text().replace("    tier: 2\n", "    tier: 3\n", 1))
    report = await sb.catalog.sync()
    assert report is not None and report.stats is not None and report.stats.updated == 1
    await asyncio.sleep(REVISION_CHECK_SECONDS)  # the index checks the revision once a second
    assert await tier(sb, "notifications") == 3


async def test_a_broken_file_keeps_the_last_good_catalog(
    synced: tuple[Switchboard, Path],
) -> None:
    sb, services = synced
    services.write_text(services.read_text().replace("    tier: 2\n", "    tier: [\n", 1))
    report = await sb.catalog.sync()
    assert report is not None and report.stats is None
    assert report.parsed.errors[0].message.startswith("invalid YAML")
    assert await tier(sb, "notifications") == 2

"""The demo in this process (the bot over HTTP, the fake, the page), and Debian's chromium
driven by Playwright. Browser tests skip without chromium locally and fail under CI=true.
Screenshots go to tests/demo/screenshots/<test>/ (git-ignored), kept after the run."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.bot.platform.config import Config
from switchboard.demo.run import Demo, running
from switchboard.settings import load_settings

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
ALICE, BOB = "U0001ALICE", "U0001BOB"


@pytest.fixture
async def demo(database_url: str) -> AsyncIterator[Demo]:
    settings = load_settings(_env_file=None, DATABASE_URL=database_url)
    async with running(settings, Config()) as started:
        yield started


def _browser_missing() -> str:
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (bin/setup dev)"
    return ""


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    missing = _browser_missing()
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run in CI: {missing}")
    if missing:
        pytest.skip(missing)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


class Shots:
    """Numbered screenshots of one test, in tests/demo/screenshots/<test name>/."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page, self.folder, self.count = page, folder, 0

    async def take(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
async def page(browser: Any, demo: Demo, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    opened = await context.new_page()
    opened.set_default_timeout(15_000)
    await opened.goto(f"{demo.url}?as={ALICE}")
    await opened.locator("#channels button", has_text="general").wait_for()
    yield opened
    await context.close()


@pytest.fixture
def shots(page: Any, request: pytest.FixtureRequest) -> Shots:
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"screenshots: {folder}")
    return Shots(page, folder)

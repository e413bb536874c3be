"""Fixtures for the paging tests: the loopback PagerDuty and Opsgenie fakes, one HTTP
session, and pagers pointed at the fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from switchboard.bot.paging import OpsgeniePager, PagerDutyPager
from switchboard.fakes.pagers import FakeOpsgenie, FakePagerDuty
from tests.paging.helpers import FAST


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as fake:
        yield fake


@pytest.fixture
async def opsgenie() -> AsyncIterator[FakeOpsgenie]:
    async with FakeOpsgenie() as fake:
        yield fake


@pytest.fixture
def pd_pager(http: aiohttp.ClientSession, pagerduty: FakePagerDuty) -> PagerDutyPager:
    return PagerDutyPager(lambda: http, pagerduty.base_url, timeout=FAST)


@pytest.fixture
def og_pager(http: aiohttp.ClientSession, opsgenie: FakeOpsgenie) -> OpsgeniePager:
    return OpsgeniePager(lambda: http, opsgenie.api_key, opsgenie.base_url, timeout=FAST)

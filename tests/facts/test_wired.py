"""The facts wired into the bot: a refresh job per configured source over the catalog's
targets (`switchboard jobs list` names them), two processes on one database refreshing
once between them, against the PagerDuty REST fake and the fake Slack."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.jobs import Run
from switchboard.fakes.pagers.pagerduty_rest import FakePagerDutyRest, Shift
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import Settings, load_settings
from tests.conftest import BOT_TOKEN, EXAMPLES, SIGNING_SECRET

PD_TOKEN = "pd-wired-token-0001"
PAYMENTS = "component:default/payments-api"
NOW = datetime.now(UTC)
HANDOVER = (NOW + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDutyRest]:
    async with FakePagerDutyRest(token=PD_TOKEN) as fake:
        fake.services = {"PPAYAPI": "PPAYPOLICY", "PPAYTEAM": "PPAYPOLICY", "PLEDGER": "PLEDGERPOL"}
        fake.shifts = [
            Shift(
                "PALICE",
                "Alice",
                "alice@example.com",
                "PPAYPOLICY",
                1,
                NOW - timedelta(hours=5),
                HANDOVER,
                "PSCHPAY",
            ),
            Shift(
                "PBOB",
                "Bob",
                "bob@example.com",
                "PPAYPOLICY",
                1,
                HANDOVER,
                HANDOVER + timedelta(days=1),
                "PSCHPAY",
            ),
        ]
        yield fake


@pytest.fixture
def wired_settings(database_url: str, slack: FakeSlack, pagerduty: FakePagerDutyRest) -> Settings:
    slack.add_user("alice", email="alice@example.com", user_id="U0001ALICE")
    slack.add_user("bob", email="bob@example.com", user_id="U0001BOB")
    return load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=database_url,
        SWITCHBOARD_CATALOG=str(EXAMPLES),
        PAGERDUTY_API_TOKEN=PD_TOKEN,
        PAGERDUTY_API_URL=pagerduty.base_url,
    )


@pytest.fixture
async def wired(wired_settings: Settings) -> AsyncIterator[Switchboard]:
    sb = build(wired_settings, Config())
    await prepare(sb)
    yield sb
    await sb.close()


async def test_a_refresh_job_per_configured_source(
    wired: Switchboard, pagerduty: FakePagerDutyRest
) -> None:
    names = [job.name for job in wired.jobs]
    assert "facts-pagerduty" in names and "facts-slack" in names
    assert "facts-github" not in names and "facts-sonarqube" not in names  # no token
    job = wired.jobs.get("facts-pagerduty")
    assert job is not None
    said = await job.run(Run())
    # payments-api (a service) and ledger (another) point at PagerDuty in the examples
    assert said.startswith("pagerduty: ") and " due fetched" in said
    assert "0 of" not in said
    oncall = await wired.facts.live.oncall(PAYMENTS)
    assert oncall is not None
    assert [p["user_id"] for p in oncall.now] == ["U0001ALICE"]
    assert [p["user_id"] for p in oncall.next] == ["U0001BOB"]
    asked = len(pagerduty.seen)
    assert (await job.run(Run())).endswith("0 of 0 due fetched, 0 value(s) changed")
    assert len(pagerduty.seen) == asked  # fresh within the TTL: not asked again


async def test_two_processes_on_one_database_refresh_once(
    wired_settings: Settings, pagerduty: FakePagerDutyRest
) -> None:
    one, two = build(wired_settings, Config()), build(wired_settings, Config())
    try:
        await prepare(one)
        await prepare(two)
        jobs = [sb.jobs.get("facts-pagerduty") for sb in (one, two)]
        said = await asyncio.gather(*(job.run(Run()) for job in jobs if job is not None))
        alone = len(pagerduty.seen)
        pagerduty.seen.clear()
        # what one refresh alone asks (a third process, forced): the pair asked no more
        three = build(wired_settings, Config())
        try:
            job = three.jobs.get("facts-pagerduty")
            assert job is not None
            await job.run(Run(manual=True))
        finally:
            await three.close()
        assert alone == len(pagerduty.seen), said
    finally:
        await one.close()
        await two.close()


def test_jobs_list_shows_the_refresh_jobs(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    wired_settings: Settings,
    database_url: str,
) -> None:
    from switchboard.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", PD_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", "gh-wired-token-0001")
    assert main(["jobs", "list"]) == 0
    out = capsys.readouterr().out
    assert "facts-pagerduty" in out and "refresh PagerDuty's on-call past their TTL" in out
    assert "facts-github" in out and "facts-sonarqube" not in out


class Moving:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_owner_says_who_is_on_call_now_and_next_and_how_old_when_stale(
    wired_settings: Settings, slack: FakeSlack, pagerduty: FakePagerDutyRest
) -> None:
    clock = Moving()
    sb = build(wired_settings, Config(), clock)
    try:
        await prepare(sb)
        job = sb.jobs.get("facts-pagerduty")
        assert job is not None
        await job.run(Run())
        server = TestServer(sb.web, host="127.0.0.1")
        await server.start_server()
        url = str(server.make_url("/slack/events"))
        try:
            async with SlackRequester(url, SIGNING_SECRET, fake=slack) as requester:
                asked = len(pagerduty.seen)
                text = await on_call_field(requester)
                until = HANDOVER.astimezone(Config().tz)
                assert text.startswith(
                    f"On call now: <@U0001ALICE> (level 1, until {until:%H:%M} UTC; "
                    "next <@U0001BOB>)\\nPagerDuty service PPAYAPI"
                ), text
                assert "as of" not in text
                assert len(pagerduty.seen) == asked  # read from the database, not the source
                clock.now += timedelta(minutes=12)  # past on-call's TTL, nothing refreshed
                stale = await on_call_field(requester)
                assert stale.startswith(
                    f"On call now: <@U0001ALICE> (level 1, until {until:%H:%M} UTC; "
                    "next <@U0001BOB>), as of 12 min ago"
                ), stale
        finally:
            await server.close()
    finally:
        await sb.close()


async def on_call_field(requester: SlackRequester) -> str:
    response = await requester.answer(
        "/owner", "payments-api", user_id="U0001ALICE", channel_id="C0GENERAL"
    )
    assert response.status == 200, response.body
    fields = response.json()["blocks"][2]["fields"]
    (oncall,) = [f["text"] for f in fields if f["text"].startswith("*On call*")]
    return str(oncall).removeprefix("*On call*\n").replace("\n", "\\n")


async def switchboard_cli(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchboard",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_integrations_status_prints_every_source(
    tmp_path: Path, database_url: str, pagerduty: FakePagerDutyRest
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": database_url,
        "SWITCHBOARD_CATALOG": str(EXAMPLES),
        "PAGERDUTY_API_TOKEN": PD_TOKEN,
        "PAGERDUTY_API_URL": pagerduty.base_url,
    }
    before = await switchboard_cli(env, "integrations", "status")
    assert before.splitlines() == [
        "pagerduty: never refreshed; 0 facts",
        "opsgenie: not configured",
        "slack: not configured",
        "github: not configured",
        "sonarqube: not configured",
    ]
    await switchboard_cli(env, "catalog", "import", str(EXAMPLES))
    said = await switchboard_cli(env, "jobs", "run", "facts-pagerduty")
    assert "pagerduty: 3 of 3 due fetched, 6 value(s) changed" in said, said
    pagerduty.token = "pd-another-token-0002"  # the token is refused from now on
    await switchboard_cli(env, "jobs", "run", "facts-pagerduty")
    (line, *_) = (await switchboard_cli(env, "integrations", "status")).splitlines()
    assert line.startswith("pagerduty: last success just now; 6 facts; last error: PagerDuty")
    assert "refused PAGERDUTY_API_TOKEN (401" in line
    assert PD_TOKEN not in line


async def test_healthz_adds_each_source_without_failing(wired: Switchboard) -> None:
    server = TestServer(wired.web, host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as http, http.get(server.make_url("/healthz")) as response:
            assert response.status == 200
            body = await response.json()
    finally:
        await server.close()
    assert body["status"] == "ok"
    assert body["sources"]["pagerduty"] == {
        "configured": True,
        "last_success": None,
        "last_error": None,
        "facts": 0,
        "budget": None,
    }
    assert body["sources"]["github"]["configured"] is False


@asynccontextmanager
async def requester_of(sb: Switchboard, slack: FakeSlack) -> AsyncIterator[SlackRequester]:
    """Signed Slack requests to `sb` served over loopback HTTP."""
    server = TestServer(sb.web, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("/slack/events"))
        async with SlackRequester(url, SIGNING_SECRET, fake=slack) as requester:
            yield requester
    finally:
        await server.close()


async def test_a_cold_miss_asks_the_source_once_and_answers(
    wired: Switchboard, slack: FakeSlack, pagerduty: FakePagerDutyRest
) -> None:
    """Nothing stored yet (no refresh ran): `/owner` asks PagerDuty for this service alone,
    stores what it said, and shows it; the next `/owner` reads it from the database."""
    async with requester_of(wired, slack) as requester:
        before = len(pagerduty.seen)
        text = await on_call_field(requester)
        assert text.startswith("On call now: <@U0001ALICE>"), text
        asked = [s.path for s in pagerduty.seen[before:]]
        # this one service's policy, then who is on call now and next: no other target
        assert sorted(asked) == ["/oncalls", "/oncalls", "/services/PPAYAPI"], asked
        again = await on_call_field(requester)
        assert again == text and len(pagerduty.seen) == before + len(asked)


async def test_a_failing_cold_miss_leaves_the_card_and_is_not_retried_at_once(
    wired: Switchboard, slack: FakeSlack, pagerduty: FakePagerDutyRest
) -> None:
    pagerduty.fail("/", status=500, times=10)
    async with requester_of(wired, slack) as requester:
        before = len(pagerduty.seen)
        text = await on_call_field(requester)
        assert text.startswith("PagerDuty service PPAYAPI"), text  # the static on-call
        tried = len(pagerduty.seen)
        assert tried > before
        assert await on_call_field(requester) == text
        assert len(pagerduty.seen) == tried  # not asked again within the minute

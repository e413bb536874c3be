"""`POST /api/facts` and `POST /api/deploys` over real HTTP: the status and body a CI job
sees, and nothing stored of a refused push."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.facts.pushed import MAX_BODY
from switchboard.bot.platform.config import Config
from switchboard.fakes.slack.server import FakeSlack
from switchboard.settings import load_settings
from tests.conftest import BOT_TOKEN, EXAMPLES, SIGNING_SECRET

CI = "s3cret-token-for-ci-0001"
PAYMENTS = "component:default/payments-api"


async def served(sb: Switchboard) -> AsyncIterator[tuple[Switchboard, str]]:
    await prepare(sb)
    server = TestServer(sb.web, host="127.0.0.1")
    await server.start_server()
    try:
        yield sb, str(server.make_url("/"))
    finally:
        await server.close()
        await sb.close()


def settings(database_url: str, slack: FakeSlack, **extra: str) -> Any:
    return load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=database_url,
        SWITCHBOARD_CATALOG=str(EXAMPLES),
        **extra,
    )


@pytest.fixture
async def app(database_url: str, slack: FakeSlack) -> AsyncIterator[tuple[Switchboard, str]]:
    sb = build(settings(database_url, slack, SWITCHBOARD_FACTS_TOKENS=f"ci={CI}"), Config())
    async for pair in served(sb):
        yield pair


async def post(
    base: str, path: str, body: object | bytes, token: str | None = CI
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        ClientSession() as http,
        http.post(base + path.lstrip("/"), data=data, headers=headers) as r,
    ):
        return r.status, await r.json()


async def test_facts_pushed_by_alias_are_stored_as_custom_facts(
    app: tuple[Switchboard, str],
) -> None:
    sb, base = app
    push = {"entity": "pay-api", "facts": {"test.coverage": 87.5, "build": {"green": True}}}
    assert await post(base, "/api/facts", push) == (
        200,
        {"entity": PAYMENTS, "facts": 2, "changed": 2},
    )
    stored = {f.key: (f.value, f.source) for f in await sb.facts.live.store.facts(PAYMENTS)}
    assert stored == {
        "custom.build": ({"green": True}, "push:ci"),
        "custom.test.coverage": (87.5, "push:ci"),
    }


async def test_refused_pushes_say_why_and_store_nothing(app: tuple[Switchboard, str]) -> None:
    sb, base = app
    good = {"entity": "payments-api", "facts": {"x": 1}}
    status, body = await post(base, "/api/facts", good, token=None)
    assert status == 401 and "bearer token" in body["error"]
    assert (await post(base, "/api/facts", good, token="s3cret-token-for-ci-0002"))[0] == 401
    assert await post(base, "/api/facts", {"entity": "payments-api", "facts": []}) == (
        400,
        {"error": "facts must be a non-empty object of key: value", "field": "facts"},
    )
    status, body = await post(base, "/api/facts", {"entity": "nope-service", "facts": {"x": 1}})
    assert (status, body["field"]) == (404, "entity") and "'nope-service'" in body["error"]
    status, body = await post(base, "/api/facts", b"{" + b" " * MAX_BODY + b"}")
    assert status == 413 and str(MAX_BODY) in body["error"]
    bad_key = {"entity": "payments-api", "facts": {"ok": 1, "bad key!": 2}}
    assert (await post(base, "/api/facts", bad_key))[1]["field"] == "facts.bad key!"
    assert await sb.facts.live.store.facts(PAYMENTS) == []  # not even `ok`


async def test_deploys(app: tuple[Switchboard, str]) -> None:
    sb, base = app
    deploy = {
        "service": "payments-api",
        "environment": "production",
        "sha": "A1B2C3D4",
        "status": "success",
        "started_at": "2026-12-04T10:00:00+00:00",
        "finished_at": "2026-12-04T10:05:00+00:00",
        "author": "alice",
        "commits": [{"sha": "a1b2c3d4", "authored_at": "2026-12-03T16:00:00+00:00"}],
    }
    assert await post(base, "/api/deploys", deploy) == (
        201,
        {"service": PAYMENTS, "sha": "a1b2c3d4"},
    )
    status, body = await post(base, "/api/deploys", {**deploy, "status": "shipped"})
    assert (status, body["field"]) == (400, "status")
    status, body = await post(base, "/api/deploys", {**deploy, "service": "ghost"})
    assert (status, body["field"]) == (404, "service")
    (stored,) = await sb.facts.live.store.deploys(PAYMENTS)
    assert (stored.environment, stored.reported_by) == ("production", "ci")


async def test_with_no_tokens_configured_every_push_is_401(
    database_url: str, slack: FakeSlack
) -> None:
    async for _, base in served(build(settings(database_url, slack), Config())):
        status, body = await post(base, "/api/facts", {"entity": "payments-api", "facts": {"x": 1}})
        assert status == 401 and "SWITCHBOARD_FACTS_TOKENS" in body["error"]

"""Cortex-style CQL rules over live facts through `/scorecard`: a `custom.` fact CI pushed
(`POST /api/facts`) and a GitHub fact evaluate instead of saying what they need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.platform.config import Config, ScorecardsConfig
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import load_settings
from switchboard.storage.facts_store import Observation
from tests.conftest import BOT_TOKEN, EXAMPLES, SIGNING_SECRET

CI = "s3cret-token-for-ci-0001"
PAYMENTS = "component:default/payments-api"
CORTEX = """\
tag: live
name: Live
rules:
  - title: Coverage
    expression: custom("test.coverage") >= 80
  - title: Has a README
    expression: git.fileExists("README.md")
  - title: Has a CODEOWNERS
    expression: git.fileExists("CODEOWNERS")
  - title: Has a security policy
    expression: git.fileExists(".github/SECURITY.md")
  - title: Reaches outside
    expression: git.fileExists("../../orgs/x")
  - title: No TODOs left
    expression: git.codeSearch(query = "TODO").length == 0
"""


@pytest.fixture
async def served(
    tmp_path: Path, database_url: str, slack: FakeSlack
) -> AsyncIterator[tuple[Switchboard, str]]:
    (tmp_path / "live.yaml").write_text(CORTEX, encoding="utf-8")
    settings = load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=database_url,
        SWITCHBOARD_CATALOG=str(EXAMPLES),
        SWITCHBOARD_FACTS_TOKENS=f"ci={CI}",
    )
    config = Config(scorecards=ScorecardsConfig(paths=(str(tmp_path / "live.yaml"),)))
    sb = build(settings, config)
    await prepare(sb)
    server = TestServer(sb.web, host="127.0.0.1")
    await server.start_server()
    try:
        yield sb, str(server.make_url("/"))
    finally:
        await server.close()
        await sb.close()


async def rules(base: str, slack: FakeSlack) -> list[str]:
    async with SlackRequester(base + "slack/events", SIGNING_SECRET, fake=slack) as requester:
        response = await requester.answer(
            "/scorecard", "payments-api", user_id="U0001ALICE", channel_id="C0GENERAL"
        )
    answer: dict[str, Any] = response.json()
    return [line for line in _lines(answer) if line[:1] == ":"]


def _lines(answer: dict[str, Any]) -> list[str]:
    texts = [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section" and "text" in b]
    return [line for text in texts for line in text.split("\n")]


async def test_pushed_and_fetched_facts_evaluate(
    served: tuple[Switchboard, str], slack: FakeSlack
) -> None:
    sb, base = served
    before = await rules(base, slack)
    assert any("Coverage" in line and "is null" in line for line in before), before
    # no GITHUB_TOKEN here: neither passing nor failing, saying what to set
    assert any(
        line.startswith(":electric_plug:")
        and "README" in line
        and line.endswith("needs GitHub (set GITHUB_TOKEN)")
        for line in before
    ), before
    push = {"entity": "payments-api", "facts": {"test.coverage": 87.5}}
    async with (
        ClientSession() as http,
        http.post(
            base + "api/facts", json=push, headers={"Authorization": f"Bearer {CI}"}
        ) as response,
    ):
        assert response.status == 200
    now = datetime.now(UTC)
    await sb.facts.live.store.record(
        "github",
        [
            Observation(PAYMENTS, "git.file:README.md", True, now),
            Observation(PAYMENTS, "git.file:CODEOWNERS", False, now),
            Observation(PAYMENTS, "git.file:.github/SECURITY.md", True, now),
            Observation(PAYMENTS, "git.file:../../orgs/x", False, now),
            Observation(PAYMENTS, "git.code_search:TODO", 0, now),
        ],
        now,
    )
    after = await rules(base, slack)
    assert not any("needs" in line for line in after), after
    coverage, readme, codeowners = after[:3]
    assert coverage.startswith(":white_check_mark:") and "Coverage" in coverage, after
    assert readme.startswith(":white_check_mark:") and "README" in readme, after
    assert codeowners.startswith(":x:") and "CODEOWNERS" in codeowners, after
    # each says where its value came from and how old it is
    assert coverage.endswith("· _pushed, just now_"), coverage
    assert readme.endswith("· _GitHub, just now_"), readme
    (todos,) = [line for line in after if "No TODOs left" in line]
    assert todos.startswith(":white_check_mark:"), todos


async def test_github_is_asked_for_the_paths_the_rules_name(
    served: tuple[Switchboard, str],
) -> None:
    sb, _ = served
    # a path climbing out of the repository is never asked for
    assert sb.scorecards.service.github_paths() == [
        ".github/SECURITY.md",
        "CODEOWNERS",
        "README.md",
    ]
    targets = {t.entity: t for t in await sb.facts.live.targets("github")}
    assert targets[PAYMENTS].paths == ("README.md", "CODEOWNERS", "docs/", ".github/SECURITY.md")
    # and for the code searches they name, which GitHub runs under its own budget
    assert sb.scorecards.service.github_searches() == ["TODO"]
    assert targets[PAYMENTS].searches == ("TODO",)

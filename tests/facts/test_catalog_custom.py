"""What catalog files say beyond the fields we map (Cortex custom metadata, OpsLevel
properties, Backstage annotations, native `custom`) becomes the entity's `custom.<key>`
facts, and their SonarQube project keys become SonarQube targets; a CQL rule reads them
through `/scorecard`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.catalog.custom import MAX_KEY_CHARS, MAX_KEYS, MAX_VALUE_CHARS
from switchboard.bot.catalog.loader import parse_paths
from switchboard.bot.platform.config import Config, ScorecardsConfig
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import load_settings
from tests.conftest import BOT_TOKEN, SIGNING_SECRET

CORTEX = """\
openapi: 3.0.1
info:
  title: Checkout
  x-cortex-tag: checkout
  x-cortex-type: service
  x-cortex-static-analysis:
    sonarqube:
      project: acme_checkout
  x-cortex-custom-metadata:
    cicd: circle-ci
    slo:
      value: {availability: 99.9}
      description: what the service promises
    nan: .nan
"""
BACKSTAGE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  annotations:
    sonarqube.org/project-key: acme_ledger
    github.com/project-slug: acme/ledger
    circleci.com/project-slug: github/acme/ledger
spec:
  type: service
  owner: payments
  lifecycle: production
"""
OPSLEVEL = """\
version: 1
service:
  name: Search
  properties:
    language: python
    replicas: 3
"""
SCORECARD = """\
tag: ci
name: CI
rules:
  - title: On CircleCI
    expression: custom("cicd") == "circle-ci"
"""


@pytest.fixture
async def sb(tmp_path: Path, database_url: str, slack: FakeSlack) -> AsyncIterator[Switchboard]:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "cortex.yaml").write_text(CORTEX, encoding="utf-8")
    (catalog / "catalog-info.yaml").write_text(BACKSTAGE, encoding="utf-8")
    (catalog / "opslevel.yml").write_text(OPSLEVEL, encoding="utf-8")
    (tmp_path / "ci.yaml").write_text(SCORECARD, encoding="utf-8")
    settings = load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=database_url,
        SWITCHBOARD_CATALOG=str(catalog),
    )
    switchboard = build(
        settings, Config(scorecards=ScorecardsConfig(paths=(str(tmp_path / "ci.yaml"),)))
    )
    await prepare(switchboard)
    try:
        yield switchboard
    finally:
        await switchboard.close()


async def custom_facts(sb: Switchboard, ref: str) -> dict[str, tuple[Any, str]]:
    facts = await sb.facts.live.facts_of([ref])
    return {f.key: (f.value, f.source) for f in facts if f.key.startswith("custom.")}


async def test_custom_metadata_of_every_format_are_catalog_facts(sb: Switchboard) -> None:
    assert await custom_facts(sb, "component:default/checkout") == {
        "custom.cicd": ("circle-ci", "catalog"),
        "custom.slo": ({"availability": 99.9}, "catalog"),  # Cortex's {value, description}
        "custom.nan": ("nan", "catalog"),  # JSON has no NaN: kept as text
    }
    assert await custom_facts(sb, "component:default/ledger") == {
        # the annotations read into fields are not custom metadata
        "custom.circleci.com/project-slug": ("github/acme/ledger", "catalog"),
    }
    assert await custom_facts(sb, "component:default/search") == {
        "custom.language": ("python", "catalog"),
        "custom.replicas": (3, "catalog"),
    }


async def test_a_pushed_value_wins_over_the_catalogs(sb: Switchboard) -> None:
    await sb.facts.live.store.push(
        "component:default/checkout", "ci", {"custom.cicd": "github-actions"}, sb.core.clock()
    )
    facts = await custom_facts(sb, "component:default/checkout")
    assert facts["custom.cicd"] == ("github-actions", "ci")


async def test_metadata_removed_from_the_file_is_gone_after_the_next_import(
    sb: Switchboard, tmp_path: Path
) -> None:
    (tmp_path / "catalog" / "cortex.yaml").write_text(
        CORTEX.split("  x-cortex-custom-metadata:")[0], encoding="utf-8"
    )
    report = await sb.catalog.sync()
    assert report is not None and report.stats is not None
    assert await custom_facts(sb, "component:default/checkout") == {}


async def test_sonarqube_project_keys_are_sonarqube_targets(sb: Switchboard) -> None:
    reader = sb.catalog.reader
    checkout, _ = await reader.find("checkout")
    ledger, _ = await reader.find("ledger")
    assert checkout is not None and ledger is not None
    assert (checkout.sonarqube_project, ledger.sonarqube_project) == (
        "acme_checkout",
        "acme_ledger",
    )


async def test_a_cql_rule_reads_catalog_metadata_in_scorecard(
    sb: Switchboard, slack: FakeSlack
) -> None:
    server = TestServer(sb.web, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("/slack/events"))
        async with SlackRequester(url, SIGNING_SECRET, fake=slack) as requester:
            response = await requester.answer(
                "/scorecard", "checkout", user_id="U0001ALICE", channel_id="C0GENERAL"
            )
    finally:
        await server.close()
    blocks = response.json()["blocks"]
    lines = [
        line
        for b in blocks
        if b["type"] == "section" and "text" in b
        for line in b["text"]["text"].split("\n")
    ]
    assert any(line.startswith(":white_check_mark:") and "On CircleCI" in line for line in lines), (
        lines
    )


def test_custom_metadata_over_the_bounds_is_left_out_with_a_warning(tmp_path: Path) -> None:
    many = "".join(f"    k{i}: {i}\n" for i in range(MAX_KEYS + 5))
    deep = "{a: " * 12 + "1" + "}" * 12
    (tmp_path / "cortex.yaml").write_text(
        "openapi: 3.0.1\ninfo:\n  title: Big\n  x-cortex-tag: big\n"
        "  x-cortex-custom-metadata:\n"
        f"    {'k' * (MAX_KEY_CHARS + 1)}: long key\n"
        f"    huge: {'x' * (MAX_VALUE_CHARS + 10)}\n"
        f"    deep: {deep}\n" + many,
        encoding="utf-8",
    )
    parsed = parse_paths([tmp_path])
    assert not parsed.errors
    (entity,) = parsed.entities
    assert len(entity.custom) == MAX_KEYS and "huge" not in entity.custom
    assert "deep" not in entity.custom and "k0" in entity.custom
    messages = [str(w) for w in parsed.warnings]
    file = str(tmp_path / "cortex.yaml")
    assert any(m.startswith(f"{file}:6: ") and "key of over 128" in m for m in messages), messages
    assert any(m.startswith(f"{file}:7: ") and "over 4,000 characters" in m for m in messages)
    assert any(m.startswith(f"{file}:8: ") and "nested over" in m for m in messages)
    assert any("more than 100 keys" in m for m in messages)

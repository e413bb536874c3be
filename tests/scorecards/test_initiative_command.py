"""`/scorecard` shows initiatives: signed slash commands to the running app, over the example
catalog, with scorecard files whose deadlines are relative to a fixed clock."""

from __future__ import annotations

import json
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from switchboard.app import Switchboard, build, prepare
from switchboard.bot.platform.blocks import MAX_BLOCKS
from switchboard.bot.platform.config import Config, ScorecardsConfig
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "C0GENERAL"
ALICE = "U0001ALICE"

OPS = """
    scorecard: ops
    name: Operations
    levels: [Bronze, Silver, Gold]
    rules:
      - {id: owner, title: Owner, level: Bronze, check: field_present, field: owner}
      - {id: runbook, title: Runbook, level: Silver, check: field_present, field: runbook}
      - {id: oncall, title: On-call, level: Silver, check: field_present, field: oncall}
      - {id: channel, title: Alerts channel, level: Gold, check: field_present,
         field: slack_channel}
      - {id: docs, title: Docs, level: Gold, check: field_present, field: docs}
    initiatives:
      - id: tier1-gold
        name: Tier-1 services reach Gold <!channel>
        level: Gold
        filter: {tiers: [1]}
        deadline: 2027-03-31
      - id: documented
        name: Documented
        rule: docs
        services: [search, ledger, auth]
        deadline: 2026-12-01
"""


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))


@pytest.fixture
def scorecard_paths(tmp_path: Path) -> tuple[str, ...]:
    path = tmp_path / "ops.yaml"
    path.write_text(textwrap.dedent(OPS).lstrip("\n"), encoding="utf-8")
    return (str(path),)


@pytest.fixture
async def switchboard(
    settings: Settings, clock: Clock, scorecard_paths: tuple[str, ...]
) -> AsyncIterator[Switchboard]:
    sb = build(settings, Config(scorecards=ScorecardsConfig(paths=scorecard_paths)), clock)
    await prepare(sb)
    yield sb
    await sb.close()


async def scorecard(requester: SlackRequester, text: str) -> dict[str, Any]:
    response = await requester.answer("/scorecard", text, user_id=ALICE, channel_id=CHANNEL)
    assert response.status == 200, response.body
    answer = response.json()
    assert len(answer.get("blocks", [])) <= MAX_BLOCKS
    for block in answer.get("blocks", []):
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    return answer


def lines(answer: dict[str, Any]) -> list[str]:
    texts = []
    for block in answer["blocks"]:
        if block["type"] in ("section", "header"):
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts += [e["text"] for e in block["elements"]]
    return [line for text in texts for line in text.split("\n")]


def initiatives(answer: dict[str, Any]) -> list[str]:
    return [line for line in lines(answer) if line.startswith("Initiative ")]


GOLD = "Initiative *Tier-1 services reach Gold &lt;!channel&gt;* (Gold by 2027-03-31, "


async def test_a_service_sees_each_initiative_it_is_in(requester: SlackRequester) -> None:
    assert initiatives(await scorecard(requester, "ledger")) == [
        GOLD + "121 days left): not yet: needs Alerts channel, Docs",
        "Initiative *Documented* (Docs by 2026-12-01, 1 day left): not yet: needs Docs",
    ]
    # payments-api is Gold, and not one of the services the second initiative names
    assert initiatives(await scorecard(requester, "payments-api")) == [
        GOLD + "121 days left): met ✓"
    ]
    # auth: in both; search has no tier, so only the one naming it
    assert initiatives(await scorecard(requester, "auth")) == [
        GOLD + "121 days left): not yet: needs Alerts channel",
        "Initiative *Documented* (Docs by 2026-12-01, 1 day left): met ✓",
    ]
    assert initiatives(await scorecard(requester, "search")) == [
        "Initiative *Documented* (Docs by 2026-12-01, 1 day left): not yet: needs Docs"
    ]


async def test_a_team_sees_how_many_of_its_services_meet_each_initiative(
    requester: SlackRequester,
) -> None:
    assert initiatives(await scorecard(requester, "team:payments")) == [
        GOLD + "121 days left): 1 of 2 of your services (50%) · missing: Ledger",
        "Initiative *Documented* (Docs by 2026-12-01, 1 day left): 0 of 1 of your services "
        "(0%) · missing: Ledger",
    ]
    # notifications (tier 2) is not in the first, and auth is the only one the second names
    assert initiatives(await scorecard(requester, "team:platform")) == [
        GOLD + "121 days left): 0 of 2 of your services (0%) · missing: API gateway, Auth",
        "Initiative *Documented* (Docs by 2026-12-01, 1 day left): 1 of 1 of your services "
        "(100%) ✓",
    ]
    assert initiatives(await scorecard(requester, "team:storefront")) == [
        "Initiative *Documented* (Docs by 2026-12-01, 1 day left): 0 of 1 of your services "
        "(0%) · missing: Search",
    ]


async def test_the_deadline_day_and_after(requester: SlackRequester, clock: Clock) -> None:
    clock.now += timedelta(days=1)
    assert "(Docs by 2026-12-01, due today)" in initiatives(await scorecard(requester, "search"))[0]
    clock.now += timedelta(days=3)
    assert (
        "(Docs by 2026-12-01, 3 days overdue)"
        in (initiatives(await scorecard(requester, "search"))[0])
    )


@pytest.mark.parametrize("scorecard_paths", [(str(ROOT / "examples" / "scorecards"),)])
async def test_the_example_initiatives(requester: SlackRequester) -> None:
    assert initiatives(await scorecard(requester, "ledger")) == [
        "Initiative *Tier-1 services reach Gold* (Gold by 2027-06-30, 212 days left): not yet: "
        "needs Has an alerts channel, Has documentation",
        "Initiative *Every production service has a runbook* (Has a runbook by 2027-06-30, "
        "212 days left): met ✓",
    ]


MANY = """
    switchboard: 1
    teams:
      - id: huge
        name: Huge
    services:
"""


async def test_a_long_list_of_missing_services_is_cut_and_escaped(
    requester: SlackRequester, switchboard: Switchboard, tmp_path: Path
) -> None:
    services = "".join(
        f"  - {{id: svc-{n:02}, name: 'Service {n:02} <!here>', owner: huge, tier: 1}}\n"
        for n in range(30)
    )
    catalog = tmp_path / "huge.yaml"
    catalog.write_text(textwrap.dedent(MANY).lstrip("\n") + services, encoding="utf-8")
    assert (await switchboard.catalog.service.import_paths([str(catalog)])).stats is not None
    answer = await scorecard(requester, "team:huge")
    (gold,) = initiatives(answer)
    names = ", ".join(f"Service {n:02} &lt;!here&gt;" for n in range(10))
    assert gold == (
        GOLD + f"121 days left): 0 of 30 of your services (0%) · missing: {names} …and 20 more"
    )
    assert "<!here>" not in json.dumps(answer)

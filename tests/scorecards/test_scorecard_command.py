"""`/scorecard` over real HTTP: signed slash commands in, a live evaluation of the example
scorecards against the example catalog (and our own incident records) out."""

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
from switchboard.bot.incidents.service import DeclareRequest
from switchboard.bot.platform.blocks import MAX_BLOCKS
from switchboard.bot.platform.config import Config, ScorecardsConfig, load_config
from switchboard.edge.middleware import listening
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from switchboard.settings import Settings
from tests.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCORECARDS = ROOT / "examples" / "scorecards"
CHANNEL = "C0GENERAL"
ALICE = "U0001ALICE"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))


@pytest.fixture
def scorecard_paths() -> tuple[str, ...]:
    return (str(EXAMPLE_SCORECARDS),)


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
    assert answer["response_type"] == "ephemeral"
    assert len(answer.get("blocks", [])) <= MAX_BLOCKS
    for block in answer.get("blocks", []):
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
    return answer


def shown(answer: dict[str, Any]) -> str:
    return json.dumps(answer.get("blocks") or answer.get("text"), ensure_ascii=False)


def sections(answer: dict[str, Any]) -> list[str]:
    texts = []
    for block in answer["blocks"]:
        if block["type"] in ("section", "header"):
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts += [e["text"] for e in block["elements"]]
    return texts


def rule_lines(answer: dict[str, Any]) -> list[str]:
    return [line for text in sections(answer) for line in text.split("\n") if line[:1] == ":"]


async def test_service_answer_has_every_rule_outcome_level_score_and_blockers(
    requester: SlackRequester,
) -> None:
    answer = await scorecard(requester, "ledger")
    assert answer["text"] == (
        "Ledger: Incident hygiene Gold (100%), Production readiness Silver (88%)"
    )
    texts = sections(answer)
    assert texts[0] == "Scorecards: Ledger"
    assert "*Production readiness* · level *Silver* of Bronze → Silver → Gold · score *88%*" in (
        texts
    )
    assert rule_lines(answer)[-11:] == [
        ":white_check_mark: *Has an owning team* (Bronze, weight 3): has an owner",
        ":white_check_mark: *Says what it does* (Bronze): has a description",
        ":white_check_mark: *Links its repository* (Bronze): has a repository link",
        ":white_check_mark: *Has a tier* (Bronze): tier 1",
        ":white_check_mark: *Has an on-call rotation* (Silver, weight 3): "
        "has an on-call of its own",
        ":white_check_mark: *Has a runbook* (Silver, weight 2): has a runbook link",
        ":white_check_mark: *Has a dashboard* (Silver): has a dashboard link",
        ":white_check_mark: *Declares its dependencies* (Silver): 1 dependency declared",
        ":x: *Has an alerts channel* (Gold): no Slack channel",
        ":x: *Has documentation* (Gold): no docs link",
        ":white_check_mark: *No overdue follow-ups from its incidents* (Gold, weight 2): "
        "no overdue follow-ups of its incidents",
    ]
    assert "*Blocks Gold*: Has an alerts channel, Has documentation" in texts
    assert "*Incident hygiene* · level *Gold* of Bronze → Silver → Gold · score *100%*" in texts
    assert "Top level reached: nothing blocks." in texts
    share = answer["blocks"][-1]["elements"][0]
    assert (share["text"]["text"], share["value"]) == (
        "Share in channel",
        "component:default/ledger",
    )


async def test_exemption_shows_its_reason_and_expiry(requester: SlackRequester) -> None:
    lines = rule_lines(await scorecard(requester, "Auth"))
    assert (
        ":zzz: *Declares its dependencies* (Silver): exempt until 2027-06-30: "
        "Auth is the root of the dependency graph; it calls nothing of ours."
    ) in lines


async def test_incident_records_fail_the_hygiene_rules(
    requester: SlackRequester, switchboard: Switchboard, clock: Clock
) -> None:
    request = DeclareRequest("k1", ALICE, "Ledger down", "SEV1", ("component:default/ledger",))
    await switchboard.incidents.service.declare(request)
    clock.now += timedelta(days=5)
    answer = await scorecard(requester, "ledger")
    assert "Incident hygiene none yet" not in answer["text"]
    assert "Incident hygiene (70%)" in answer["text"]
    texts = sections(answer)
    assert "*Incident hygiene* · level *none yet* of Bronze → Silver → Gold · score *70%*" in texts
    assert (
        ":x: *No SEV1/SEV2 left unresolved for more than 3 days* (Bronze, weight 3): "
        "1 unresolved SEV1/SEV2 incident older than 3 days, the oldest declared 2026-11-30"
    ) in rule_lines(answer)
    assert "*Blocks Bronze*: No SEV1/SEV2 left unresolved for more than 3 days" in texts


async def test_team_answer_lists_its_services_with_level_and_score(
    requester: SlackRequester,
) -> None:
    answer = await scorecard(requester, "team:payments")
    assert answer["text"] == "Payments: 2 services scored"
    texts = sections(answer)
    assert "*Production readiness* · 2 services" in texts
    assert "• *Ledger*: Silver · 88% · 2 blocking Gold\n• *Payments API*: Gold · 100%" in texts
    assert "• *Ledger*: Gold · 100%\n• *Payments API*: Gold · 100%" in texts
    assert "No scorecard applies to: Payments database, Payments public API" in texts
    # a team's name typed without `team:` answers for the team
    assert (await scorecard(requester, "Platform"))["text"] == "Platform: 3 services scored"


async def test_unknown_service_gets_suggestions_that_answer_when_clicked(
    requester: SlackRequester, slack: FakeSlack
) -> None:
    answer = await scorecard(requester, "ledgr")
    assert "Nothing is called exactly *ledgr*" in shown(answer)
    button = answer["blocks"][1]["elements"][0]
    assert button["value"] == "component:default/ledger"
    response_url = slack.new_response_url(channel_id=CHANNEL, user_id=ALICE)
    message = {"type": "message", "ts": "1700000000.000100", **answer}
    response = await requester.block_actions(
        [button], user_id=ALICE, channel_id=CHANNEL, message=message, response_url=response_url
    )
    assert response.status == 200
    (posted,) = await eventually(lambda: slack.response_posts(response_url))
    assert posted["replace_original"] is True
    assert posted["text"].startswith("Ledger: Incident hygiene Gold")

    nothing = await scorecard(requester, "zzzzzzzzzzzz")
    assert "I found no service called *zzzzzzzzzzzz*" in shown(nothing)
    team = await scorecard(requester, "team:paymnts")
    assert team["blocks"][1]["elements"][0]["value"] == "group:default/payments"


async def test_share_posts_the_answer_in_the_channel_and_replaces_the_private_copy(
    requester: SlackRequester, slack: FakeSlack, switchboard: Switchboard
) -> None:
    answer = await scorecard(requester, "auth")
    share = answer["blocks"][-1]["elements"][0]
    response_url = slack.new_response_url(channel_id=CHANNEL, user_id="U0001CAROL")
    message = {"type": "message", "ts": "1700000000.000100", **answer}
    await requester.block_actions(
        [share],
        user_id="U0001CAROL",
        channel_id=CHANNEL,
        message=message,
        response_url=response_url,
    )
    await listening(switchboard.bolt).idle()
    posted, note = slack.response_posts(response_url)
    assert posted["response_type"] == "in_channel"
    assert "shared by <@U0001CAROL>" in shown(posted)
    assert "Share in channel" not in shown(posted)
    assert (note["replace_original"], note["text"]) == (True, "Shared in the channel.")


async def test_usage_and_a_service_no_scorecard_applies_to(requester: SlackRequester) -> None:
    for text in ("", "help", "team:"):
        assert "`/scorecard team:&lt;name&gt;`" in shown(await scorecard(requester, text))
    search = await scorecard(requester, "search")  # tier 3, beta: no example applies
    assert "No scorecard applies to *Search* (service, tier 3, beta)." in shown(search)
    db = await scorecard(requester, "payments-db")
    assert "No scorecard applies to *Payments database* (database, tier 1, no lifecycle)." in (
        shown(db)
    )


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


CORTEX = """
    tag: cortex-card
    name: "Cortex <!channel> & friends"
    rules:
      - title: Has a git repository
        expression: git != null
        weight: 1
      - title: "SLOs <@U0001BOB>"
        expression: custom("slos") != null && `x` > 1
        weight: 2
"""


@pytest.fixture
def cortex_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "scorecards"
    folder.mkdir()
    write(folder / "cortex.yaml", CORTEX)
    return folder


@pytest.mark.parametrize("scorecard_paths", [()])
async def test_reload_keeps_the_scorecards_when_a_file_is_malformed(
    requester: SlackRequester, switchboard: Switchboard, cortex_folder: Path
) -> None:
    none = await scorecard(requester, "ledger")
    assert "No scorecards are loaded" in none["text"]

    loaded = await switchboard.scorecards.service.reload([str(cortex_folder)])
    assert loaded.ok and [s.id for s in switchboard.scorecards.service.scorecards] == [
        "cortex-card"
    ]

    write(cortex_folder / "broken.yaml", "scorecard: broken\nrules:\n  - id: x\n    check: nope\n")
    broken = await switchboard.scorecards.service.reload([str(cortex_folder)])
    assert [f"{Path(p.file).name}:{p.line}" for p in broken.errors] == ["broken.yaml:4"]
    assert [s.id for s in switchboard.scorecards.service.scorecards] == ["cortex-card"]
    answer = await scorecard(requester, "ledger")
    assert answer["text"].startswith("Ledger: Cortex")


@pytest.mark.parametrize("scorecard_paths", [()])
async def test_catalog_and_scorecard_text_is_escaped(
    requester: SlackRequester, switchboard: Switchboard, cortex_folder: Path
) -> None:
    await switchboard.scorecards.service.reload([str(cortex_folder)])
    answer = await scorecard(requester, "ledger")
    blocks = shown(answer)
    assert "<!channel>" not in blocks and "<@U0001BOB>" not in blocks
    assert "<!channel>" not in answer["text"]
    assert "*Cortex &lt;!channel&gt; &amp; friends* · score *100%*" in sections(answer)
    lines = rule_lines(answer)
    assert lines[0] == ":white_check_mark: *Has a git repository*: has a GitHub repository"
    assert lines[1] == (
        ":grey_question: *SLOs &lt;@U0001BOB&gt;* (weight 2): *unsupported*, never passes: "
        "unexpected character '`' (at 8:43) `custom(\"slos\") != null &amp;&amp; 'x' &gt; 1`"
    )
    typed = await scorecard(requester, "<!channel> <@U0001BOB>")
    assert "<!channel>" not in shown(typed) and "&lt;!channel&gt;" in shown(typed)


MANY = """
    switchboard: 1
    teams:
      - id: huge
        name: Huge
    services:
"""


@pytest.fixture
def many_cards(tmp_path: Path) -> Path:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(30):
        write(
            folder / f"card{n}.yaml",
            f"""
            scorecard: card-{n}
            levels: [Bronze]
            rules:
              - id: runbook
                level: Bronze
                check: field_present
                field: runbook
            """,
        )
    return folder


async def test_a_team_with_many_services_and_scorecards_fits_in_one_message(
    requester: SlackRequester, switchboard: Switchboard, tmp_path: Path, many_cards: Path
) -> None:
    services = "".join(
        f"  - {{id: svc-{n:03}, name: 'Service {n:03} <!here>', owner: huge}}\n" for n in range(120)
    )
    catalog = write(tmp_path / "huge.yaml", MANY)
    catalog.write_text(catalog.read_text() + services)
    report = await switchboard.catalog.service.import_paths([str(catalog)])
    assert report.stats is not None
    await switchboard.scorecards.service.reload([str(many_cards)])

    answer = await scorecard(requester, "team:huge")
    assert answer["text"] == "Huge: 120 services scored"
    texts = sections(answer)
    assert "…and 80 more" in "\n".join(texts)
    assert any(t.startswith("…and ") and t.endswith(" more scorecards") for t in texts)
    assert "<!here>" not in shown(answer)


def test_scorecard_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    config = write(tmp_path / "switchboard.yaml", "scorecards:\n  paths: [cards, /abs/cards]\n")
    assert load_config(str(config)).scorecards.paths == (str(tmp_path / "cards"), "/abs/cards")
    assert Config().scorecards.paths == ()


async def test_a_service_on_call_through_its_team_passes_as_owner_says(
    requester: SlackRequester,
) -> None:
    # Storefront has no on-call of its own; its owning team Storefront has a rotation.
    lines = rule_lines(await scorecard(requester, "storefront"))
    assert (
        ":white_check_mark: *Has an on-call rotation* (Silver, weight 3): "
        "has an on-call through its owning team Storefront"
    ) in lines
    owner = await requester.answer("/owner", "storefront", user_id=ALICE, channel_id=CHANNEL)
    (on_call,) = [
        field["text"]
        for block in owner.json()["blocks"]
        for field in block.get("fields", [])
        if field["text"].startswith("*On call*")
    ]
    assert on_call == "*On call*\n<!subteam^S0001SHOPOC>\n_through its owning team Storefront_"
    # and a service's own on-call is said to be its own
    own = rule_lines(await scorecard(requester, "ledger"))
    assert any(
        line.endswith("*Has an on-call rotation* (Silver, weight 3): has an on-call of its own")
        for line in own
    )

"""Scheduled scorecards: the evaluation job stores each change once (with history), a team
hears of its services that got worse, and the weekly digest tells each team its week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from switchboard.app import build
from switchboard.bot.incidents.modals import SERVICES_SEARCH
from switchboard.bot.platform.config import Config
from switchboard.bot.platform.jobs import Run
from switchboard.storage.tables import ScorecardChange
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, World

MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # digest day, after 09:00
CHECKOUT, SEARCH = "component:default/checkout", "component:default/search"

SCORECARD = """\
scorecard: basics
name: Basics
levels: [Bronze, Silver]
rules:
  - {id: owner, title: Has an owner, level: Bronze, check: field_present, field: owner}
  - {id: oncall, title: Has an on-call rotation, level: Silver, check: field_present, field: oncall}
  - id: followups
    title: No overdue follow-ups
    level: Silver
    check: no_overdue_followups
initiatives:
  - id: silver
    name: Checkout and Storefront reach Silver
    level: Silver
    services: [checkout, storefront]
    deadline: 2026-03-09
"""


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    (tmp_path / "basics.yaml").write_text(SCORECARD)
    fallback = request.node.get_closest_marker("fallback")
    return Config.model_validate(
        {
            "scorecards": {"paths": [str(tmp_path / "basics.yaml")]},
            "delivery": {"fallback_channel": fallback.args[0] if fallback else ""},
        }
    )


async def history(world: World) -> list[tuple[str, str]]:
    from sqlalchemy import select

    async with world.sb.catalog.reader._sessions() as session:
        rows = await session.scalars(select(ScorecardChange).order_by(ScorecardChange.id))
        return [(row.service, row.level) for row in rows]


async def declare_private(world: World, title: str) -> None:
    await world.incident("declare")
    opened = await eventually(lambda: world.slack.calls("views.open"))
    values = {
        "title": {"value": {"type": "plain_text_input", "value": title}},
        "services": {
            SERVICES_SEARCH: {
                "type": "multi_external_select",
                "selected_options": [{"value": CHECKOUT}],
            }
        },
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    await world.requester.view_submission(
        opened[-1].response["view"]["id"], user_id=ALICE, values=values
    )


async def declare_with_followup(
    world: World, number: int, title: str, *, private: bool = False
) -> None:
    """Incident `number`, on Checkout, with a follow-up of Shop's that was due yesterday."""
    if private:
        await declare_private(world, title)
    else:
        await world.incident(f"declare sev2 service:checkout {title}")
    row = await world.settled(number)
    yesterday = (world.clock.now.date() - timedelta(days=1)).isoformat()
    added = await world.incident(
        f"followup {title} fix team:shop due:{yesterday}", channel=row.channel_id
    )
    assert added.json()["text"].startswith(f"Follow-up added to *INC-{number}*")


def posts(world: World, channel: str, start: str) -> list[Any]:
    return [m for m in world.slack.messages(channel) if m.text.startswith(start)]


async def test_evaluation_stores_each_change_once_with_its_history(world: World) -> None:
    world.clock.now = MONDAY
    first = await world.sb.scorecards.results.evaluate()
    assert (first.results, first.changed, first.dropped) == (3, 3, 0)
    assert (
        await world.sb.scorecards.results.evaluate()
    ).changed == 0  # nothing new: nothing stored

    await world.incident("declare sev2 service:checkout Checkout errors")
    row = await world.settled()
    world.clock.advance(days=2)
    await world.incident("followup Add a breaker team:shop due:2026-03-03", channel=row.channel_id)
    world.clock.advance(days=1)  # the follow-up is overdue now
    dropped = await world.sb.scorecards.results.evaluate()
    assert (dropped.changed, dropped.dropped, dropped.improved) == (1, 1, 0)
    assert await history(world) == [
        (CHECKOUT, "Silver"),
        (SEARCH, "Silver"),
        ("component:default/storefront", "Silver"),  # on call through Web's user group
        (CHECKOUT, "Bronze"),
    ]
    then = await world.sb.scorecards.results.as_of(MONDAY + timedelta(days=1))
    now = await world.sb.scorecards.results.now()
    assert then[("basics", CHECKOUT)].level == "Silver"
    assert now[("basics", CHECKOUT)].level == "Bronze"
    assert now[("basics", CHECKOUT)].failing == ("followups",)


async def test_a_team_hears_once_a_day_of_services_that_got_worse(world: World) -> None:
    world.slack.add_channel("shop")
    world.clock.now = MONDAY
    await world.sb.scorecards.results.evaluate()
    assert "not due" in await world.sb.teams.scorecard_nags.run(Run())  # before 10:00

    world.clock.now = MONDAY.replace(hour=10, minute=5)
    said = await world.sb.teams.scorecard_nags.run(Run())
    assert said == ("scorecard nags for 2026-03-02: 0 team(s) with services that got worse; 0 sent")
    await declare_with_followup(world, 1, "Checkout errors")
    world.clock.now = MONDAY + timedelta(days=1)  # 09:30, the follow-up is overdue
    await world.sb.scorecards.results.evaluate()  # what the evaluation job does every hour

    world.clock.now = MONDAY.replace(hour=10, minute=5) + timedelta(days=1)
    said = await world.sb.teams.scorecard_nags.run(Run())
    assert said.startswith("scorecard nags for 2026-03-03: 1 team(s) with services that got")
    (nag,) = posts(world, "shop", ":chart_with_downwards_trend:")
    assert nag.text == (
        ":chart_with_downwards_trend: 1 of your services got worse on a scorecard since yesterday"
    )
    assert nag.blocks[1]["text"]["text"] == (
        "*Checkout* · Basics: Silver → *Bronze*\nTo fix:\n• No overdue follow-ups (newly failing)"
    )
    again = await world.sb.teams.scorecard_nags.run(Run())
    assert again.endswith("0 sent, 1 nagged earlier today")
    world.clock.advance(days=1)  # still failing, but no worse than yesterday: no nag
    await world.sb.scorecards.results.evaluate()
    world.clock.advance(hours=1)
    await world.sb.scorecards.results.evaluate()
    assert "0 team(s)" in await world.sb.teams.scorecard_nags.run(Run())
    assert len(posts(world, "shop", ":chart_with_downwards_trend:")) == 1


async def test_the_weekly_digest_tells_each_team_its_week(world: World) -> None:
    world.slack.add_channel("shop")
    world.clock.now = MONDAY - timedelta(days=7, hours=1)
    await world.sb.scorecards.results.evaluate()  # where the services stood when the week began
    world.clock.now = MONDAY - timedelta(days=3)
    await declare_with_followup(world, 1, "Checkout errors")
    await declare_with_followup(world, 2, "Leaked card numbers", private=True)
    world.clock.now = MONDAY

    said = await world.sb.teams.digest.run(Run())
    assert said.splitlines() == [
        "weekly digest of 2026-03-02: 1 sent, 1 chart shared",
        "skipped group:default/web: the team has no Slack channel in the catalog",
    ]
    (digest,) = posts(world, "shop", "Weekly digest")
    assert digest.text == "Weekly digest for Shop: 23 Feb to 1 Mar 2026"
    text = "\n".join(b["text"]["text"] for b in digest.blocks if b["type"] == "section")
    assert "• Checkout: *Bronze* :arrow_down: from Silver · 67%" in text
    assert "• Search: *Silver* · 100%" in text
    assert ":warning: Checkout (Basics): dropped from Silver to Bronze" in text
    assert "• No overdue follow-ups: 1 of 2 service(s)" in text
    assert "2 open, 2 overdue." in text
    assert "• Checkout errors fix (INC-1, due 2026-02-26, the team)" in text
    assert "…and 1 overdue from private incidents (not named here)" in text
    assert "• INC-1 · SEV2 · Checkout errors · investigating" in text
    assert "1 private incident (not named here)" in text
    assert (
        ":warning: Checkout (Checkout and Storefront reach Silver): not there yet, due 2026-03-09"
        in text
    )
    assert "0 of 1 of your services (0%) · missing: Checkout" in text
    assert "Leaked" not in str(digest.blocks)
    assert len(digest.blocks) <= 50
    # the footer names the team, as it is typed: no `<name>`, which Slack renders as a link
    footer = digest.blocks[-1]["elements"][0]["text"]
    assert footer == "`/scorecard team:shop` shows every service and rule."

    again = await world.sb.teams.digest.run(Run())
    assert again.splitlines()[0] == "weekly digest of 2026-03-02: nothing to send, 1 sent earlier"
    world.clock.advance(days=3)  # later in the week: still this week's, sent already
    assert "nothing to send" in await world.sb.teams.digest.run(Run())
    assert len(posts(world, "shop", "Weekly digest")) == 1


@pytest.mark.fallback("#team-digests")
async def test_a_team_without_a_channel_gets_its_digest_in_the_fallback(world: World) -> None:
    fallback = world.slack.add_channel("team-digests")
    world.clock.now = MONDAY
    said = await world.sb.teams.digest.run(Run(team="web"))
    assert said == "weekly digest of 2026-03-02: 1 sent"
    (digest,) = posts(world, fallback, "Weekly digest")
    context = digest.blocks[1]["elements"][0]["text"]
    assert context.endswith("(here because team *web* has no Slack channel in the catalog)")
    assert BOB not in str(digest.blocks)


async def test_teams_behind_an_initiative_are_reminded_as_its_deadline_nears(
    world: World,
) -> None:
    world.slack.add_channel("shop")
    world.clock.now = MONDAY - timedelta(days=3)
    await declare_with_followup(world, 1, "Checkout errors")
    world.clock.now = MONDAY.replace(hour=10, minute=5)  # 7 days before the deadline
    await world.sb.scorecards.results.evaluate()

    said = await world.sb.teams.initiative_reminders.run(Run())
    # Web's Storefront is on call through Web's user group: Silver, so Web is not behind
    assert said.splitlines() == ["initiative reminders for 2026-03-02: 1 sent"]
    (reminder,) = posts(world, "shop", ":hourglass_flowing_sand:")
    assert reminder.text == (
        ":hourglass_flowing_sand: Initiative *Checkout and Storefront reach Silver* is due in 7"
        " days (2026-03-09): 1 of your 1 services is not there yet"
    )
    assert reminder.blocks[1]["text"]["text"] == "• *Checkout* needs No overdue follow-ups"

    world.clock.advance(days=1)  # 6 days left: the 7-day reminder was sent already
    assert (await world.sb.teams.initiative_reminders.run(Run())).startswith(
        "initiative reminders for 2026-03-03: 0 sent, 1 already sent"
    )
    world.clock.advance(days=5)  # the day before the deadline: the 1-day reminder
    assert "1 sent" in await world.sb.teams.initiative_reminders.run(Run())
    assert len(posts(world, "shop", ":hourglass_flowing_sand:")) == 2


async def test_a_digest_run_on_its_own_evaluates_the_scorecards_first(
    world: World, config: Config
) -> None:
    """`switchboard jobs run weekly-digest` on a database never evaluated: a process that
    neither synced the catalog nor read the scorecard files, as the command line builds it."""
    world.slack.add_channel("shop")
    world.clock.now = MONDAY
    alone = build(world.sb.core.settings, config, world.clock)
    try:
        job = alone.jobs.get("weekly-digest")
        assert job is not None
        assert (
            await job.run(Run(team="shop", manual=True))
        ) == "weekly digest of 2026-03-02: 1 sent"
    finally:
        await alone.close()
    (digest,) = posts(world, "shop", "Weekly digest")
    text = "\n".join(b["text"]["text"] for b in digest.blocks if b["type"] == "section")
    assert "No scorecard applies" not in text
    assert "• Checkout: *Silver* (new this week) · 100%" in text


async def test_a_digest_says_plainly_when_no_scorecard_could_be_evaluated(
    world: World, config: Config, tmp_path: Path
) -> None:
    world.slack.add_channel("shop")
    world.clock.now = MONDAY
    (tmp_path / "basics.yaml").write_text("scorecard: basics\nrules:\n  - id: x\n    check: nope\n")
    alone = build(world.sb.core.settings, config, world.clock)
    try:
        for name, said in (
            ("weekly-digest", "weekly digest of 2026-03-02: 1 sent"),
            ("scorecard-nags", "scorecard nags for 2026-03-02: no scorecard was evaluated"),
            ("initiative-reminders", "initiative reminders for 2026-03-02: no scorecard was"),
        ):
            job = alone.jobs.get(name)
            assert job is not None
            assert (await job.run(Run(team="shop", manual=True))).startswith(said)
    finally:
        await alone.close()
    (digest,) = posts(world, "shop", "Weekly digest")
    text = "\n".join(b["text"]["text"] for b in digest.blocks if b["type"] == "section")
    assert (
        "No scorecard was evaluated: the scorecard files have 1 error(s), which "
        "`switchboard scorecards check` shows."
    ) in text
    assert "No scorecard applies" not in text and "Nothing at risk" not in text

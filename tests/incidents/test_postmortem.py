"""Postmortem drafts: the whole record in Markdown (times in the configured zone, exact
durations, role history, the merged timeline, follow-ups), shared in the incident channel as
a file once on resolve and on demand, a team's own template with `file:line` errors, and
`switchboard postmortem` on the command line."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from switchboard.bot.incidents.postmortem import TemplateFailure
from switchboard.bot.platform.config import Config, IncidentsConfig
from switchboard.cli import main
from switchboard.storage import db
from switchboard.storage.tables import FollowUp, TimelineEntry
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, BOB, CAROL, DAVE, World

T0 = datetime(2026, 3, 27, 22, 15, tzinfo=UTC)  # 23:15 in Berlin; summer time starts on the 29th
TEAM_TEMPLATE = "team template"
LONG = "Errors from the card provider: " + "timeout " * 700


@pytest.fixture
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """Berlin time; with the `team template` parameter, a team's own template file."""
    template = str(tmp_path / "team.md.j2") if getattr(request, "param", "") else ""
    return Config(timezone="Europe/Berlin", incidents=IncidentsConfig(postmortem_template=template))


async def declare(world: World, title: str, description: str = "", private: bool = False) -> Any:
    """Declare from the modal, with a description, on service Checkout."""
    await world.incident("declare")
    opened = await eventually(lambda: world.slack.calls("views.open"))
    options = [{"value": "private"}] if private else []
    values = {
        "title": {"value": {"type": "plain_text_input", "value": title}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "SEV2"}}},
        "services": {
            "incident_services": {
                "type": "multi_external_select",
                "selected_options": [{"value": "component:default/checkout"}],
            }
        },
        "description": {"value": {"type": "plain_text_input", "value": description}},
        "options": {"value": {"type": "checkboxes", "selected_options": options}},
    }
    await world.requester.view_submission(
        opened[-1].response["view"]["id"], user_id=ALICE, values=values
    )
    return await world.settled()


async def command(world: World, row: Any, text: str, user: str = ALICE) -> Any:
    await world.incident(text, user=user, channel=row.channel_id)
    return await world.settled()


async def add(world: World, *rows: TimelineEntry | FollowUp) -> None:
    """What the timeline and follow-up features store, written straight to the database."""
    async with db.session_factory(world.sb.core.engine)() as session:
        session.add_all(rows)
        await session.commit()


def entry(source: str, at: datetime, author: str, text: str, **more: Any) -> TimelineEntry:
    return TimelineEntry(incident_id=1, source=source, at=at, author=author, text=text, **more)


def shared(world: World) -> list[Any]:
    """The files shared in a channel (an upload never completed is not)."""
    return [f for f in world.slack.files.values() if f.channels]


def section(markdown: str, heading: str) -> str:
    """One `## heading` section's text, without the heading."""
    start = markdown.index(f"\n## {heading}\n") + len(heading) + 5
    end = markdown.find("\n## ", start)
    return markdown[start : end if end != -1 else None].strip("\n")


async def realistic(world: World) -> Any:
    """INC-1 from declare to resolve over two days and a change to summer time, with
    reactions, notes, a backfilled event and follow-ups."""
    world.clock.now = T0
    row = await declare(
        world,
        "Checkout errors\n# not a heading",
        "Card payments fail for some customers.\n```\nan open fence",
    )
    world.clock.advance(minutes=4)
    row = await command(world, row, f"assign commander <@{BOB}>")
    world.clock.advance(minutes=16)
    row = await command(world, row, f"update {LONG}")
    world.clock.advance(minutes=40)
    row = await command(world, row, f"assign commander <@{CAROL}>")
    await add(
        world,
        entry("backfill", T0 - timedelta(minutes=10), BOB, "Deploy 4512 went out"),
        entry(
            "reaction",
            T0 + timedelta(minutes=10),
            DAVE,
            LONG + "\nline two\n# still the same entry",
            added_by=BOB,
            channel_id=row.channel_id,
            message_ts="1774649700.000100",
            permalink="https://example.slack.com/archives/C1/p1774649700000100",
            files=[{"name": "errors.png", "url": "https://files.example/errors.png"}],
        ),
        entry("note", T0 + timedelta(minutes=30), CAROL, "It was the CDN", deleted=True),
        FollowUp(
            incident_id=1,
            text="Alert on the checkout error rate",
            owner_user=BOB,
            due=date(2026, 4, 3),
            created_by=ALICE,
            created_at=T0 + timedelta(hours=2),
        ),
        FollowUp(
            incident_id=1,
            text="Runbook for card provider outages",
            owner_team="group:default/shop",
            state="done",
            created_by=BOB,
            created_at=T0 + timedelta(hours=3),
        ),
    )
    world.clock.now = T0 + timedelta(days=1, hours=2, minutes=3)
    row = await command(world, row, "status monitoring")
    world.clock.now = T0 + timedelta(days=2, hours=3, minutes=4)
    return await command(world, row, "resolve")


async def test_the_draft_tells_the_whole_record(world: World) -> None:
    row = await realistic(world)
    markdown = (await world.sb.incidents.postmortems.draft(1)).markdown
    assert markdown.startswith(
        "# Postmortem: INC-1 Checkout errors # not a heading\n\n"
        "_A draft made from the incident record on 2026-03-30 03:19 CEST. "
        "Times are in Europe/Berlin._\n\n"
        f"- **Incident:** INC-1 (#{row.channel_name})\n"
        "- **Severity:** SEV2: Major: a core feature degraded\n"
        "- **Status:** resolved\n"
        "- **Declared by:** @Alice\n\n"
    )
    assert section(markdown, "Summary") == (
        "> Card payments fail for some customers.\n> ```\n> an open fence"
    )
    assert "- **Services affected:** Checkout\n" in section(markdown, "Impact")
    assert section(markdown, "Services and owners") == (
        "- **Checkout** (`component:default/checkout`): Shop (#shop)"
    )
    assert section(markdown, "Milestones") == (
        "| Milestone | When | Since declared |\n"
        "|---|---|---|\n"
        "| Declared | 2026-03-27 23:15 CET |  |\n"
        "| Acknowledged | 2026-03-27 23:19 CET | 4 min |\n"
        "| Mitigated | 2026-03-29 01:18 CET | 1 d 2 h 3 min |\n"
        "| Resolved | 2026-03-30 03:19 CEST | 2 d 3 h 4 min |\n"
        "| Closed | not yet |  |"
    )
    assert section(markdown, "People") == (
        "- **Participants:** @Alice, @Bob, @carol\n"
        "- **Commander:** @Bob from 2026-03-27 23:19 CET to 2026-03-28 00:15 CET "
        "(assigned by @Alice)\n"
        "- **Commander:** @carol from 2026-03-28 00:15 CET on (assigned by @Alice)"
    )
    timeline = section(markdown, "Timeline")
    items = [line for line in timeline.splitlines() if line.startswith("- ")]
    assert items == [
        "- **2026-03-27 23:05 CET** · backfill · @Bob: Deploy 4512 went out",
        "- **2026-03-27 23:15 CET** · lifecycle: "
        "@Alice declared INC-1: Checkout errors # not a heading",
        "- **2026-03-27 23:15 CET** · lifecycle: "
        "Paged the on-call of **Checkout** through PagerDuty.",
        "- **2026-03-27 23:19 CET** · lifecycle: @Alice made @Bob the commander.",
        f"- **2026-03-27 23:25 CET** · reaction · @dave: {LONG}",
        f"- **2026-03-27 23:35 CET** · lifecycle: **Status update** from @Alice: {LONG.strip()}",
        "- **2026-03-27 23:45 CET** · note · @carol · **deleted in Slack**: It was the CDN",
        "- **2026-03-28 00:15 CET** · lifecycle: @Alice made @carol the commander.",
        "- **2026-03-29 01:18 CET** · lifecycle: "
        "@Alice changed the status from **investigating** to **monitoring**.",
        "- **2026-03-30 03:19 CEST** · lifecycle: "
        "@Alice changed the status from **monitoring** to **resolved**.",
    ]
    # A long entry is whole, its lines stay inside its item, with its files and its link.
    assert (
        f"{LONG}\n  line two\n  # still the same entry\n"
        "  - File: [errors.png](https://files.example/errors.png)\n"
        "  - [The message in Slack](https://example.slack.com/archives/C1/p1774649700000100)\n"
    ) in timeline
    assert section(markdown, "Follow-ups") == (
        "- [ ] **open** · @Bob · due 2026-04-03: Alert on the checkout error rate\n"
        "- [x] **done** · Shop: Runbook for card provider outages"
    )
    assert "## Contributing factors\n" in markdown
    assert "## Lessons learned\n" in markdown


async def test_a_draft_made_later_shows_the_record_as_it_is_then(world: World) -> None:
    row = await declare(world, "Search slow")
    first = (await world.sb.incidents.postmortems.draft(1)).markdown
    assert "None yet: add them with" in first
    world.clock.advance(minutes=3)
    row = await command(world, row, "severity sev1", user=BOB)
    await add(
        world,
        FollowUp(
            incident_id=1,
            text="Cache the search index",
            owner_user=DAVE,
            created_by=BOB,
            created_at=world.clock.now,
        ),
    )
    later = (await world.sb.incidents.postmortems.draft(1)).markdown
    assert "- **Severity:** SEV1: Critical: customers badly affected\n" in later
    assert "@Bob changed the severity from **SEV2** to **SEV1**." in later
    assert section(later, "Follow-ups") == "- [ ] **open** · @dave: Cache the search index"


async def test_resolving_shares_the_draft_once(world: World) -> None:
    row = await declare(world, "Checkout errors")
    world.clock.advance(hours=1)
    row = await command(world, row, "resolve")
    (file,) = shared(world)
    assert (file.name, file.title) == (
        "postmortem-INC-1.md",
        "Postmortem draft: INC-1 Checkout errors",
    )
    assert file.channels == [row.channel_id]
    assert file.content.decode() == (await world.sb.incidents.postmortems.draft(1)).markdown
    said = world.slack.messages(row.channel_id)
    assert said[-2].text == f"<@{ALICE}> changed the status from *investigating* to *resolved*."
    assert said[-1].text.startswith("Postmortem draft for *INC-1*: Checkout errors.")
    assert said[-1].extra["files"][0]["id"] == file.id
    # The sync running again, the scheduler, closing: no second draft.
    assert await world.sb.incidents.sync.run(1)
    await world.retry()
    await command(world, row, "close")
    assert len(shared(world)) == 1


async def test_a_failed_upload_is_retried(world: World) -> None:
    row = await declare(world, "Checkout errors")
    world.slack.fail("files.completeUploadExternal", error="internal_error")
    row = await command(world, row, "resolve")
    assert shared(world) == []
    assert "postmortem" not in row.steps_done
    await world.retry()
    (file,) = shared(world)
    assert file.name == "postmortem-INC-1.md"
    assert "postmortem" in (await world.settled()).steps_done


async def test_the_command_shares_the_current_draft(world: World) -> None:
    row = await declare(world, "Checkout <!channel> errors")
    url = world.slack.new_response_url(channel_id=row.channel_id, user_id=BOB)
    await world.requester.slash_command(
        "/incident", "postmortem", user_id=BOB, channel_id=row.channel_id, response_url=url
    )
    (told,) = await eventually(lambda: world.slack.response_posts(url))
    assert told["text"] == f"The postmortem draft of *INC-1* is in <#{row.channel_id}>."
    (file,) = shared(world)
    assert file.content.decode().startswith("# Postmortem: INC-1 Checkout <!channel> errors\n")
    comment = world.slack.messages(row.channel_id)[-1].text
    assert comment.startswith("Postmortem draft for *INC-1*: Checkout &lt;!channel&gt; errors.")
    # From anywhere, naming it, after the record changed: shared again.
    row = await command(world, row, "update Card payments are back")
    elsewhere = world.slack.new_response_url(channel_id=world.elsewhere, user_id=BOB)
    await world.requester.slash_command(
        "/incident",
        "postmortem INC-1",
        user_id=BOB,
        channel_id=world.elsewhere,
        response_url=elsewhere,
    )
    await eventually(lambda: world.slack.response_posts(elsewhere))
    assert len(shared(world)) == 2


async def test_a_draft_that_did_not_change_is_not_posted_again(world: World) -> None:
    """`/incident postmortem`, then resolve: one draft, not two identical ones."""
    row = await declare(world, "Checkout errors")
    world.slack.fail("files.completeUploadExternal", error="internal_error")
    row = await command(world, row, "resolve")  # the sync's draft waits for its retry
    assert shared(world) == []
    world.clock.advance(minutes=3)  # a draft made later, saying so, is the same draft
    url = world.slack.new_response_url(channel_id=row.channel_id, user_id=ALICE)
    await world.requester.slash_command(
        "/incident", "postmortem", user_id=ALICE, channel_id=row.channel_id, response_url=url
    )
    await eventually(lambda: world.slack.response_posts(url))
    assert len(shared(world)) == 1
    await world.retry()  # the sync's turn: the same draft is in the channel already
    assert len(shared(world)) == 1
    assert "postmortem" in (await world.settled()).steps_done
    again = world.slack.new_response_url(channel_id=row.channel_id, user_id=ALICE)
    await world.requester.slash_command(
        "/incident", "postmortem", user_id=ALICE, channel_id=row.channel_id, response_url=again
    )
    (told,) = await eventually(lambda: world.slack.response_posts(again))
    assert told["text"] == (
        f"The postmortem draft of *INC-1* is in <#{row.channel_id}>. It has not changed "
        "since it was shared there, so it is not posted again."
    )
    assert len(shared(world)) == 1


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("postmortem INC-9", "There is no incident INC-9."),
        (
            "postmortem",
            "This is not an incident channel. Name the incident: "
            "`/incident status INC-4 identified`.",
        ),
    ],
)
async def test_the_command_names_an_incident(world: World, text: str, answer: str) -> None:
    url = world.slack.new_response_url(channel_id=world.elsewhere, user_id=ALICE)
    await world.requester.slash_command(
        "/incident", text, user_id=ALICE, channel_id=world.elsewhere, response_url=url
    )
    (told,) = await eventually(lambda: world.slack.response_posts(url))
    assert told["text"] == answer
    assert shared(world) == []


async def test_a_private_incident_s_draft_is_for_its_participants(world: World) -> None:
    await declare(world, "Leaked keys", private=True)
    url = world.slack.new_response_url(channel_id=world.elsewhere, user_id=DAVE)
    await world.requester.slash_command(
        "/incident", "postmortem INC-1", user_id=DAVE, channel_id=world.elsewhere, response_url=url
    )
    (told,) = await eventually(lambda: world.slack.response_posts(url))
    assert told["text"] == "INC-1 is private: only its participants may draft its postmortem."
    assert shared(world) == []
    markdown = (await world.sb.incidents.postmortems.draft(1)).markdown
    assert "- **Visibility:** private\n" in markdown


@pytest.mark.parametrize("config", [TEAM_TEMPLATE], indirect=True)
async def test_a_team_template_and_its_errors(world: World, config: Config) -> None:
    path = Path(config.incidents.postmortem_template)
    row = await declare(world, "Checkout errors")
    with pytest.raises(TemplateFailure) as missing:
        await world.sb.incidents.postmortems.draft(1)
    assert str(missing.value) == f"{path}: no such template file"

    await asyncio.to_thread(
        path.write_text, "# {{ incident.ref }}: {{ incident.title }}\n{% for x in %}\n"
    )
    with pytest.raises(TemplateFailure) as syntax:
        await world.sb.incidents.postmortems.draft(1)
    assert str(syntax.value).startswith(f"{path}:2: ")

    await asyncio.to_thread(
        path.write_text, "# {{ incident.ref }}\n\nOwner: {{ incident.owner }}\n"
    )
    with pytest.raises(TemplateFailure) as undefined:
        await world.sb.incidents.postmortems.draft(1)
    facts = "'switchboard.bot.incidents.postmortem_view.Facts object'"
    problem = f"{path}:3: {facts} has no attribute 'owner'"
    assert str(undefined.value) == problem
    # Said where it was asked for, and in the channel on resolve, which does not retry it.
    url = world.slack.new_response_url(channel_id=row.channel_id, user_id=ALICE)
    await world.requester.slash_command(
        "/incident", "postmortem", user_id=ALICE, channel_id=row.channel_id, response_url=url
    )
    (told,) = await eventually(lambda: world.slack.response_posts(url))
    assert told["text"] == f"I could not draft the postmortem: {problem}"
    row = await command(world, row, "resolve")
    assert world.texts(row.channel_id)[-1] == f"I could not draft the postmortem: {problem}"
    assert "postmortem" in row.steps_done
    assert shared(world) == []

    # Fixed, with a part of its own: read again without a restart.
    part = path.parent / "part.md.j2"
    await asyncio.to_thread(path.write_text, "# {{ incident.ref }}\n{% include 'part.md.j2' %}")
    await asyncio.to_thread(part.write_text, "{{ incident.title }} ({{ incident.status }})\n")
    assert (
        await world.sb.incidents.postmortems.draft(1)
    ).markdown == "# INC-1\nCheckout errors (resolved)\n"
    # An error in the part is told where it is.
    await asyncio.to_thread(part.write_text, "{{ incident.title }}\n{{ 1 // 0 }}\n")
    with pytest.raises(TemplateFailure) as in_part:
        await world.sb.incidents.postmortems.draft(1)
    assert str(in_part.value) == f"{part}:2: integer division or modulo by zero"


@pytest.mark.parametrize("config", [TEAM_TEMPLATE], indirect=True)
async def test_a_template_changed_to_reach_for_python_drafts_nothing(
    world: World, config: Config
) -> None:
    """Checked at load, then edited while the bot runs: the sandbox still refuses it."""
    path = Path(config.incidents.postmortem_template)
    row = await declare(world, "Checkout errors")
    body = "# {{ incident.ref }}\n{{ self.__init__.__globals__['os'].popen('id').read() }}\n"
    await asyncio.to_thread(path.write_text, body)
    row = await command(world, row, "resolve")
    problem = f"{path}:2: access to attribute '__init__' of 'TemplateReference' object is unsafe."
    assert world.texts(row.channel_id)[-1] == f"I could not draft the postmortem: {problem}"
    assert shared(world) == []


@pytest.fixture
async def drafted(world: World) -> str:
    """INC-1 resolved, with only people the catalog knows: the command line asks Slack nothing
    (and the fake's loop does not run while a synchronous test does)."""
    world.clock.now = T0
    row = await declare(world, "Checkout errors", "Card payments fail.")
    world.clock.advance(minutes=4)
    row = await command(world, row, f"assign commander <@{BOB}>")
    world.clock.advance(hours=2, seconds=30)
    await command(world, row, "resolve")
    return (await world.sb.incidents.postmortems.draft(1)).markdown


def test_the_command_line_prints_the_draft(
    drafted: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = tmp_path / "switchboard.yaml"
    settings.write_text("timezone: Europe/Berlin\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(settings))
    for name in ("SWITCHBOARD_CATALOG", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    assert main(["postmortem", "INC-1"]) == 0
    printed = capsys.readouterr().out
    # Only when it was made differs: the command line runs on the real clock.
    assert _undated(printed) == _undated(drafted)
    assert "| Resolved | 2026-03-28 01:19 CET | 2 h 4 min 30 s |" in printed

    assert main(["postmortem", "inc-7"]) == 1
    assert capsys.readouterr().err == "switchboard: There is no incident INC-7.\n"
    with pytest.raises(SystemExit):
        main(["postmortem", "checkout"])
    assert "'checkout' is not an incident: give INC-4 or 4" in capsys.readouterr().err


def _undated(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if not line.startswith("_A draft made")]

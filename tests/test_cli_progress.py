"""Long commands show their progress on a terminal, and only their summary line otherwise:
when stderr is no terminal (a pipe, a log, CI) or `--quiet` is given."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from switchboard.bot.platform import progress
from switchboard.cli import main
from tests.conftest import eventually

CATALOG = """\
switchboard: 1
services:
  - {id: checkout, name: Checkout, owner: shop}
teams:
  - {id: shop, name: Shop}
"""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    for name in ("SWITCHBOARD_CATALOG", "SWITCHBOARD_CONFIG", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "catalog.yaml").write_text(CATALOG)


@pytest.mark.parametrize(
    ("argv", "summary"),
    [
        (
            ["catalog", "import", "catalog.yaml"],
            "imported 2 entities from 1 files: 2 added, 0 updated, 0 removed, 0 unchanged",
        ),
        (["catalog", "check", "catalog.yaml"], "ok: 2 entities in 1 files"),
        (["db", "upgrade"], "database is up to date"),
    ],
)
@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_without_a_terminal_only_the_summary_line_is_printed(
    capsys: pytest.CaptureFixture[str], argv: list[str], summary: str, quiet: list[str]
) -> None:
    assert main([*argv, *quiet]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (summary + "\n", "")


def test_quiet_is_taken_by_the_long_commands_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["catalog", "show", "checkout", "--quiet"])
    assert "unrecognized arguments: --quiet" in capsys.readouterr().err


async def test_a_terminal_shows_each_stage_with_its_count() -> None:
    screen = Terminal()
    with progress.on_terminal(stream=screen, after=0) as tell:
        tell("files read", 0, 40)
        tell("files read", 40, 40)
        tell("entities written", 1000, 4000)
        await eventually(lambda: "entities written" in screen.getvalue())
    shown = screen.getvalue()
    assert "files read" in shown and "40/40" in shown
    assert "1000/4000" in shown


async def test_a_terminal_shows_nothing_of_work_shorter_than_the_delay() -> None:
    screen = Terminal()
    with progress.on_terminal(stream=screen, after=60) as tell:
        tell("files read", 1, 1)
    assert screen.getvalue() == ""


def test_quiet_or_no_terminal_shows_nothing() -> None:
    for screen, asked in ((Terminal(), True), (io.StringIO(), False)):
        with progress.on_terminal(stream=screen, asked_quiet=asked) as tell:
            tell("files read", 1, 1)
        assert tell is progress.quiet
        assert screen.getvalue() == ""

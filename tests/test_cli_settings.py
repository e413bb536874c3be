"""A missing or malformed setting is one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from switchboard.cli import main
from tests.conftest import ROOT

VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "SWITCHBOARD_CATALOG",
    "SWITCHBOARD_CONFIG",
    "PORT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env, and the default SQLite file lands here
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("command", "missing"),
    [(["serve"], "SLACK_BOT_TOKEN"), (["socket"], "SLACK_BOT_TOKEN")],
)
def test_missing_token_is_named(
    capsys: pytest.CaptureFixture[str], command: list[str], missing: str
) -> None:
    code, _, err = run(capsys, *command)
    assert code == 2
    assert err == f"switchboard: {missing} is not set (see the README, section Settings)\n"


def test_socket_mode_needs_the_app_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    code, _, err = run(capsys, "socket")
    assert (code, err) == (
        2,
        "switchboard: SLACK_APP_TOKEN is not set (see the README, section Settings)\n",
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "eighty", "switchboard: PORT is malformed: "),
        ("DATABASE_URL", "mysql://db/x", "switchboard: DATABASE_URL is malformed: "),
        ("SLACK_API_URL", "slack.com/api", "switchboard: SLACK_API_URL is malformed: "),
    ],
)
def test_malformed_setting_is_named_without_its_value(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "catalog", "check", ".")
    assert code == 2
    assert err.startswith(expected)
    assert err.count("\n") == 1


def test_settings_come_from_a_dotenv_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("PORT=not-a-port\n")
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 2
    assert err.startswith("switchboard: PORT is malformed")


def test_bad_config_file_points_at_the_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "switchboard.yml"
    config.write_text("timezone: Mars/Olympus\n")
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 2
    assert err.startswith(f"switchboard: {config}: timezone: Value error, unknown time zone")


def test_config_yaml_syntax_error_has_a_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "switchboard.yml"
    config.write_text("timezone: UTC\ncatalog: [unclosed\n")
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    code, _, err = run(capsys, "db", "upgrade")
    assert (code, err) == (2, f"switchboard: {config}:3: not valid YAML\n")


def test_unreachable_database_is_one_line_without_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bob:hunter2@127.0.0.1:9/nowhere")
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 1
    assert err.startswith("switchboard: cannot use the database postgresql+asyncpg://bob:***@")
    assert "hunter2" not in err
    assert err.count("\n") == 1


def test_db_upgrade_creates_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "upgrade") == (0, "database is up to date\n", "")
    assert run(capsys, "db", "upgrade") == (0, "database is up to date\n", "")


BAD_CONFIGS = {
    "an unknown placeholder": (
        'incidents:\n  channel_name: "inc-{number}-{team}"\n',
        "incidents.channel_name: Value error, {team} is not a placeholder here; "
        "use {date}, {number}, {slug}",
    ),
    "attribute access": (
        'incidents:\n  channel_name: "inc-{number.__class__}"\n',
        "incidents.channel_name: Value error, {number.__class__}: no attribute or index "
        "access; use {date}, {number}, {slug}",
    ),
    "index access": (
        'incidents:\n  channel_name: "inc-{number}-{slug[0]}"\n',
        "incidents.channel_name: Value error, {slug[0]}: no attribute or index access; "
        "use {date}, {number}, {slug}",
    ),
    "a width": (
        'incidents:\n  channel_name: "inc-{number:>999999999}"\n',
        "incidents.channel_name: Value error, {number}: no format or conversion; "
        "use {date}, {number}, {slug}",
    ),
    "a lone brace": (
        'incidents:\n  channel_name: "inc-{number"\n',
        "incidents.channel_name: Value error, expected '}' before end of string "
        "(write {{ or }} for a brace); use {date}, {number}, {slug}",
    ),
    "no number": (
        'incidents:\n  channel_name: "inc-{slug}"\n',
        "incidents.channel_name: Value error, must contain {number}, so every name is unique",
    ),
    "nested without end": ("catalog: " + "[" * 5000 + "]" * 5000 + "\n", None),
}


@pytest.mark.parametrize(
    "argv",
    [["serve"], ["socket"], ["demo", "--port", "0"], ["jobs", "run", "incident-sync"]],
    ids=lambda argv: argv[0],
)
@pytest.mark.parametrize(("text", "problem"), BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_a_config_that_would_fail_later_is_refused_at_load(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
    text: str,
    problem: str | None,
) -> None:
    """Every command that starts the bot, or runs one of its jobs, says what is wrong with
    the file and where, before anything starts (no database file is made)."""
    config = tmp_path / "switchboard.yml"
    config.write_text(text)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s" * 32)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    code, out, err = run(capsys, *argv)
    where = (
        f"{config}:1: nested deeper than 16 levels" if problem is None else f"{config}: {problem}"
    )
    assert (code, out, err) == (2, "", f"switchboard: {where}\n")
    assert not (tmp_path / "cli.db").exists()


@pytest.mark.parametrize(
    "argv", [["serve"], ["serve", "--front"], ["demo"]], ids=["serve", "front", "demo"]
)
def test_a_busy_port_is_one_line_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s" * 32)
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # never asked
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, out, err = run(capsys, *argv, "--host", "127.0.0.1", "--port", str(port))
    assert (code, out) == (2, "")
    assert err == (
        f"switchboard: port {port} on 127.0.0.1 is in use (another switchboard?): "
        "choose another with --port or PORT\n"
    )
    assert not (tmp_path / "cli.db").exists()  # not migrated: nothing started


def test_env_example_copied_unchanged_is_refused_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Its placeholders (`xoxb-...`) would otherwise reach Slack as the bot's token."""
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    code, out, err = run(capsys, "serve")
    assert (code, out) == (2, "")
    assert err == (
        "switchboard: SLACK_BOT_TOKEN is malformed: Value error, it is still a placeholder "
        "(as in .env.example): set the real value, or leave it out (bin/run then starts the "
        "demo)\n"
    )


@pytest.mark.parametrize("value", ["...", "<your signing secret>", "xxxxxxxx", "changeme"])
def test_a_placeholder_secret_is_named_not_used(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", value)
    code, _, err = run(capsys, "serve")
    assert code == 2
    assert err.startswith("switchboard: SLACK_SIGNING_SECRET is malformed: Value error, it is ")


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    said = " ".join(capsys.readouterr().out.split())
    for command in ("serve", "demo", "socket", "catalog", "scorecards", "postmortem", "stats"):
        assert command in said
    assert "jobs list|run" in said

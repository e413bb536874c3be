"""The Dockerfile refers to real things. (No Docker engine here to build it: these check what
can be checked without one, and run its health check against a real `switchboard serve`.)"""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
import tomllib

import pytest

from switchboard.cli import main
from switchboard.fakes.slack.server import FakeSlack
from switchboard.settings import load_settings
from tests.conftest import BOT_TOKEN, EXAMPLES, ROOT, SIGNING_SECRET
from tests.ops.serving import serve
from tests.test_serve_process import free_port


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def only(name: str) -> str:
    (found,) = [args for instruction, args in instructions() if instruction == name]
    return found


def test_the_image_runs_switchboard_serve_as_a_user(capsys: pytest.CaptureFixture[str]) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert only("FROM") == "python:3.11-slim"
    assert pyproject["project"]["requires-python"] == ">=3.11"
    (script,) = json.loads(only("ENTRYPOINT"))
    assert script in pyproject["project"]["scripts"]
    command = json.loads(only("CMD"))
    with pytest.raises(SystemExit) as usage:  # a real subcommand: its help, exit 0
        main([*command, "--help"])
    assert usage.value.code == 0
    assert "serve" in capsys.readouterr().out
    assert only("USER") not in ("root", "0")


def test_what_it_copies_exists_and_is_not_ignored() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for instruction, args in instructions():
        if instruction == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source not in ignored


def test_its_settings_are_settings() -> None:
    env: dict[str, str] = {}
    for instruction, args in instructions():
        if instruction == "ENV":
            env |= dict(pair.split("=", 1) for pair in shlex.split(args))
    settings_env = {k: v for k, v in env.items() if not k.startswith(("PYTHON", "PIP_"))}
    assert set(settings_env) == {"PORT", "LOG_FORMAT", "DATABASE_URL"}
    settings = load_settings(_env_file=None, **settings_env)
    assert (settings.port, settings.log_format) == (3000, "json")
    assert only("EXPOSE") == "3000"


async def test_its_health_check_passes_on_a_running_bot_and_fails_without_one(
    database_url: str, slack: FakeSlack
) -> None:
    health = only("HEALTHCHECK")
    assert health.startswith("--")
    check = health.split(" CMD ", 1)[1]

    async def run_check(port: int) -> int:
        process = await asyncio.create_subprocess_shell(
            check.replace("python ", f"{shlex.quote(sys.executable)} ", 1),
            env={"PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await process.wait()

    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        "SWITCHBOARD_CATALOG": str(EXAMPLES),
    }
    command = json.loads(only("CMD"))  # the image's own: serve --front
    async with serve(env, *command[1:]) as served:
        assert await run_check(int(served.base.rsplit(":", 1)[1])) == 0
    assert await run_check(free_port()) != 0

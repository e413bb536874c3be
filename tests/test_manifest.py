"""manifest.yml is valid for Slack and declares exactly what the app listens to."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from switchboard.fakes.slack.signer import SlackRequester
from switchboard.handlers import COMMANDS, EVENTS
from tests.conftest import on_ci

ROOT = Path(__file__).resolve().parent.parent
# Slack's manifest schema stays in the shared folder (as the real catalog files do): this
# machine's, else beside the checkout.
SCHEMAS = [
    folder / "slack" / "manifest.schema.1.0.0.json"
    for folder in (Path("/work/shared"), ROOT.parent / "shared")
]


def manifest() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_manifest_is_valid_against_slacks_schema() -> None:
    schema = next((path for path in SCHEMAS if path.is_file()), None)
    if schema is None:
        missing = f"Slack's manifest schema not found at {' or '.join(map(str, SCHEMAS))}"
        if on_ci(os.environ):
            pytest.fail(f"{missing} (required on CI)")
        pytest.skip(missing)
    jsonschema.validate(manifest(), json.loads(schema.read_text()))


def test_commands_escape_mentions() -> None:
    commands = manifest()["features"]["slash_commands"]
    assert {c["command"] for c in commands} == {"/owner", "/incident", "/scorecard"}
    assert all(c["should_escape"] is True for c in commands)


async def test_listeners_and_manifest_agree(requester: SlackRequester) -> None:
    data = manifest()
    declared_commands = {c["command"] for c in data["features"]["slash_commands"]}
    declared_events = set(data["settings"]["event_subscriptions"]["bot_events"])
    assert declared_commands == set(COMMANDS)
    assert declared_events == set(EVENTS)
    # ...and each really reaches a listener: Bolt answers 404 to what nobody listens to.
    for command in declared_commands:
        assert (
            await requester.slash_command(command, "help", user_id="U0001ALICE", channel_id="C0001")
        ).status == 200
    for event in declared_events:
        # Subscriptions such as message.channels deliver events of type "message".
        kind = event.split(".")[0]
        # The fields the edge checks of each typed event (a join names its channel).
        inner = {"type": kind, "user": "U0001ALICE", "tab": "home", "channel": "C0001"}
        response = await requester.event(inner)
        assert response.status == 200
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True

"""What an operator reads in the logs: one JSON object a line when LOG_FORMAT=json, naming
the incident and the Slack request each line is about."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.bot.platform import logs
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from tests.conftest import SIGNING_SECRET, eventually
from tests.ops.serving import serve

ALICE = "U0001ALICE"
CATALOG = """\
switchboard: 1
teams:
  - {id: shop, name: Shop, slack_channel: "#shop"}
services:
  - {id: checkout, name: Checkout, owner: shop}
"""


async def test_json_logs_name_the_incident_and_the_request(
    tmp_path: Path, database_url: str, slack: FakeSlack
) -> None:
    slack.add_user("alice", user_id=ALICE)
    elsewhere = slack.add_channel("elsewhere", members=[ALICE])
    slack.add_channel("incidents", bot_member=False)
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        "SWITCHBOARD_CATALOG": str(tmp_path / "catalog.yaml"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
    }
    slack.fail("conversations.setTopic", error="fatal_error")  # a warning to find
    told = slack.new_response_url(channel_id=elsewhere, user_id=ALICE)
    async with (
        serve(env) as served,
        SlackRequester(served.events_url, SIGNING_SECRET, fake=slack) as requester,
    ):
        response = await requester.slash_command(
            "/incident",
            "declare sev2 service:checkout Checkout is slow",
            user_id=ALICE,
            channel_id=elsewhere,
            trigger_id="1234.5678.trigger",
            response_url=told,
        )
        assert response.status == 200
        await eventually(lambda: slack.response_posts(told))  # after the sync's warning

    lines = [json.loads(line) for line in served.stderr]  # every line is one JSON object
    assert all({"timestamp", "level", "logger", "message"} <= set(line) for line in lines)
    declared = next(line for line in lines if line["message"] == "declared INC-1")
    assert declared["incident"] == "INC-1"
    assert declared["slack_request"] == "1234.5678.trigger"
    assert declared["level"] == "INFO"
    stopped = next(line for line in lines if "fatal_error" in line["message"])
    assert stopped["level"] == "WARNING"
    assert (stopped["incident"], stopped["slack_request"]) == ("INC-1", "1234.5678.trigger")
    started = next(line for line in lines if line["message"].startswith("listening on"))
    assert "incident" not in started and "slack_request" not in started


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The log as `configure` sets it up for the process, into a string."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers.clear()
    stream = io.StringIO()
    logs.configure("DEBUG", "json", logs.Redactor(["signing-secret-value"]), stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


def test_exceptions_are_one_line_and_redacted(captured: io.StringIO) -> None:
    try:
        raise ValueError("bad value 'signing-secret-value' and xoxb-123-456-abc")
    except ValueError:
        logging.getLogger("switchboard.test").exception("it failed for xapp-1-A1-2-b2")
    (line,) = captured.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "it failed for [redacted]"
    assert entry["exception"].startswith("Traceback")
    assert "ValueError: bad value '[redacted]' and [redacted]" in entry["exception"]


def test_text_format_shows_the_context() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.TextFormatter(logs.Redactor()))
    record = logging.LogRecord("switchboard", logging.INFO, __file__, 1, "hello", None, None)
    logs.about_incident("INC-7")
    token = logs.SLACK_REQUEST.set("Ev123")
    try:
        handler.emit(record)
    finally:
        logs.SLACK_REQUEST.reset(token)
        logs.INCIDENT.set("")
    assert stream.getvalue().endswith(
        " INFO switchboard [incident=INC-7 slack_request=Ev123]: hello\n"
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("token xoxb-12-34-AbC and xapp-1-A2-3-d4", "token [redacted] and [redacted]"),
        ("xoxp-1-2 xoxe.xoxp-1-2", "[redacted] [redacted]"),
        (
            '{"integration_key": "k3y", "name": "x"}',
            '{"integration_key": "[redacted]", "name": "x"}',
        ),
        ("{'Authorization': 'GenieKey 1234-5678'}", "{'Authorization': '[redacted]'}"),
        ("routing_key=abc&x=1", "routing_key=[redacted]&x=1"),
        ("password=p,a;ss-known-secret!", "password=[redacted]!"),
        ('"integration_key": ""', '"integration_key": ""'),
        ("password authentication failed", "password authentication failed"),
        ("short", "short"),
    ],
)
def test_what_the_redactor_takes_out(text: str, shown: str) -> None:
    assert logs.Redactor(["p,a;ss-known-secret", "short"])(text) == shown

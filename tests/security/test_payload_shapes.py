"""Typed requests at the edge of each listener: `payloads.parse` names what is wrong, odd
payloads get 400 and one log line (no traceback), and text that neither database nor Slack
can encode (lone surrogates) is cleaned at the edge, as NULs are."""

from __future__ import annotations

import json
import re

import pytest

from switchboard.handlers.nags import FollowUps
from switchboard.handlers.payloads import ButtonClick, Malformed, parse
from switchboard.storage.tables import Incident
from tests.incidents.conftest import ALICE, World
from tests.incidents.test_pager_ack import acknowledged, post

URL = "http://127.0.0.1:1/actions/T1/1"
CLICK = {"user": {"id": ALICE}, "actions": [{"action_id": "a", "value": "v"}], "response_url": URL}


def test_parse_names_the_first_wrong_field_and_counts_the_rest() -> None:
    assert parse(ButtonClick, CLICK).action.value == "v"
    cases = {
        "user.id": CLICK | {"user": {"id": "<!channel>"}},
        "actions": CLICK | {"actions": []},
        "actions.0.value": CLICK | {"actions": [{"action_id": "a", "value": 7}]},
        "response_url": {k: v for k, v in CLICK.items() if k != "response_url"},
    }
    for where, payload in cases.items():
        with pytest.raises(Malformed, match="^" + re.escape(f"ButtonClick: {where}: ")):
            parse(ButtonClick, payload)
    two_wrong = CLICK | {"user": {"id": "x"}, "actions": [{"action_id": "a"}]}
    with pytest.raises(Malformed, match=re.escape("ButtonClick: user.id: ") + r".*\([2-9] problem"):
        parse(ButtonClick, two_wrong)


def test_row_ids_that_overflow_a_database_integer_are_malformed() -> None:
    assert parse(FollowUps, {"ids": ["1", "2"]}).ids == (1, 2)
    for ids in (["9" * 30], ["0"], ["-5"], ["1.5"], ["x"], [], ["1"] * 501):
        with pytest.raises(Malformed, match=r"^FollowUps: ids"):
            parse(FollowUps, {"ids": ids})


async def test_lone_surrogates_in_a_modal_are_stored_as_replacement_characters(
    world: World,
) -> None:
    """A title with a lone surrogate (valid JSON, `\\ud800`) raised UnicodeEncodeError in
    SQLite and PostgreSQL alike, with a traceback; it is stored with U+FFFD instead."""
    await world.incident("declare")
    (opened,) = world.slack.calls("views.open")
    values = {"title": {"value": {"type": "plain_text_input", "value": "Checkout \ud800 down"}}}
    response = await world.requester.view_submission(
        opened.response["view"]["id"], user_id=ALICE, values=values
    )
    assert response.status == 200
    row = await world.settled()
    assert row.title == "Checkout \ufffd down"
    async with world.sb.core.engine.connect() as conn:
        assert await conn.scalar(Incident.__table__.select().with_only_columns(Incident.title)) == (
            "Checkout \ufffd down"
        )


async def test_odd_pagerduty_webhooks_get_400_and_one_log_line(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.incident("declare sev1 service:checkout Checkout down")
    row = await world.settled()
    (key,) = world.pagerduty.incidents
    event = json.loads(acknowledged(key))
    odd = [
        b"[" * 100_000 + b"]" * 100_000,  # a RecursionError, and a 500, before
        b'{"event": "\xff"}',
        json.dumps({"event": event["event"] | {"event_type": 7}}).encode(),
        json.dumps({"event": event["event"] | {"agent": "Dana"}}).encode(),
        json.dumps({"event": event["event"] | {"data": {"incident_key": ["x"]}}}).encode(),
        json.dumps([event]).encode(),
    ]
    assert [await post(world, body) for body in odd] == [400] * len(odd)
    refusals = [r for r in caplog.records if "refused a PagerDuty webhook" in r.getMessage()]
    assert len(refusals) == len(odd)
    assert not any(r.exc_info for r in caplog.records)
    assert (await world.settled()).acknowledged_at is None
    # The agent's name with a lone surrogate is stored and posted cleaned.
    event["event"]["agent"]["summary"] = "Dana \ud800"
    assert await post(world, json.dumps(event).encode()) == 200
    await world.until(lambda incident: incident.acknowledged_at is not None)
    assert "Dana \ufffd acknowledged the page for *Checkout*." in world.texts(row.channel_id)

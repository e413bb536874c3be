"""What FakePagerDuty and FakeOpsgenie do on their own, driven with raw HTTP: the checks
and answers the pagers never provoke."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from switchboard.fakes.pagers import FakeOpsgenie, FakePagerDuty


async def post(
    http: aiohttp.ClientSession, url: str, body: Any = None, **kwargs: Any
) -> tuple[int, Any]:
    async with http.post(url, json=body, **kwargs) as response:
        return response.status, await response.json()


def trigger(routing_key: str, **changes: Any) -> dict[str, Any]:
    payload = {"summary": "disk full", "source": "db-1", "severity": "error"}
    return {"routing_key": routing_key, "event_action": "trigger", "payload": payload} | changes


# PagerDuty


async def test_pagerduty_lists_every_problem_of_an_invalid_event(
    http: aiohttp.ClientSession, pagerduty: FakePagerDuty
) -> None:
    event = {"routing_key": "short", "event_action": "trigger", "payload": {"severity": "bad"}}
    status, body = await post(http, pagerduty.base_url + "/v2/enqueue", event)
    assert status == 400
    assert (body["status"], body["message"]) == ("invalid event", "Event object is invalid")
    assert body["errors"] == [
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "'payload.summary' is missing or blank",
        "'payload.source' is missing or blank",
        "'payload.severity' is invalid (must be one of: critical, error, warning, info)",
    ]


async def test_pagerduty_needs_a_dedup_key_to_acknowledge(
    http: aiohttp.ClientSession, pagerduty: FakePagerDuty
) -> None:
    event = {"routing_key": pagerduty.add_service(), "event_action": "acknowledge"}
    status, body = await post(http, pagerduty.base_url + "/v2/enqueue", event)
    assert status == 400
    assert body["errors"] == ["'dedup_key' is required for acknowledge events"]


async def test_pagerduty_refuses_what_is_not_json(
    http: aiohttp.ClientSession, pagerduty: FakePagerDuty
) -> None:
    async with http.post(pagerduty.base_url + "/v2/enqueue", data="nope") as response:
        assert response.status == 400
        assert (await response.json())["errors"] == ["JSON parse error"]


async def test_pagerduty_makes_a_dedup_key_and_opens_a_new_incident_after_resolve(
    http: aiohttp.ClientSession, pagerduty: FakePagerDuty
) -> None:
    url, key = pagerduty.base_url + "/v2/enqueue", pagerduty.add_service()
    status, body = await post(http, url, trigger(key))
    assert (status, body["status"], body["message"]) == (202, "success", "Event processed")
    dedup_key = body["dedup_key"]
    first = pagerduty.incidents[dedup_key]

    resolve = {"routing_key": key, "event_action": "resolve", "dedup_key": dedup_key}
    await post(http, url, resolve)
    await post(http, url, resolve | {"event_action": "acknowledge"})  # too late: dropped
    await post(http, url, trigger(key, dedup_key=dedup_key))

    assert first.status == "resolved"
    assert pagerduty.incidents[dedup_key] is not first
    assert pagerduty.incidents[dedup_key].status == "triggered"
    assert [e["event_action"] for e in pagerduty.dropped] == ["acknowledge"]


async def test_pagerduty_drops_follow_ups_from_another_routing_key(
    http: aiohttp.ClientSession, pagerduty: FakePagerDuty
) -> None:
    url, key, other = (
        pagerduty.base_url + "/v2/enqueue",
        pagerduty.add_service(),
        pagerduty.add_service(),
    )
    await post(http, url, trigger(key, dedup_key="db-1/disk"))
    await post(
        http, url, {"routing_key": other, "event_action": "resolve", "dedup_key": "db-1/disk"}
    )
    assert pagerduty.incidents["db-1/disk"].status == "triggered"
    assert len(pagerduty.dropped) == 1


async def test_faults_run_out_after_their_times(
    http: aiohttp.ClientSession, pagerduty: FakePagerDuty
) -> None:
    url, key = pagerduty.base_url + "/v2/enqueue", pagerduty.add_service()
    pagerduty.fail("*", status=429, times=2)
    statuses = [(await post(http, url, trigger(key)))[0] for _ in range(3)]
    assert statuses == [429, 429, 202]
    assert [r.status for r in pagerduty.requests] == statuses


def test_a_fault_for_an_unknown_action_is_a_test_bug(pagerduty: FakePagerDuty) -> None:
    with pytest.raises(ValueError, match="unknown path or action 'trigerr'"):
        pagerduty.fail("trigerr", status=500)
    with pytest.raises(ValueError, match="give status, delay or both"):
        pagerduty.fail("trigger")


# Opsgenie


def auth(fake: FakeOpsgenie) -> dict[str, str]:
    return {"Authorization": f"GenieKey {fake.api_key}"}


async def test_opsgenie_needs_its_genie_key(
    http: aiohttp.ClientSession, opsgenie: FakeOpsgenie
) -> None:
    status, body = await post(http, opsgenie.base_url + "/v2/alerts", {"message": "hi"})
    assert status == 401
    assert body["message"] == "Could not authenticate"
    assert set(body) == {"message", "took", "requestId"}


async def test_opsgenie_names_each_unprocessable_field(
    http: aiohttp.ClientSession, opsgenie: FakeOpsgenie
) -> None:
    alert = {"message": " ", "priority": "P9", "responders": [{"name": "x", "type": "bb"}]}
    status, body = await post(http, opsgenie.base_url + "/v2/alerts", alert, headers=auth(opsgenie))
    assert status == 422
    assert body["message"] == "Request body is not processable. Please check the errors."
    assert body["errors"] == {
        "message": "Message can not be empty.",
        "priority": "Invalid priority [P9]",
        "responders#type": "Invalid recipient type 'bb'",
    }


async def test_opsgenie_acts_by_id_or_tiny_id_and_accepts_unknown_alerts(
    http: aiohttp.ClientSession, opsgenie: FakeOpsgenie
) -> None:
    base, headers = opsgenie.base_url + "/v2/alerts", auth(opsgenie)
    await post(http, base, {"message": "disk full", "alias": "db-1/disk"}, headers=headers)
    alert = opsgenie.alerts["db-1/disk"]
    assert alert.priority == "P3"

    await post(http, f"{base}/{alert.id}/acknowledge", {}, headers=headers)
    assert alert.status == "acked"
    await post(
        http,
        f"{base}/{alert.tiny_id}/close",
        {},
        headers=headers,
        params={"identifierType": "tiny"},
    )
    assert alert.status == "closed"
    status, body = await post(
        http, f"{base}/nope/close", {}, headers=headers, params={"identifierType": "alias"}
    )
    assert (status, body["result"]) == (202, "Request will be processed")

    status, body = await post(
        http, f"{base}/nope/close", {}, headers=headers, params={"identifierType": "name"}
    )
    assert status == 422


async def test_opsgenie_opens_a_new_alert_for_the_alias_of_a_closed_one(
    http: aiohttp.ClientSession, opsgenie: FakeOpsgenie
) -> None:
    base, headers = opsgenie.base_url + "/v2/alerts", auth(opsgenie)
    await post(http, base, {"message": "disk full", "alias": "a"}, headers=headers)
    first = opsgenie.alerts["a"]
    await post(http, f"{base}/a/close", {}, headers=headers, params={"identifierType": "alias"})
    await post(http, base, {"message": "disk full again", "alias": "a"}, headers=headers)
    assert opsgenie.alerts["a"] is not first
    assert (opsgenie.alerts["a"].status, first.status) == ("open", "closed")

"""`GET /metrics` as Prometheus scrapes it, after real signed requests to a running app."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client.parser import text_string_to_metric_families

from switchboard.bot.platform.jobs import Job, Jobs, Run, every
from tests.conftest import eventually
from tests.incidents.conftest import ALICE, World

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(world: World) -> tuple[str, Samples]:
    url = world.requester.app_url.replace("/slack/events", "/metrics")
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        content_type, text = response.headers["Content-Type"], await response.text()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return content_type, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_acks_slack_calls_and_open_incidents(world: World) -> None:
    requester = world.requester
    world.slack.fail("conversations.setTopic", error="fatal_error")  # one failed Slack call
    await world.incident("declare sev2 service:checkout Checkout is slow")
    await eventually(lambda: world.slack.calls("conversations.setTopic"))
    await world.retry()  # the topic, this time
    row = await world.settled()
    await requester.slash_command("/owner", "checkout", user_id=ALICE, channel_id=world.elsewhere)
    await requester.slash_command(
        "/owner", "x", user_id=ALICE, channel_id=world.elsewhere, signature="v0=forged"
    )
    await requester.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    suggestion = {
        "type": "block_suggestion",
        "action_id": "incident_services",
        "block_id": "services",
        "value": "check",
        "user": {"id": ALICE},
        "team": {"id": world.slack.team.team_id},
        "view": {"id": "V1", "type": "modal"},
    }
    await requester.raw(urlencode({"payload": json.dumps(suggestion)}).encode())
    _, before = await scrape(world)
    assert value(before, "switchboard_incidents_open") == 1  # read at scrape time
    card = world.slack.messages(row.channel_id)[0]
    await requester.block_actions(
        [{"action_id": "incident_resolve", "type": "button", "value": "1"}],
        user_id=ALICE,
        channel_id=row.channel_id,
        message=card.ts,
    )
    # The resolve's Slack steps (the topic among them) follow its ack: wait for them, or the
    # scrape races them.
    await world.until(lambda incident: incident.resolved_at is not None)

    content_type, samples = await scrape(world)

    assert content_type.startswith("text/plain; version=0.0.4")
    requests = "switchboard_slack_requests_total"
    assert value(samples, requests, kind="command", outcome="ok") == 2
    assert value(samples, requests, kind="unknown", outcome="unsigned") == 1
    assert value(samples, requests, kind="event", outcome="ok") == 1
    assert value(samples, requests, kind="options", outcome="ok") == 1
    assert value(samples, requests, kind="interaction", outcome="ok") == 1
    assert value(samples, "switchboard_ack_seconds_count", kind="command") == 2
    within_3s = value(samples, "switchboard_ack_seconds_bucket", kind="command", le="3.0")
    assert within_3s == 2
    calls = "switchboard_slack_api_calls_total"
    assert value(samples, calls, method="conversations.create") == 1
    # The failed one, its retry, the resolve's.
    topics = len(world.slack.calls("conversations.setTopic"))
    assert topics == 3 and value(samples, calls, method="conversations.setTopic") == topics
    assert value(samples, calls, method="chat.postMessage") >= 2  # card and announcement
    errors = "switchboard_slack_api_errors_total"
    assert value(samples, errors, method="conversations.setTopic", error="fatal_error") == 1
    assert sum(v for (name, _), v in samples.items() if name == errors) == 1


async def test_scheduled_jobs_run_and_fail_by_name(world: World) -> None:
    async def broken(run: Run) -> str:
        raise RuntimeError("the job broke")

    scheduler = AsyncIOScheduler(timezone=world.sb.core.config.tz)
    world.sb.jobs.schedule(scheduler, world.sb.core.metrics)
    Jobs([Job("broken", "always fails", every(world.sb.core.config.tz, hours=1), broken)]).schedule(
        scheduler, world.sb.core.metrics
    )
    await scheduler.get_job("forget-events").func()
    await scheduler.get_job("forget-events").func()
    await scheduler.get_job("broken").func()  # logged with the job's name, not raised

    _, samples = await scrape(world)

    assert value(samples, "switchboard_jobs_run_total", job="forget-events") == 2
    assert value(samples, "switchboard_jobs_failed_total", job="forget-events") == 0
    assert value(samples, "switchboard_jobs_run_total", job="broken") == 1
    assert value(samples, "switchboard_jobs_failed_total", job="broken") == 1


async def test_two_apps_in_one_process_count_apart(world: World) -> None:
    """Each app has its own registry: nothing counted elsewhere shows up here."""
    _, samples = await scrape(world)
    assert value(samples, "switchboard_slack_requests_total", kind="command", outcome="ok") == 0
    assert value(samples, "switchboard_incidents_open") == 0

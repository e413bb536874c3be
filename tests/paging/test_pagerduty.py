"""PagerDutyPager against FakePagerDuty over real HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from switchboard.bot.catalog.model import OnCall
from switchboard.bot.paging import PagerDutyPager, PageReceipt, PagingError
from switchboard.fakes.pagers import FakePagerDuty
from tests.paging.helpers import FAST, assert_secret_free, page


@pytest.fixture
def service(pagerduty: FakePagerDuty) -> OnCall:
    return OnCall("pagerduty", "service", "PABC123", pagerduty.add_service())


async def test_trigger_acknowledge_resolve(
    pd_pager: PagerDutyPager, pagerduty: FakePagerDuty, service: OnCall
) -> None:
    sent = page(service)
    receipt = await pd_pager.trigger(sent)

    assert receipt == PageReceipt("pagerduty", "switchboard-INC-42-pagerduty-service-PABC123")
    incident = pagerduty.incidents[receipt.key]
    assert (incident.status, incident.severity) == ("triggered", "critical")
    assert incident.summary == "INC-42 SEV1: Checkout is down"
    event = incident.events[0]
    assert event["payload"]["source"] == "switchboard"
    assert event["payload"]["custom_details"] == {
        "incident": "INC-42",
        "channel": "C0INC42",
        "link": "https://example.slack.com/archives/C0INC42",
        "service": "Payments API",
    }
    assert event["links"] == [{"href": sent.link, "text": "INC-42 in Slack"}]

    await pd_pager.acknowledge(sent, receipt)
    assert incident.status == "acknowledged"
    await pd_pager.resolve(sent, receipt)
    assert incident.status == "resolved"
    assert [e["event_action"] for e in incident.events] == ["trigger", "acknowledge", "resolve"]
    assert not pagerduty.dropped


async def test_a_retried_trigger_keeps_one_incident(
    pd_pager: PagerDutyPager, pagerduty: FakePagerDuty, service: OnCall
) -> None:
    first = await pd_pager.trigger(page(service))
    again = await pd_pager.trigger(page(service))

    assert first == again
    assert list(pagerduty.incidents) == [first.key]
    assert len(pagerduty.incidents[first.key].events) == 2


@pytest.mark.parametrize(("rank", "severity"), [(1, "error"), (2, "warning"), (5, "info")])
async def test_severity_follows_the_rank(
    pd_pager: PagerDutyPager, pagerduty: FakePagerDuty, service: OnCall, rank: int, severity: str
) -> None:
    receipt = await pd_pager.trigger(page(service, severity_rank=rank))
    assert pagerduty.incidents[receipt.key].severity == severity


async def test_no_link_sends_no_links_and_a_long_title_is_cut(
    pd_pager: PagerDutyPager, pagerduty: FakePagerDuty, service: OnCall
) -> None:
    receipt = await pd_pager.trigger(page(service, link="", title="x" * 2000))
    event = pagerduty.incidents[receipt.key].events[0]
    assert "links" not in event
    assert len(event["payload"]["summary"]) == 1024


async def test_a_target_without_integration_key_is_not_sent(
    pd_pager: PagerDutyPager, pagerduty: FakePagerDuty
) -> None:
    with pytest.raises(PagingError) as raised:
        await pd_pager.trigger(page(OnCall("pagerduty", "escalation_policy", "PESC1")))
    assert str(raised.value) == (
        "PagerDuty escalation policy PESC1 has no integration key in the catalog"
    )
    assert not raised.value.retryable
    assert not pagerduty.requests


async def test_a_rejected_event_is_not_retryable_and_names_the_reason(
    pd_pager: PagerDutyPager, pagerduty: FakePagerDuty
) -> None:
    key = "not-a-32-character-routing-key"
    with pytest.raises(PagingError) as raised:
        await pd_pager.trigger(page(OnCall("pagerduty", "service", "PABC123", key)))

    assert pagerduty.requests[0].status == 400
    assert not raised.value.retryable
    assert "(400): Length of 'routing_key' is incorrect" in str(raised.value)
    assert_secret_free(raised.value, key)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_rate_limits_and_server_errors_are_retryable(
    pd_pager: PagerDutyPager, pagerduty: FakePagerDuty, service: OnCall, status: int
) -> None:
    pagerduty.fail("trigger", status=status)
    with pytest.raises(PagingError) as raised:
        await pd_pager.trigger(page(service))
    assert raised.value.retryable
    assert str(status) in str(raised.value)
    assert_secret_free(raised.value, service.integration_key)

    await pd_pager.trigger(page(service))  # the retry goes through
    assert len(pagerduty.incidents) == 1


async def test_a_slow_answer_times_out_as_retryable(
    pd_pager: PagerDutyPager, pagerduty: FakePagerDuty, service: OnCall
) -> None:
    pagerduty.fail("/v2/enqueue", delay=FAST * 3)
    with pytest.raises(PagingError) as raised:
        await pd_pager.trigger(page(service))
    assert raised.value.retryable
    assert str(raised.value) == f"PagerDuty did not answer within {FAST:g} s"


async def test_an_unreachable_pagerduty_is_retryable(
    http: aiohttp.ClientSession, service: OnCall
) -> None:
    async with FakePagerDuty() as gone:
        url = gone.base_url
    pager = PagerDutyPager(lambda: http, url, timeout=FAST)
    with pytest.raises(PagingError) as raised:
        await pager.trigger(page(service))
    assert raised.value.retryable
    assert str(raised.value).startswith("Could not reach PagerDuty")
    assert_secret_free(raised.value, service.integration_key)


async def test_an_unknown_routing_key_is_accepted_and_dropped_as_pagerduty_does(
    pd_pager: PagerDutyPager, pagerduty: FakePagerDuty
) -> None:
    stranger = OnCall("pagerduty", "service", "PNOPE", "0" * 32)
    await pd_pager.trigger(page(stranger))
    assert not pagerduty.incidents
    assert [e["routing_key"] for e in pagerduty.dropped] == ["0" * 32]

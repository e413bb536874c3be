"""OpsgeniePager against FakeOpsgenie over real HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from switchboard.bot.catalog.model import OnCall
from switchboard.bot.paging import OpsgeniePager, PageReceipt, PagingError
from switchboard.fakes.pagers import FakeOpsgenie
from tests.paging.helpers import FAST, assert_secret_free, page

TEAM = OnCall("opsgenie", "team", "payments")


async def test_trigger_acknowledge_close(og_pager: OpsgeniePager, opsgenie: FakeOpsgenie) -> None:
    sent = page(TEAM)
    receipt = await og_pager.trigger(sent)

    assert receipt == PageReceipt("opsgenie", "switchboard-INC-42-opsgenie-team-payments")
    alert = opsgenie.alerts[receipt.key]
    assert (alert.status, alert.priority) == ("open", "P1")
    assert alert.message == "INC-42: Checkout is down"
    assert alert.responders == [{"name": "payments", "type": "team"}]
    assert alert.body["source"] == "switchboard"
    assert alert.body["tags"] == ["switchboard", "INC-42", "SEV1"]
    assert alert.body["details"]["link"] == sent.link
    assert opsgenie.requests[0].status == 202
    assert opsgenie.requests[0].response["result"] == "Request will be processed"

    await og_pager.acknowledge(sent, receipt)
    assert alert.status == "acked"
    await og_pager.resolve(sent, receipt)
    assert alert.status == "closed"
    assert [(r.action, r.params) for r in opsgenie.requests[1:]] == [
        ("acknowledge", {"identifierType": "alias"}),
        ("close", {"identifierType": "alias"}),
    ]


async def test_a_schedule_is_a_schedule_responder(
    og_pager: OpsgeniePager, opsgenie: FakeOpsgenie
) -> None:
    receipt = await og_pager.trigger(page(OnCall("opsgenie", "schedule", "payments_rota")))
    assert opsgenie.alerts[receipt.key].responders == [
        {"name": "payments_rota", "type": "schedule"}
    ]


async def test_a_retried_trigger_keeps_one_alert(
    og_pager: OpsgeniePager, opsgenie: FakeOpsgenie
) -> None:
    first = await og_pager.trigger(page(TEAM))
    again = await og_pager.trigger(page(TEAM))

    assert first == again
    assert list(opsgenie.alerts) == [first.key]
    assert opsgenie.alerts[first.key].count == 2


async def test_priority_follows_the_rank_and_a_long_title_is_cut(
    og_pager: OpsgeniePager, opsgenie: FakeOpsgenie
) -> None:
    receipt = await og_pager.trigger(page(TEAM, severity_rank=9, title="y" * 500))
    alert = opsgenie.alerts[receipt.key]
    assert alert.priority == "P5"
    assert len(alert.message) == 130


async def test_a_target_opsgenie_cannot_route_to_is_not_sent(
    og_pager: OpsgeniePager, opsgenie: FakeOpsgenie
) -> None:
    with pytest.raises(PagingError) as raised:
        await og_pager.trigger(page(OnCall("opsgenie", "service", "checkout")))
    assert not raised.value.retryable
    assert "Opsgenie service checkout cannot be paged" in str(raised.value)
    assert not opsgenie.requests


async def test_a_wrong_key_is_not_retryable_and_never_echoed(
    http: aiohttp.ClientSession, opsgenie: FakeOpsgenie
) -> None:
    wrong = "11111111-2222-3333-4444-555555555555"
    pager = OpsgeniePager(lambda: http, wrong, opsgenie.base_url, timeout=FAST)
    with pytest.raises(PagingError) as raised:
        await pager.trigger(page(TEAM))

    assert str(raised.value) == (
        "Opsgenie rejected Switchboard's key (401): Could not authenticate"
    )
    assert not raised.value.retryable
    assert_secret_free(raised.value, wrong, opsgenie.api_key)
    assert not opsgenie.alerts


@pytest.mark.parametrize(
    ("status", "retryable"), [(403, False), (422, False), (429, True), (500, True), (502, True)]
)
async def test_status_decides_whether_a_retry_may_help(
    og_pager: OpsgeniePager, opsgenie: FakeOpsgenie, status: int, retryable: bool
) -> None:
    opsgenie.fail("create", status=status)
    with pytest.raises(PagingError) as raised:
        await og_pager.trigger(page(TEAM))
    assert raised.value.retryable is retryable
    assert str(status) in str(raised.value)
    assert_secret_free(raised.value, opsgenie.api_key)


async def test_a_failed_close_can_be_retried(
    og_pager: OpsgeniePager, opsgenie: FakeOpsgenie
) -> None:
    sent = page(TEAM)
    receipt = await og_pager.trigger(sent)
    opsgenie.fail("/v2/alerts/{identifier}/close", status=503)
    with pytest.raises(PagingError):
        await og_pager.resolve(sent, receipt)
    assert opsgenie.alerts[receipt.key].status == "open"
    await og_pager.resolve(sent, receipt)
    assert opsgenie.alerts[receipt.key].status == "closed"


async def test_a_slow_answer_times_out_as_retryable(
    og_pager: OpsgeniePager, opsgenie: FakeOpsgenie
) -> None:
    opsgenie.fail("create", delay=FAST * 3)
    with pytest.raises(PagingError) as raised:
        await og_pager.trigger(page(TEAM))
    assert raised.value.retryable
    assert str(raised.value) == f"Opsgenie did not answer within {FAST:g} s"

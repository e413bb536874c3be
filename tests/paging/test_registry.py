"""Pagers: which pager pages a catalog target, and the error when none is configured."""

from __future__ import annotations

import pytest

from switchboard.bot.catalog.model import OnCall
from switchboard.bot.paging import OpsgeniePager, PagerDutyPager, Pagers, PagingError, SlackPager


async def post(channel_id: str, text: str) -> str:
    return "1700000000.000001"


def test_pagers_pick_by_provider(pd_pager: PagerDutyPager, og_pager: OpsgeniePager) -> None:
    slack = SlackPager(post)
    pagers = Pagers(pagerduty=pd_pager, opsgenie=og_pager, slack=slack)
    assert pagers.for_target(OnCall("pagerduty", "service", "PABC123", "k" * 32)) is pd_pager
    assert pagers.for_target(OnCall("opsgenie", "schedule", "payments")) is og_pager
    assert pagers.for_target(OnCall("slack", "usergroup", "S0ONCALL")) is slack


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ("opsgenie", "Opsgenie is not configured (OPSGENIE_API_KEY)"),
        ("pagerduty", "PagerDuty is not configured"),
        ("slack", "Slack paging is not configured"),
        ("victorops", "Cannot page through victorops"),
        ("for_target", "Cannot page through for_target"),
    ],
)
def test_an_unconfigured_provider_is_a_clear_error(provider: str, message: str) -> None:
    with pytest.raises(PagingError) as raised:
        Pagers().for_target(OnCall(provider, "team", "payments"))
    assert str(raised.value) == message
    assert not raised.value.retryable

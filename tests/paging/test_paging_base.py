"""The dedup key, the severity ladder, and what a Page or PagingError may show."""

from __future__ import annotations

import pytest

from switchboard.bot.catalog.model import OnCall
from switchboard.bot.paging import PagingError, by_rank, dedup_key
from tests.paging.helpers import page

SECRET = "0123456789abcdef0123456789abcdef"


def test_the_dedup_key_depends_on_incident_and_target_only() -> None:
    target = OnCall("pagerduty", "service", "PABC123", SECRET)
    key = dedup_key(page(target))
    assert key == "switchboard-INC-42-pagerduty-service-PABC123"
    assert dedup_key(page(target, title="Renamed", severity="SEV3", severity_rank=2)) == key
    assert dedup_key(page(target, incident_ref="INC-43")) != key
    team = dedup_key(page(OnCall("opsgenie", "team", "payments")))
    assert team != dedup_key(page(OnCall("opsgenie", "schedule", "payments")))


def test_the_dedup_key_is_url_safe_and_short_enough_for_pagerduty() -> None:
    odd = dedup_key(page(OnCall("opsgenie", "team", "Payments / EU?")))
    assert odd == "switchboard-INC-42-opsgenie-team-Payments_EU_"
    long_a = dedup_key(page(OnCall("opsgenie", "team", "a" * 300)))
    long_b = dedup_key(page(OnCall("opsgenie", "team", "a" * 299 + "b")))
    assert len(long_a) == len(long_b) == 255
    assert long_a != long_b


@pytest.mark.parametrize(("rank", "level"), [(-1, "P1"), (0, "P1"), (4, "P5"), (7, "P5")])
def test_by_rank_clamps_to_the_provider_levels(rank: int, level: str) -> None:
    assert by_rank(("P1", "P2", "P3", "P4", "P5"), rank) == level


def test_reprs_keep_the_integration_key_out() -> None:
    assert SECRET not in repr(page(OnCall("pagerduty", "service", "PABC123", SECRET)))
    error = PagingError("PagerDuty refused the page (400)", retryable=False)
    assert repr(error) == "PagingError('PagerDuty refused the page (400)', retryable=False)"

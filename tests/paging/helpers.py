"""Pages to send and the check that a PagingError gives no secret away."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from switchboard.bot.catalog.model import OnCall
from switchboard.bot.paging import Page, PagingError

FAST = 0.2  # seconds: the pagers' timeout in tests, so a timeout test stays quick


def page(target: OnCall, **changes: Any) -> Page:
    base = Page(
        incident_ref="INC-42",
        title="Checkout is down",
        severity="SEV1",
        severity_rank=0,
        service="Payments API",
        target=target,
        channel_id="C0INC42",
        link="https://example.slack.com/archives/C0INC42",
    )
    return replace(base, **changes)


def assert_secret_free(error: PagingError, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(error)
        assert secret not in repr(error)

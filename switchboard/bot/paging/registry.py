"""Which pager pages a catalog on-call target."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.bot.catalog.api import OnCall
from switchboard.bot.paging.base import Pager, PagingError

# Why a target cannot be paged when its provider's pager was not built, naming what to set.
NOT_CONFIGURED = {
    "pagerduty": "PagerDuty is not configured",
    "opsgenie": "Opsgenie is not configured (OPSGENIE_API_KEY)",
    "slack": "Slack paging is not configured",
}


@dataclass(frozen=True, slots=True)
class Pagers:
    """The pagers the app could build; a provider left as None is not configured."""

    pagerduty: Pager | None = None
    opsgenie: Pager | None = None
    slack: Pager | None = None

    def for_target(self, target: OnCall) -> Pager:
        pagers = {"pagerduty": self.pagerduty, "opsgenie": self.opsgenie, "slack": self.slack}
        pager = pagers.get(target.provider)
        if pager is not None:
            return pager
        message = NOT_CONFIGURED.get(target.provider, f"Cannot page through {target.provider}")
        raise PagingError(message, retryable=False)

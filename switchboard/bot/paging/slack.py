"""Paging a Slack user group or person: a message in the incident channel that mentions
them, which is what notifies them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from switchboard.bot.paging.base import Page, PageReceipt, PagingError
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.bot.platform.text import escape, safe

# The gateway's `post`: puts `text` in a channel, returns the message ts, raises SlackFailure.
Post = Callable[[str, str], Awaitable[str]]

_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
TITLE_LIMIT = 500


class SlackPager:
    provider = "slack"

    def __init__(self, post: Post) -> None:
        self._post = post

    async def trigger(self, page: Page) -> PageReceipt:
        try:
            ts = await self._post(page.channel_id, message(page))
        except SlackFailure as failure:
            # The gateway already retried what its client could and says whether more may help.
            raise PagingError(
                f"Could not post the page in the incident channel ({failure.error})",
                retryable=failure.retryable,
            ) from failure
        return PageReceipt(self.provider, ts)

    async def acknowledge(self, page: Page, receipt: PageReceipt) -> None:
        """Nothing to do: a mention cannot be acknowledged."""

    async def resolve(self, page: Page, receipt: PageReceipt) -> None:
        """Nothing to do: a mention cannot be resolved."""


def message(page: Page) -> str:
    return (
        f"{mention(page.target.target_type, page.target.target_id)} you are paged for "
        f"*{escape(page.incident_ref)}* ({escape(page.severity)}, {escape(page.service)}): "
        f"{safe(page.title, TITLE_LIMIT)}"
    )


def mention(target_type: str, target_id: str) -> str:
    """A ping for a user group or user id. A handle such as "@team-oncall" is shown as
    plain text, because Slack only pings ids."""
    if target_type == "usergroup" and _USERGROUP_ID.match(target_id):
        return f"<!subteam^{target_id}>"
    if target_type == "user" and _USER_ID.match(target_id):
        return f"<@{target_id}>"
    return escape("@" + target_id.lstrip("@"))

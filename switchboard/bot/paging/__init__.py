"""Paging the on-call for an incident: PagerDuty, Opsgenie or a Slack mention, behind one
`Pager` protocol, chosen per catalog target by `Pagers.for_target`."""

from switchboard.bot.paging.base import (
    Page,
    Pager,
    PageReceipt,
    PagingError,
    by_rank,
    dedup_key,
)
from switchboard.bot.paging.opsgenie import OpsgeniePager
from switchboard.bot.paging.pagerduty import PagerDutyPager
from switchboard.bot.paging.registry import Pagers
from switchboard.bot.paging.slack import Post, SlackPager
from switchboard.bot.paging.transport import SessionFactory

__all__ = [
    "OpsgeniePager",
    "Page",
    "PageReceipt",
    "Pager",
    "PagerDutyPager",
    "Pagers",
    "PagingError",
    "Post",
    "SessionFactory",
    "SlackPager",
    "by_rank",
    "dedup_key",
]

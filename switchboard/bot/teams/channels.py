"""Where a scheduled message for a team goes: the team's first Slack channel in the catalog,
else `delivery.fallback_channel` with a note saying why, else nowhere (with a warning, once a
day, in the log; each run's own report says it every time)."""

from __future__ import annotations

import logging
from datetime import date

from switchboard.bot.catalog.api import CatalogReader, Entity
from switchboard.bot.platform.jobs import JobRefused
from switchboard.bot.platform.text import safe

log = logging.getLogger(__name__)


async def team_channel(owner: CatalogReader, fallback: str, team_ref: str) -> tuple[str, str]:
    """(channel, note): the note is "" in the team's own channel; channel "" means skip."""
    contacts = await owner.contacts(team_ref)
    if contacts is None:
        return fallback, _note(team_ref)
    return channel_of(contacts.entity, fallback)


def channel_of(team: Entity, fallback: str) -> tuple[str, str]:
    if team.slack_channels:
        return team.slack_channels[0], ""
    return fallback, _note(team.name)


def _note(name: str) -> str:
    return f" (here because team *{safe(name, 100)}* has no Slack channel in the catalog)"


async def team_ref(owner: CatalogReader, name: str) -> str:
    """The ref of the team an operator named (`jobs run --team NAME`), or JobRefused."""
    team, close = await owner.find(f"team:{name}")
    if team is None:
        hint = ", ".join(e.name for e in close[:5])
        raise JobRefused(f"no team called {name!r}" + (f" (did you mean {hint}?)" if hint else ""))
    return team.ref


class SkipLog:
    """Warns of each skipped team once a day: jobs that look every few minutes would
    otherwise fill the log with the same line."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._warned: dict[date, set[str]] = {}

    @staticmethod
    def skipped(who: str) -> str:
        return f"skipped {who}: the team has no Slack channel in the catalog"

    def warn(self, today: date, lines: list[str]) -> None:
        warned = self._warned.get(today, set())
        for line in sorted(set(lines) - warned):
            log.warning("%s: %s (set delivery.fallback_channel)", self._what, line)
        self._warned = {today: warned | set(lines)}
